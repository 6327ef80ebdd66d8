"""2x2 grids of distinct, correctly classified digits for the grid pointing game (offline digits protocol)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from ._digits import QUADRANTS, digit_canvases, predict


@dataclass
class DigitGrids:
    """2x2 mosaics of four digits of four different classes.

    Attributes
    ----------
    x
        ``(G, 1, 16, 16)`` float32 grids.
    classes
        ``(G, 4)`` the class in each quadrant (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right).
    regions
        ``(4, 16, 16)`` boolean masks of the quadrants.
    indices
        ``(G, 4)`` positions of the digits in the image set they were drawn from.
    """

    x: np.ndarray
    classes: np.ndarray
    regions: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return self.x.shape[0]


def quadrant_masks(size: int = 16) -> np.ndarray:
    """Boolean masks ``(4, size, size)`` of the four quadrants."""
    half = size // 2
    masks = np.zeros((4, size, size), dtype=bool)
    for j, (r, c) in enumerate(QUADRANTS):
        r, c = r * size // 16, c * size // 16
        masks[j, r : r + half, c : c + half] = True
    return masks


def make_digit_grids(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    n_grids: int = 300,
    random_state: int = 0,
) -> DigitGrids:
    """Draw 2x2 grids of four 8x8 digits of four distinct classes, each classified correctly on its own.

    For every grid four distinct classes are drawn and put in a random quadrant order; each
    quadrant gets a digit of its class that ``model`` classifies correctly when it is shown alone
    at that quadrant of a blank 16x16 canvas (the standard filter of the pointing game).

    Parameters
    ----------
    model
        A classifier of ``(n, 1, 16, 16)`` canvases (e.g. :func:`train_digits_model`).
    images, labels
        The digits to draw from, ``(n, 8, 8)`` in [0, 1] and ``(n,)`` (use held-out digits).
    n_grids
        Number of grids.
    random_state
        Seed of the draws.

    Returns
    -------
    DigitGrids
    """
    images = np.asarray(images, dtype=np.float32)
    labels = np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (8, 8) or labels.shape != images.shape[:1]:
        msg = f"images must be (n, 8, 8) with labels (n,); got {images.shape} and {labels.shape}."
        raise ValueError(msg)
    if not isinstance(n_grids, int | np.integer) or n_grids < 1:
        msg = f"n_grids={n_grids!r} must be a positive integer."
        raise ValueError(msg)
    correct = np.stack([predict(model, digit_canvases(images, q)) == labels for q in range(4)])  # (4, n)
    pools = {(q, c): np.flatnonzero(correct[q] & (labels == c)) for q in range(4) for c in np.unique(labels)}
    usable = sorted({c for (_q, c), idx in pools.items() if all(len(pools[(q, c)]) for q in range(4)) and len(idx)})
    if len(usable) < 4:
        msg = f"only {len(usable)} classes have correctly classified digits at every quadrant; 4 are needed (train the model longer)."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    classes = np.empty((n_grids, 4), dtype=np.int64)
    indices = np.empty((n_grids, 4), dtype=np.int64)
    for g in range(n_grids):
        classes[g] = rng.choice(usable, size=4, replace=False)  # random classes in random quadrant order
        for q in range(4):
            indices[g, q] = rng.choice(pools[(q, classes[g, q])])
    x = np.zeros((n_grids, 1, 16, 16), dtype=np.float32)
    for q, (r, c) in enumerate(QUADRANTS):
        x[:, 0, r : r + 8, c : c + 8] = images[indices[:, q]]
    return DigitGrids(x=x, classes=classes, regions=quadrant_masks(16), indices=indices)
