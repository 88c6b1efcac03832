"""Built-in block: fire (being written)."""
