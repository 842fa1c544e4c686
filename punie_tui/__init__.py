"""punie-tui: a terminal workbench for fine-tuning small local models to call tools."""

__version__ = "0.1.0"
