"""Training: run configs, the mlx-lm runner and its supervisor, metrics events, log parsers, memory."""
