"""compliance layer (see DESIGN.md)."""
