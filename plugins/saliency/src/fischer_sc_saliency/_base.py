"""Native base attributions, one target per sample, so all K competitors go through one batched pass.

Each function takes ``(model, x, targets)`` with ``x`` of shape ``(N, ...)`` and ``targets`` of
shape ``(N,)``: sample ``i`` is explained for class ``targets[i]``. The caller (VAR) repeats every
image K times along the batch axis, so one backward pass of ``sum_i logit_{targets[i]}(x_i)``
gives every copy the gradient of its own class (samples do not interact in eval mode).
The model is expected to be in eval mode with parameter gradients off (see ``_model.frozen``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

QUADRATURES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")


def _chunks(n: int, batch_size: int) -> list[slice]:
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        msg = f"batch_size={batch_size!r} must be a positive integer."
        raise ValueError(msg)
    return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]


def _target_logits(model: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    out = model(x)
    if out.ndim != 2:
        msg = f"the model must return logits of shape (N, n_classes), got shape {tuple(out.shape)}."
        raise ValueError(msg)
    return out.gather(1, targets[:, None]).sum()


def _input_gradient(model: nn.Module, x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        xi = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(_target_logits(model, xi, targets), xi)
    return g


def gradient(model: nn.Module, x: torch.Tensor, targets: torch.Tensor, *, batch_size: int = 256) -> torch.Tensor:
    """Signed input gradient of each sample's target logit (Simonyan et al. without the absolute value)."""
    return torch.cat([_input_gradient(model, x[s], targets[s]) for s in _chunks(x.shape[0], batch_size)])


def input_x_gradient(
    model: nn.Module, x: torch.Tensor, targets: torch.Tensor, *, batch_size: int = 256
) -> torch.Tensor:
    """Input times gradient of each sample's target logit."""
    return x * gradient(model, x, targets, batch_size=batch_size)


def quadrature(n_steps: int, method: str = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Points ``alpha`` in [0, 1] and weights of a rule for the path integral of IG.

    ``"gausslegendre"`` maps the Gauss–Legendre nodes from [-1, 1] to [0, 1] (captum's default);
    the Riemann rules use ``n_steps`` equal steps.
    """
    if not isinstance(n_steps, int | np.integer) or n_steps < 1:
        msg = f"n_steps={n_steps!r} must be a positive integer."
        raise ValueError(msg)
    n = int(n_steps)
    if method == "gausslegendre":
        nodes, w = np.polynomial.legendre.leggauss(n)
        return 0.5 * (nodes + 1.0), 0.5 * w
    if method == "riemann_left":
        return np.arange(n) / n, np.full(n, 1.0 / n)
    if method == "riemann_right":
        return np.arange(1, n + 1) / n, np.full(n, 1.0 / n)
    if method == "riemann_middle":
        return (np.arange(n) + 0.5) / n, np.full(n, 1.0 / n)
    if method == "riemann_trapezoid":
        if n < 2:
            msg = "riemann_trapezoid needs n_steps >= 2."
            raise ValueError(msg)
        w = np.full(n, 1.0 / (n - 1))
        w[[0, -1]] *= 0.5
        return np.linspace(0.0, 1.0, n), w
    msg = f"method={method!r} is unknown; choose one of {', '.join(QUADRATURES)}."
    raise ValueError(msg)


def integrated_gradients(
    model: nn.Module,
    x: torch.Tensor,
    targets: torch.Tensor,
    *,
    baseline: torch.Tensor | float | None = None,
    n_steps: int = 50,
    method: str = "gausslegendre",
    batch_size: int = 256,
) -> torch.Tensor:
    """Integrated gradients ``(x - b) * sum_s w_s grad f_t(b + alpha_s (x - b))`` (Sundararajan et al. 2017).

    Parameters
    ----------
    baseline
        ``None`` (zeros), a scalar, or a tensor broadcastable to ``x``.
    n_steps, method
        Quadrature of the path integral, see ``fischer_sc_saliency._base.quadrature``.
    batch_size
        Number of (sample, step) points per forward/backward pass; ``N * n_steps`` points in total.
    """
    base = torch.zeros_like(x) if baseline is None else torch.as_tensor(baseline, dtype=x.dtype, device=x.device)
    try:
        base = torch.broadcast_to(base, x.shape)
    except RuntimeError:
        msg = f"baseline of shape {tuple(base.shape)} does not broadcast to the input's shape {tuple(x.shape)}."
        raise ValueError(msg) from None
    alphas, weights = quadrature(n_steps, method)
    alphas_t = torch.as_tensor(alphas, dtype=x.dtype, device=x.device)
    weights_t = torch.as_tensor(weights, dtype=x.dtype, device=x.device)
    diff = x - base
    n = x.shape[0]
    total = torch.zeros_like(x)
    # Points are indexed step-major: point j is sample j % n at step j // n.
    idx = torch.arange(n * len(alphas), device=x.device)
    for s in _chunks(len(idx), batch_size):
        j = idx[s]
        sample, step = j % n, j // n
        shape = (-1,) + (1,) * (x.ndim - 1)
        points = base[sample] + alphas_t[step].view(shape) * diff[sample]
        g = _input_gradient(model, points, targets[sample])
        total.index_add_(0, sample, g * weights_t[step].view(shape))
    return diff * total


def _keep_output(store: dict[str, torch.Tensor], _module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
    store["a"] = output


def last_conv(model: nn.Module) -> nn.Module:
    """The last ``nn.Conv2d`` (in registration order): Grad-CAM's default layer."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        msg = "grad_cam needs a convolutional layer and the model has no nn.Conv2d; pass layer=<module> in base_kwargs."
        raise ValueError(msg)
    return convs[-1]


def grad_cam(
    model: nn.Module,
    x: torch.Tensor,
    targets: torch.Tensor,
    *,
    layer: nn.Module | None = None,
    relu: bool = True,
    interpolate_mode: str = "bilinear",
    batch_size: int = 256,
) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al. 2017) upsampled to the input size and repeated over x's channels.

    The layer's activations ``A_f`` are weighted by the spatial mean of the target logit's gradient
    ``w_f = mean_hw dy_t/dA_f``; the map is ``relu(sum_f w_f A_f)`` (``relu=False`` keeps the sign),
    upsampled to the input's spatial size *before* any class competition. Repeating it over the
    input channels gives a map of x's shape; summing channels then scales every map by the same
    constant, which no measure here depends on.
    """
    if x.ndim != 4:
        msg = f"grad_cam needs images (N, C, H, W), got shape {tuple(x.shape)}."
        raise ValueError(msg)
    layer = last_conv(model) if layer is None else layer
    if not isinstance(layer, nn.Module):
        msg = f"layer must be a submodule of the model, got {type(layer).__name__}."
        raise TypeError(msg)
    out = []
    for s in _chunks(x.shape[0], batch_size):
        store: dict[str, torch.Tensor] = {}
        handle = layer.register_forward_hook(functools.partial(_keep_output, store))
        try:
            with torch.enable_grad():
                xi = x[s].detach().requires_grad_(True)
                score = _target_logits(model, xi, targets[s])
                if "a" not in store or store["a"].ndim != 4:
                    msg = "layer was not called in the forward pass or does not output (N, F, h, w) maps; pass another layer."
                    raise ValueError(msg)
                act = store["a"]
                (g,) = torch.autograd.grad(score, act)
        finally:
            handle.remove()
        cam = (g.mean(dim=(2, 3), keepdim=True) * act).sum(dim=1, keepdim=True).detach()
        if relu:
            cam = cam.clamp_min(0)
        if cam.shape[-2:] != x.shape[-2:]:
            align = False if interpolate_mode in ("bilinear", "bicubic") else None
            cam = F.interpolate(cam, size=x.shape[-2:], mode=interpolate_mode, align_corners=align)
        out.append(cam.expand(-1, x.shape[1], -1, -1))
    return torch.cat(out)


NATIVE: dict[str, Callable[..., torch.Tensor]] = {
    "gradient": gradient,
    "input_x_gradient": input_x_gradient,
    "integrated_gradients": integrated_gradients,
    "grad_cam": grad_cam,
}
