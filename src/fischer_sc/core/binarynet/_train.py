"""Training loop of the BinaPs autoencoder and the DiffNaps autoencoder + class head on sparse rows.

The data stay a scipy CSR matrix; each mini-batch is densified on its own (``batch x m`` floats),
so memory is ``O(h m)`` for the weights and their optimiser state plus ``O(batch m)``, never
``O(n m)``. Imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from scipy import sparse

from ._config import BinaryNetConfig
from ._layers import binary_autoencode, clamp_, class_head_logits, sample_weights
from ._losses import pattern_length_penalty, regulariser_multiplier, w_shaped_penalty, weighted_xor_loss

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["BinaryNetResult", "fit_binary_net", "save_binary_net"]


@dataclass
class BinaryNetResult:
    """What :func:`~fischer_sc.core.binarynet.fit_binary_net` leaves behind: the continuous weights and the record of the run.

    ``weights`` (h x m, in [1/m, 1]), ``bias`` (h, <= -1), ``class_weights`` (K x h in [0, 1], or
    ``None`` without labels), ``alpha`` (the data density, the cost of a false 1), the ``train_rows``
    and ``test_rows`` of the split, and ``history`` (per-epoch loss parts).
    """

    weights: np.ndarray  # (h, m) float32 in [1/m, 1]
    bias: np.ndarray  # (h,) float32 <= -1
    class_weights: np.ndarray | None  # (K, h) float32 in [0, 1], DiffNaps only
    alpha: float  # density of the whole matrix, the weight of a false 1
    train_rows: np.ndarray
    test_rows: np.ndarray
    history: dict[str, list[float]] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)


def _dense_rows(x: sparse.csr_matrix, rows: np.ndarray, device: str) -> torch.Tensor:
    """Densify one mini-batch of sparse rows (the only dense copy of the data that ever exists)."""
    return torch.from_numpy(np.ascontiguousarray(x[rows].toarray(), dtype=np.float32)).to(device)


def _init_weights(
    cfg: BinaryNetConfig, m: int, n_classes: int, gen: torch.Generator, device: str
) -> tuple[torch.Tensor, ...]:
    h = cfg.hidden_dim
    if cfg.init == "xavier":
        w = torch.randn(h, m, generator=gen, device=device) * np.sqrt(2.0 / (h + m))
    else:
        w = torch.zeros(h, m, device=device)
    w = w.clamp_(1.0 / m, 1.0).requires_grad_(True)
    b = torch.full((h,), -1.0, device=device, requires_grad=True)
    w_c = None
    if n_classes:
        w_c = torch.randn(n_classes, h, generator=gen, device=device) * np.sqrt(2.0 / (n_classes + h))
        w_c = w_c.clamp_(0.0, 1.0)
        w_c.requires_grad_(True)
    return w, b, w_c


def _loss_parts(
    cfg: BinaryNetConfig,
    x: torch.Tensor,
    y: torch.Tensor | None,
    w: torch.Tensor,
    b: torch.Tensor,
    w_c: torch.Tensor | None,
    w_b: torch.Tensor,
    alpha: float,
    mult: float,
    w_dec: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    z, x_hat = binary_autoencode(x, w, b, w_b, w_dec)
    parts = {"reconstruction": weighted_xor_loss(x_hat, x, alpha)}
    if cfg.lambda_s > 0:
        parts["length"] = pattern_length_penalty(w, cfg.lambda_s, reduce=cfg.length_reduce)
    kappa, lam = cfg.elastic
    if kappa > 0 or lam > 0:
        parts["elastic"] = w_shaped_penalty(w, kappa * mult, lam * mult, shift=1.0 / w.shape[1])
    if w_c is not None and y is not None:
        logits = class_head_logits(z, w_c)
        parts["classification"] = cfg.lambda_c * torch.nn.functional.cross_entropy(logits, y)
        parts["accuracy"] = (logits.argmax(1) == y).float().mean().detach()
        kappa_c, lam_c = cfg.class_elastic
        if kappa_c > 0 or lam_c > 0:
            parts["class_elastic"] = w_shaped_penalty(w_c, kappa_c * mult, lam_c * mult)
    return parts


def fit_binary_net(
    x: sparse.csr_matrix,
    cfg: BinaryNetConfig,
    *,
    labels: np.ndarray | None = None,
    n_classes: int = 0,
    seed: int = 0,
    progress: bool = False,
    device: str = "cpu",
) -> BinaryNetResult:
    """Train the binarised autoencoder (and, with labels, the DiffNaps class head).

    Parameters
    ----------
    x
        Binary data, CSR (n x m) with values 0/1.
    cfg
        Hyper-parameters.
    labels
        Integer class codes 0..K-1 per row (DiffNaps), or ``None`` (BinaPs).
    n_classes
        K, the number of classes (0 without labels).
    seed
        Seed of the row permutation, the initialisation and every Bernoulli draw.
    progress
        Show a tqdm bar over epochs.
    device
        Torch device of the weights and batches (results differ between CPU and GPU).

    Returns
    -------
    The trained weights, the density ``alpha``, the train/test rows and the per-epoch history.
    """
    n, m = x.shape
    gen = torch.Generator(device=device).manual_seed(seed)
    rng = np.random.default_rng(seed)
    alpha = float(x.nnz / (n * m))  # on the full matrix, before the split
    order = rng.permutation(n)
    n_train = max(1, min(n, round(cfg.train_fraction * n)))
    train_rows, test_rows = np.sort(order[:n_train]), np.sort(order[n_train:])
    y_all = None if labels is None else torch.from_numpy(np.asarray(labels, dtype=np.int64)).to(device)
    w, b, w_c = _init_weights(cfg, m, n_classes if labels is not None else 0, gen, device)
    params = [w, b] + ([w_c] if w_c is not None else [])
    w_dec = None
    if cfg.double_update:
        # The public code registers the decoder's transposed view of the tied storage as a second
        # parameter, so every step applies two Adam updates (one from each part of the gradient).
        # A second leaf on the same storage reproduces that; by default one parameter, one update.
        w_dec = w.detach().requires_grad_(True)
        params.append(w_dec)
    opt = torch.optim.Adam(params, lr=cfg.learning_rate, fused=True)  # fused: one kernel over all weights, not a loop
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(cfg.milestones), gamma=cfg.gamma)
    history: dict[str, list[float]] = {}
    epochs = range(cfg.n_epochs)
    if progress:
        from tqdm.auto import tqdm

        epochs = tqdm(epochs, desc="binary net", unit="epoch")
    for epoch in epochs:
        mult = regulariser_multiplier(epoch, cfg.regu_rate, cfg.regu_cap)
        clamp_(w, b, w_c)
        sums: dict[str, float] = {}
        perm = train_rows[rng.permutation(n_train)]
        n_batches = 0
        for start in range(0, n_train, cfg.batch_size):
            rows = perm[start : start + cfg.batch_size]
            xb = _dense_rows(x, rows, device)
            yb = None if y_all is None else y_all[torch.from_numpy(rows).to(device)]
            w_b = sample_weights(w, gen)
            parts = _loss_parts(cfg, xb, yb, w, b, w_c, w_b, alpha, mult, w_dec)
            loss = sum(v for k, v in parts.items() if k != "accuracy")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            clamp_(w, b, w_c)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            n_batches += 1
            del w_b
        sched.step()
        for k, v in sums.items():
            history.setdefault(f"train_{k}", []).append(v / n_batches)
        if len(test_rows):
            with torch.no_grad():
                xt = _dense_rows(x, test_rows, device)
                yt = None if y_all is None else y_all[torch.from_numpy(test_rows).to(device)]
                parts = _loss_parts(cfg, xt, yt, w, b, w_c, sample_weights(w, gen), alpha, mult)
            for k in ("reconstruction", "classification", "accuracy"):
                if k in parts:
                    history.setdefault(f"test_{k}", []).append(float(parts[k]))
    return BinaryNetResult(
        weights=w.detach().cpu().numpy().copy(),
        bias=b.detach().cpu().numpy().copy(),
        class_weights=None if w_c is None else w_c.detach().cpu().numpy().copy(),
        alpha=alpha,
        train_rows=train_rows,
        test_rows=test_rows,
        history=history,
    )


def save_binary_net(path: str | PathLike[str], result: BinaryNetResult, **extra: Any) -> None:
    """Write the trained weights with :func:`torch.save`: ``weights``, ``bias``, ``class_weights`` and ``extra``.

    Parameters
    ----------
    path
        Destination file.
    result
        What :func:`~fischer_sc.core.binarynet.fit_binary_net` returned.
    **extra
        More entries of the saved dict (e.g. the class names and the feature names, the columns of
        ``weights``).
    """
    torch.save(
        {
            "weights": torch.from_numpy(result.weights),
            "bias": torch.from_numpy(result.bias),
            "class_weights": None if result.class_weights is None else torch.from_numpy(result.class_weights),
            **extra,
        },
        path,
    )
