"""Base methods from captum and zennit, and the resolution of ``base=`` into one callable.

Every base becomes a function ``(x_batch, targets) -> maps`` with one target per sample, so VAR
can explain the K competitors of every image in one call on a K-times repeated batch. captum
takes the per-sample target list as is; zennit takes the output gradient, so copy ``i``
receives the one-hot of ``targets[i]``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._base import NATIVE

BaseFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _to_input_shape(a: torch.Tensor, x: torch.Tensor, mode: str) -> torch.Tensor:
    """Upsample a layer-resolution map ``(N, 1, h, w)`` to x's spatial size and repeat it over channels."""
    if a.shape == x.shape:
        return a
    if a.ndim == 4 and x.ndim == 4 and a.shape[1] == 1:
        if a.shape[-2:] != x.shape[-2:]:
            align = False if mode in ("bilinear", "bicubic") else None
            a = F.interpolate(a, size=x.shape[-2:], mode=mode, align_corners=align)
        return a.expand(-1, x.shape[1], -1, -1)
    return a


class CaptumBase:
    """A captum attribution method as a VAR base.

    Parameters
    ----------
    method
        A class from ``captum.attr`` or its name, e.g. ``"IntegratedGradients"``, ``"Saliency"``,
        ``"LayerGradCam"``.
    layer
        The layer for layer methods (``LayerGradCam``); their maps are upsampled to the input
        size with ``interpolate_mode`` and repeated over channels before VAR.
    interpolate_mode
        Mode of the upsampling of layer maps.
    init_kwargs
        Extra keyword arguments of the method's constructor.
    **attribute_kwargs
        Passed to ``attribute``, e.g. ``n_steps=32, baselines=0.0``.
    """

    def __init__(
        self,
        method: str | type,
        *,
        layer: nn.Module | None = None,
        interpolate_mode: str = "bilinear",
        init_kwargs: dict[str, Any] | None = None,
        **attribute_kwargs: Any,
    ) -> None:
        self.method = method
        self.layer = layer
        self.interpolate_mode = interpolate_mode
        self.init_kwargs = dict(init_kwargs or {})
        self.attribute_kwargs = attribute_kwargs

    def bind(self, model: nn.Module) -> BaseFn:
        """The attribution function for ``model``."""
        cls = self.method
        if isinstance(cls, str):
            attr = _optional("captum.attr", "captum")
            if not hasattr(attr, cls):
                msg = f"captum.attr has no method {cls!r}; pass a class name such as 'IntegratedGradients'."
                raise ValueError(msg)
            cls = getattr(attr, cls)
        explainer = (
            cls(model, self.layer, **self.init_kwargs) if self.layer is not None else cls(model, **self.init_kwargs)
        )

        def attribute(x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            with torch.enable_grad():
                a = explainer.attribute(x.detach().requires_grad_(True), target=targets, **self.attribute_kwargs)
            return _to_input_shape(a.detach(), x, self.interpolate_mode)

        return attribute


class ZennitBase:
    """A zennit attributor (optionally with an LRP composite) as a VAR base.

    Parameters
    ----------
    attributor
        A class from ``zennit.attribution`` or its name (``"Gradient"``, ``"IntegratedGradients"``,
        ``"SmoothGrad"``).
    composite
        A zennit composite (e.g. ``EpsilonPlusFlat()``) or ``None`` for plain gradients.
    **attributor_kwargs
        Passed to the attributor's constructor.
    """

    def __init__(self, attributor: str | type = "Gradient", *, composite: Any = None, **attributor_kwargs: Any) -> None:
        self.attributor = attributor
        self.composite = composite
        self.attributor_kwargs = attributor_kwargs

    def bind(self, model: nn.Module) -> BaseFn:
        """The attribution function for ``model``."""
        cls = self.attributor
        if isinstance(cls, str):
            zattr = _optional("zennit.attribution", "zennit")
            if not hasattr(zattr, cls):
                msg = f"zennit.attribution has no attributor {cls!r}; pass e.g. 'Gradient'."
                raise ValueError(msg)
            cls = getattr(zattr, cls)

        def attribute(x: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            def one_hot(out: torch.Tensor) -> torch.Tensor:
                return F.one_hot(targets, out.shape[1]).to(out.dtype)

            with (
                torch.enable_grad(),
                cls(model=model, composite=self.composite, **self.attributor_kwargs) as attributor,
            ):
                _, relevance = attributor(x.detach().requires_grad_(True), one_hot)
            return relevance.detach()

        return attribute


def _optional(module: str, package: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = f"this base method needs {package}; install it with `pip install {package}` (or fischer-sc-saliency[{package}])."
        raise ImportError(msg) from None


def resolve_base(base: Any, model: nn.Module, base_kwargs: dict[str, Any] | None) -> BaseFn:
    """Turn ``base=`` into a function ``(x_batch, targets) -> maps``.

    ``base`` may be a native name (``"gradient"``, ``"input_x_gradient"``,
    ``"integrated_gradients"``, ``"grad_cam"``), ``"captum:<Method>"``, ``"zennit:<Attributor>"``,
    a :class:`CaptumBase`/:class:`ZennitBase` (anything with ``bind(model)``), or any callable
    ``(x_batch, targets) -> maps``. ``base_kwargs`` go to the native function or adapter.
    """
    kw = dict(base_kwargs or {})
    if isinstance(base, str):
        if base in NATIVE:
            return functools.partial(NATIVE[base], model, **kw)
        backend, _, name = base.partition(":")
        if backend == "captum" and name:
            return CaptumBase(name, **kw).bind(model)
        if backend == "zennit" and name:
            return ZennitBase(name, **kw).bind(model)
        msg = f"base={base!r} is unknown; choose one of {', '.join(NATIVE)}, 'captum:<Method>', 'zennit:<Attributor>' or pass a callable (x_batch, targets) -> maps."
        raise ValueError(msg)
    if hasattr(base, "bind"):
        if kw:
            msg = "base_kwargs cannot be combined with an adapter object; give the options to the adapter instead."
            raise ValueError(msg)
        return base.bind(model)
    if callable(base):
        return functools.partial(base, **kw) if kw else base
    msg = f"base must be a method name, an adapter or a callable (x_batch, targets) -> maps, got {type(base).__name__}."
    raise TypeError(msg)
