"""Errors and warnings of the registry, each saying what to do."""

from __future__ import annotations


class PluginWarning(UserWarning):
    """A plugin could not be loaded or registered and was skipped; the rest keeps working."""


class DuplicateMethodError(ValueError):
    """Two providers registered a method under the same name."""


class UnknownMethodError(KeyError):
    """No registered method has the requested name."""

    def __str__(self) -> str:
        # KeyError would show the message in quotes; keep it readable.
        return str(self.args[0]) if self.args else ""
