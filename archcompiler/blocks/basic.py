"""Built-in block: basic (being written)."""
