"""The one error the command line turns into a message and exit code 2, whatever command raised it."""

from __future__ import annotations


class UnusableInput(Exception):
    """Input that cannot be used at all: a missing or binary file, an invalid punie.toml, a broken
    tools file. The message names the file and the problem."""
