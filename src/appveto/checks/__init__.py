"""checks layer (see DESIGN.md)."""
