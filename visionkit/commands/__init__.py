"""Subcommands of the ``visionkit`` CLI, one module per area, imported lazily."""
