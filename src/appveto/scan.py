"""scan (see DESIGN.md)."""
