"""report layer (see DESIGN.md): it renders documents, it never reads APKs.

Every (document, format) has one renderer in :mod:`appveto.report.registry`; the modules
of this package register theirs (a new format is a new module here and its test).
"""
