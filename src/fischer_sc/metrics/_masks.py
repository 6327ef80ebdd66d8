"""Recovery of a ground-truth sparsity pattern: pruning masks (planted tickets) or network edges (GRNs)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["mask_recovery"]


def _as_masks(masks: Sequence[np.ndarray] | np.ndarray, name: str) -> list[np.ndarray]:
    if isinstance(masks, np.ndarray) and masks.dtype != object:
        masks = [masks]
    if isinstance(masks, str | bytes) or not isinstance(masks, Sequence | np.ndarray):
        msg = f"{name} must be a list of boolean arrays (one per weight matrix), got {type(masks).__name__}."
        raise TypeError(msg)
    out = []
    for i, m in enumerate(masks):
        # Accept torch tensors and other array-likes without importing torch.
        a = np.asarray(m.detach().cpu().numpy() if hasattr(m, "detach") else m)
        if a.dtype != bool:
            if a.dtype.kind not in "iuf" or not np.isin(a, (0, 1)).all():
                msg = f"{name}[{i}] must be boolean (or 0/1), got dtype {a.dtype}."
                raise TypeError(msg)
            a = a.astype(bool)
        out.append(a)
    if not out:
        msg = f"{name} is empty; pass one mask per weight matrix."
        raise ValueError(msg)
    return out


def mask_recovery(pred_masks: Sequence[np.ndarray], true_masks: Sequence[np.ndarray]) -> dict[str, float]:
    """How well predicted masks recover the true ones, pooled over all entries of all masks.

    Parameters
    ----------
    pred_masks
        Boolean arrays (kept = ``True``), one per weight matrix; a single array is one matrix.
    true_masks
        The ground truth, same number and shapes.

    Returns
    -------
    A dict with ``precision`` (true kept / kept), ``recall`` (true kept / truly non-zero), ``f1``,
    ``jaccard`` (intersection over union) and ``density`` (the predicted kept fraction). A ratio with a
    zero denominator is 0 (for ``jaccard`` of two empty masks: 1).

    Examples
    --------
    >>> import numpy as np
    >>> import fischer_sc as fs
    >>> fs.metrics.mask_recovery([np.array([1, 1, 0, 0], bool)], [np.array([1, 0, 1, 0], bool)])["f1"]
    0.5
    """
    pred = _as_masks(pred_masks, "pred_masks")
    true = _as_masks(true_masks, "true_masks")
    if len(pred) != len(true):
        msg = f"got {len(pred)} predicted masks but {len(true)} true masks; pass one per weight matrix."
        raise ValueError(msg)
    tp = kept = pos = union = total = 0
    for i, (p, t) in enumerate(zip(pred, true, strict=True)):
        if p.shape != t.shape:
            msg = f"pred_masks[{i}] has shape {p.shape} but true_masks[{i}] has {t.shape} (same orientation needed)."
            raise ValueError(msg)
        tp += int(np.count_nonzero(p & t))
        kept += int(np.count_nonzero(p))
        pos += int(np.count_nonzero(t))
        union += int(np.count_nonzero(p | t))
        total += p.size
    precision = tp / kept if kept else 0.0
    recall = tp / pos if pos else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "jaccard": float(tp / union) if union else 1.0,
        "density": float(kept / total) if total else 0.0,
    }
