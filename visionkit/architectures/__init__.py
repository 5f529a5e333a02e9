"""Built-in model architectures, registered through the architecture hook."""
