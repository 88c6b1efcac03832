"""Built-in block: transition (being written)."""
