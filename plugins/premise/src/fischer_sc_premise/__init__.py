"""Premise as a fischer_sc plugin: MDL token patterns that separate a classifier's errors from its hits."""

from ._premise import premise
from ._synthetic import PlantedErrors, planted_errors

__all__ = ["PlantedErrors", "planted_errors", "premise"]
