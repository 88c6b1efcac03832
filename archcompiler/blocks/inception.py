"""Built-in block: inception (being written)."""
