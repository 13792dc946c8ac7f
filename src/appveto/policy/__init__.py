"""policy layer (see DESIGN.md)."""
