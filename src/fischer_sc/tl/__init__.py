"""Tools: each takes an :class:`~anndata.AnnData` first and writes its results into it (scanpy's contract)."""

from ._binaps import binaps
from ._dash import dash_grn
from ._diffnaps import diffnaps
from ._dtsne import dtsne
from ._factor_out import factor_out
from ._mercat import mercat

__all__ = ["binaps", "dash_grn", "diffnaps", "dtsne", "factor_out", "mercat"]
