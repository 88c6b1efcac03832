"""Built-in block: vgg_stage (being written)."""
