"""Small torch models for federations of tabular data (digits, PCA coordinates of cells)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn


def mlp(n_features: int, n_classes: int, hidden: int | Sequence[int] = 64) -> nn.Sequential:
    """A ReLU multilayer perceptron from ``n_features`` inputs through the ``hidden`` layers to ``n_classes`` logits.

    The default (one hidden layer of 64) is the model of the digits set-up used to evaluate FedDC here.
    """
    sizes = [int(hidden)] if isinstance(hidden, int) else [int(h) for h in hidden]
    if n_features < 1 or n_classes < 2 or any(h < 1 for h in sizes):
        msg = f"mlp needs n_features >= 1, n_classes >= 2 and positive hidden sizes, got {n_features}, {n_classes}, {sizes}."
        raise ValueError(msg)
    layers: list[nn.Module] = []
    prev = n_features
    for h in sizes:
        layers += [nn.Linear(prev, h), nn.ReLU()]
        prev = h
    layers.append(nn.Linear(prev, n_classes))
    return nn.Sequential(*layers)
