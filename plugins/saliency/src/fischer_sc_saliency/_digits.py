"""The offline digits protocol: scikit-learn's 8x8 digits on 16x16 canvases, and two small classifiers.

Everything here ships with scikit-learn and trains in seconds on a CPU, so the grid pointing game
and the randomisation checks run in tests, benchmarks and tutorials without any download.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ._model import torch_threads

QUADRANTS = ((0, 0), (0, 8), (8, 0), (8, 8))  # top-left, top-right, bottom-left, bottom-right
ARCHITECTURES = ("mlp", "cnn", "cnn_gmp")


@dataclass
class DigitData:
    """A stratified 50/50 split of ``sklearn.datasets.load_digits`` (values 0-16 scaled to [0, 1]).

    Attributes
    ----------
    train_images, test_images
        ``(n, 8, 8)`` float32 images.
    train_labels, test_labels
        ``(n,)`` int64 digit classes.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_digit_data(random_state: int = 0) -> DigitData:
    """The 1797 scikit-learn digits, split 50/50 stratified by class with ``random_state``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    images = (d.data / 16.0).reshape(-1, 8, 8).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(
        images, d.target.astype(np.int64), test_size=0.5, stratify=d.target, random_state=random_state
    )
    return DigitData(xtr, ytr, xte, yte)


def digit_canvases(images: np.ndarray, quadrants: np.ndarray | int) -> np.ndarray:
    """Put each 8x8 digit in a quadrant (0 top-left ... 3 bottom-right) of a blank 16x16 canvas: ``(n, 1, 16, 16)``."""
    images = np.asarray(images, dtype=np.float32)
    q = np.broadcast_to(np.asarray(quadrants), (images.shape[0],))
    out = np.zeros((images.shape[0], 1, 16, 16), dtype=np.float32)
    for j, (r, c) in enumerate(QUADRANTS):
        sel = q == j
        out[sel, 0, r : r + 8, c : c + 8] = images[sel]
    return out


def digits_model(arch: str = "mlp") -> nn.Sequential:
    """An untrained classifier of 16x16 canvases: ``"mlp"``, ``"cnn"`` or ``"cnn_gmp"``.

    ``"mlp"`` is the spec's 256-256-10 network with one hidden ReLU layer. ``"cnn"`` has two 3x3
    convolutions (8 and 16 channels), each followed by a 2x2 max-pool, and a linear read-out of the
    16 x 4 x 4 feature maps: its logits are nearly a sum of one score per grid cell (each position
    has its own read-out weights). ``"cnn_gmp"`` has the same body with 16 and 32 channels and
    reads out the global max of each feature map (global max pooling, as in weakly supervised
    localisation networks): one position per feature decides, so the cells compete inside the
    model. All train in seconds.
    """
    if arch == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    if arch == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 10),
        )
    if arch == "cnn_gmp":
        return nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        )
    msg = f"arch={arch!r} is unknown; choose one of {', '.join(ARCHITECTURES)}."
    raise ValueError(msg)


def train_digits_model(
    arch: str | nn.Module = "mlp",
    data: DigitData | None = None,
    *,
    epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 64,
    random_state: int = 0,
    n_threads: int | None = 1,
) -> nn.Sequential:
    """Train a :func:`digits_model` on every training digit at all four quadrants (Adam, cross-entropy).

    ``arch`` names a :func:`digits_model`, or is an untrained ``nn.Module`` of ``(n, 1, 16, 16)``
    canvases (for sweeps over architectures), which is trained in place and returned.

    The global torch random state is left untouched (training runs in a forked RNG seeded with
    ``random_state``). ``n_threads`` torch threads are used during training (``None``: torch's
    setting); one is fastest for models this small. Returns the model in eval mode.
    """
    data = load_digit_data() if data is None else data
    x = np.concatenate([digit_canvases(data.train_images, q) for q in range(4)])
    y = np.tile(data.train_labels, 4)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    with torch.random.fork_rng(devices=[]), torch_threads(n_threads):
        torch.manual_seed(random_state)
        model = digits_model(arch) if isinstance(arch, str) else arch
        if not isinstance(model, nn.Module):
            msg = f"arch must be one of {', '.join(ARCHITECTURES)} or a torch.nn.Module, got {type(arch).__name__}."
            raise TypeError(msg)
        params = list(model.parameters())
        adam = _Adam(params, lr)
        gen = torch.Generator().manual_seed(random_state)
        model.train()
        for _ in range(epochs):
            for idx in torch.randperm(len(yt), generator=gen).split(batch_size):
                loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
                adam.step(torch.autograd.grad(loss, params))
    model.eval()
    return model


class _Adam:
    """Adam (Kingma & Ba) with the usual defaults, written out.

    ``torch.optim`` pulls in ``torch._dynamo`` (and sympy) on first use, which costs seconds of
    import on a busy machine; these few lines keep the digits protocol fast in tests and tutorials.
    """

    def __init__(
        self, params: list[torch.Tensor], lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, grads: tuple[torch.Tensor, ...]) -> None:
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.sub_(self.lr * (m / c1) / ((v / c2).sqrt() + self.eps))


def predict(model: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Predicted classes of canvases ``(n, 1, 16, 16)`` (model in eval mode, no gradients)."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = [model(torch.from_numpy(x[i : i + batch_size])).argmax(1) for i in range(0, len(x), batch_size)]
    finally:
        model.train(was)
    return torch.cat(out).numpy()


def canvas_accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy on single digits, each shown alone at all four quadrants."""
    hits = [predict(model, digit_canvases(images, q)) == labels for q in range(4)]
    return float(np.mean(hits))
