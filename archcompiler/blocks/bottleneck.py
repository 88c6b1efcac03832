"""Built-in block: bottleneck (being written)."""
