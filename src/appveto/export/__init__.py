"""export layer (see DESIGN.md)."""
