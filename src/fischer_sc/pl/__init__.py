"""Plotting: thin wrappers over scanpy's plotting functions, so ``color=``, ``ax``, ``show`` and ``return_fig`` work as in scanpy."""

from ._diffnaps import diffnaps
from ._embedding import dtsne, factor_out
from ._grn import grn
from ._mercat import mercat

__all__ = ["diffnaps", "dtsne", "factor_out", "grn", "mercat"]
