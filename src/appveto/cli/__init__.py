"""The command line: the only code that reads argv, prints or exits."""
