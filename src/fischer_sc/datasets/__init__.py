"""Data: synthetic generators with planted ground truth, and loaders for data that ships with installed packages."""

from ._shipped import krumsiek11, pbmc68k_reduced

__all__ = ["krumsiek11", "pbmc68k_reduced"]
