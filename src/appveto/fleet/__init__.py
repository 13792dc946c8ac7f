"""fleet layer (see DESIGN.md)."""
