"""Saving and loading a trained :class:`~fischer_sc.core.ode.Phoenix` model with its metadata (one ``torch.save`` file)."""

from __future__ import annotations

from os import PathLike
from typing import Any

import torch

from ._phoenix import Phoenix


def save_phoenix(path: str | PathLike[str], model: Phoenix, meta: dict[str, Any] | None = None) -> None:
    """Write ``model`` (weights, masks, rates) and ``meta`` (plain Python values, e.g. gene names) to ``path``."""
    torch.save(
        {
            "n_genes": model.n_genes,
            "hidden_dim": model.hidden_dim,
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "meta": dict(meta or {}),
        },
        path,
    )


def load_phoenix(path: str | PathLike[str]) -> tuple[Phoenix, dict[str, Any]]:
    """Read a file of :func:`~fischer_sc.core.ode.save_phoenix`: the model (CPU, eval mode) and its metadata."""
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = Phoenix(blob["n_genes"], blob["hidden_dim"], generator=torch.Generator().manual_seed(0))
    model.load_state_dict(blob["state_dict"])
    model.eval()
    return model, blob["meta"]
