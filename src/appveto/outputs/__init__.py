"""Everything appveto writes for people and other programs goes through this package.

* :mod:`appveto.outputs.files`: the one writer of output files (atomic, never over an
  input or the store, no symbolic link followed, collisions detected, mode 0666 minus
  the umask);
* one escaping rule per medium: :mod:`~appveto.outputs.terminal` (control, line-breaking
  and bidi characters become visible escapes), :mod:`~appveto.outputs.csvcells`
  (spreadsheet formulas neutralised), :mod:`~appveto.outputs.htmltext` (autoescape,
  bidi isolated with ``<bdi>``), :mod:`~appveto.outputs.mail` (addresses built with
  :class:`email.headerregistry.Address`, line breaks refused);
* :mod:`~appveto.outputs.lifeline`: worker processes that die with their parent.

It sits just above :mod:`appveto.errors` so that every layer can use it (DESIGN.md,
convention 12: one writer, one escaper).
"""
