"""Built-in block: depthwise_sep (being written)."""
