"""Plotting: thin wrappers over scanpy's plotting functions, so ``color=``, ``ax``, ``show`` and ``return_fig`` work as in scanpy."""

from ._embedding import dtsne, factor_out

__all__ = ["dtsne", "factor_out"]
