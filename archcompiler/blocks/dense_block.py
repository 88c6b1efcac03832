"""Built-in block: dense_block (being written)."""
