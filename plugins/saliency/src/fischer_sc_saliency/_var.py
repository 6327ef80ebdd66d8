"""VAR (arXiv 2503.07346): class-relevant attribution maps by competition between classes.

``var_attribution`` is the functional form and the registry method ``var_saliency``;
``ClassCompetition`` holds the settings for repeated use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ._adapters import resolve_base
from ._base import NATIVE
from ._competition import check_params, class_competition, competitor_sets
from ._model import as_input, as_output, frozen, model_device, model_dtype


@dataclass
class VarDetails:
    """What a VAR call decided, returned with ``return_details=True``.

    Attributes
    ----------
    target
        ``(B,)`` the explained class of each input.
    classes
        ``(B, K)`` the competitor set C of each input.
    target_index
        ``(B,)`` the target's position in its row of ``classes``.
    weight
        The dominance weight ``M_t``, x's shape and kind.
    gate
        The boolean significance gate ``M_t - 1/K > tau``, x's shape (numpy or tensor as x).
    base_maps
        The K base maps ``(B, K, ...)`` of x's kind (``base_maps[:, j]`` explains ``classes[:, j]``).
    temperature, tau, use_abs, normalize, base
        The settings used.
    """

    target: np.ndarray
    classes: np.ndarray
    target_index: np.ndarray
    weight: Any
    gate: Any
    base_maps: Any
    temperature: float
    tau: float
    use_abs: bool
    normalize: str | None
    base: str


def competitor_maps(
    model: nn.Module,
    x: torch.Tensor,
    sets: np.ndarray,
    *,
    base: Any = "integrated_gradients",
    base_kwargs: dict[str, Any] | None = None,
    batch_size: int = 256,
) -> torch.Tensor:
    """Base maps ``(B, K, ...)`` for every input and each of its K competitors, in one batched call.

    ``x`` is a tensor on the model's device; the model should already be frozen (eval mode,
    no parameter gradients). Each input is repeated K times along the batch axis and the base
    method explains copy ``(i, j)`` for class ``sets[i, j]``.
    """
    b, k = sets.shape
    kw = dict(base_kwargs or {})
    if isinstance(base, str) and base in NATIVE:
        kw.setdefault("batch_size", batch_size)
        if isinstance(kw.get("baseline"), torch.Tensor) and kw["baseline"].shape == x.shape:
            kw["baseline"] = kw["baseline"].to(x.device, x.dtype).repeat_interleave(k, dim=0)
    fn = resolve_base(base, model, kw)
    x_rep = x.repeat_interleave(k, dim=0)
    targets = torch.as_tensor(np.array(sets, dtype=np.int64).reshape(-1), device=x.device)  # a writable copy
    a = fn(x_rep, targets)
    if not isinstance(a, torch.Tensor):
        a = torch.as_tensor(np.asarray(a))
    a = a.to(device=x.device, dtype=x.dtype)
    if a.shape != x_rep.shape and a.ndim == x_rep.ndim and a.shape[1] == 1 and a.shape[2:] == x_rep.shape[2:]:
        a = a.expand_as(x_rep)  # one map per pixel: the same value for every channel
    if a.shape != x_rep.shape:
        msg = f"the base method returned maps of shape {tuple(a.shape)} for inputs of shape {tuple(x_rep.shape)}; base must return one map per input with the input's shape."
        raise ValueError(msg)
    if not torch.isfinite(a).all():
        msg = "the base method returned NaN or infinite attributions; check the model and base_kwargs."
        raise ValueError(msg)
    return a.reshape(b, k, *x.shape[1:])


def var_attribution(
    model: nn.Module,
    x: Any,
    target: Any = None,
    *,
    classes: Any = "auto",
    base: Any = "integrated_gradients",
    k: int = 2,
    temperature: float = 10.0,
    tau: float = 0.1,
    use_abs: bool = False,
    normalize: str | None = "joint_max",
    base_kwargs: dict[str, Any] | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    return_details: bool = False,
) -> Any:
    """Class-relevant attribution maps with VAR (arXiv 2503.07346).

    For every input, the base method explains each class c of a competitor set C of K >= 2 classes;
    a softmax over the classes of ``T * A_c`` (or ``T * |A_c|``) per element gives the target's dominance ``M_t``,
    and the map keeps ``A_t * M_t`` where ``M_t - 1/K > tau``: the evidence on which the target
    wins, not what every class looks at.

    Parameters
    ----------
    model
        A PyTorch classifier returning logits ``(B, n_classes)``. It is left exactly as it was:
        its train/eval modes and ``requires_grad`` flags are restored, its parameters and
        ``.grad`` fields are not touched.
    x
        Inputs ``(B, C, H, W)`` (any shape with the batch first works for non-CAM bases), a tensor
        or a numpy array. NaN/inf raise a ValueError.
    target
        Class to explain: an int, ``(B,)``, or ``None`` for the predicted class.
    classes
        ``"auto"`` (the top-``k`` predicted classes plus the least likely one; a target outside
        that set replaces the least likely class), a list of classes shared by the batch, or
        ``(B, K)`` with one set per input. The target must be in it.
    base
        ``"integrated_gradients"`` (zero baseline, 50 Gauss–Legendre steps), ``"input_x_gradient"``,
        ``"gradient"``, ``"grad_cam"`` (last ``Conv2d``), ``"captum:<Method>"``,
        ``"zennit:<Attributor>"``, a :class:`~fischer_sc_saliency.CaptumBase` /
        :class:`~fischer_sc_saliency.ZennitBase`, or any callable ``(x_batch, targets) -> maps``.
    k
        Size of the top set for ``classes="auto"`` (K = k + 1).
    temperature
        Softmax temperature T > 0 (default 10, as in the method's code).
    tau
        Gate threshold in [0, 1 - 1/K) (default 0.1, the reference's value for an explicit class list).
    use_abs
        Compete on ``|A|`` or on the signed maps (default ``False``). On ``|A|`` a competitor's
        strong *negative* evidence ("this digit is not mine") wins pixels of the target's own
        object; on the digits protocol that made VAR no better than sparsity alone (see the
        saliency documentation). ``use_abs=True, normalize=None, tau=0.01`` is the reference's
        setting.
    normalize
        ``"joint_max"`` (default: one shared divisor, the largest ``|A|`` of the K maps of an
        input, before the softmax, so T does not depend on the maps' units) or ``None``.
    base_kwargs
        Options of the base method, e.g. ``{"n_steps": 32, "baseline": 0.0}`` or ``{"layer": model.conv2}``.
    batch_size
        Samples per forward/backward pass of the native methods (IG uses ``B * K * n_steps``).
    device
        Where to compute; default: the model's device.
    return_details
        Also return a :class:`VarDetails` with C, the base maps, ``M_t`` and the gate.

    Returns
    -------
    The VAR maps with x's shape and kind (tensor in, tensor out; array in, array out), and with
    ``return_details=True`` a tuple ``(maps, VarDetails)``. Sum over channels and keep the positive
    part to display or score them.
    """
    if not isinstance(model, nn.Module):
        msg = f"model must be a torch.nn.Module, got {type(model).__name__}."
        raise TypeError(msg)
    check_params(temperature, tau, 2)
    dev = model_device(model, device)
    xt, kind = as_input(x, device=dev, dtype=model_dtype(model))
    with frozen(model):
        if dev != model_device(model, None):
            msg = f"device={device!r} differs from the model's device; move the model there first."
            raise ValueError(msg)
        with torch.no_grad():
            logits = model(xt)
        if logits.ndim != 2 or logits.shape[0] != xt.shape[0]:
            msg = f"the model must return logits of shape (B, n_classes), got {tuple(logits.shape)}."
            raise ValueError(msg)
        t, sets, tidx = competitor_sets(logits, target, classes, k=k)
        check_params(temperature, tau, sets.shape[1])
        maps = competitor_maps(model, xt, sets, base=base, base_kwargs=base_kwargs, batch_size=batch_size)
    idx = torch.as_tensor(tidx, device=maps.device)
    var, weight, gate = class_competition(
        maps, idx, temperature=temperature, tau=tau, use_abs=use_abs, normalize=normalize
    )
    out = as_output(var, kind)
    if not return_details:
        return out
    gate_out = gate.cpu().numpy() if kind["kind"] == "numpy" else gate.to(kind["device"])
    details = VarDetails(
        target=t,
        classes=sets,
        target_index=tidx,
        weight=as_output(weight, kind),
        gate=gate_out,
        base_maps=as_output(maps, kind),
        temperature=float(temperature),
        tau=float(tau),
        use_abs=bool(use_abs),
        normalize=normalize,
        base=base if isinstance(base, str) else getattr(base, "__name__", type(base).__name__),
    )
    return out, details


class ClassCompetition:
    """VAR settings bound once, applied to any model and inputs (see :func:`var_attribution`).

    Examples
    --------
    >>> var = ClassCompetition(base="integrated_gradients")  # doctest: +SKIP
    >>> maps = var(model, x, target=3, classes=[3, 5, 7, 9])  # doctest: +SKIP
    """

    def __init__(
        self,
        base: Any = "integrated_gradients",
        *,
        classes: Any = "auto",
        k: int = 2,
        tau: float = 0.1,
        temperature: float = 10.0,
        use_abs: bool = False,
        normalize: str | None = "joint_max",
        base_kwargs: dict[str, Any] | None = None,
        batch_size: int = 256,
        device: str | torch.device | None = None,
    ) -> None:
        check_params(temperature, tau, 2)
        self.base = base
        self.classes = classes
        self.k = k
        self.tau = tau
        self.temperature = temperature
        self.use_abs = use_abs
        self.normalize = normalize
        self.base_kwargs = base_kwargs
        self.batch_size = batch_size
        self.device = device

    def __call__(
        self, model: nn.Module, x: Any, target: Any = None, *, classes: Any = None, return_details: bool = False
    ) -> Any:
        """VAR maps for ``model`` and ``x``; ``classes`` overrides the set given at construction."""
        return var_attribution(
            model,
            x,
            target,
            classes=self.classes if classes is None else classes,
            base=self.base,
            k=self.k,
            temperature=self.temperature,
            tau=self.tau,
            use_abs=self.use_abs,
            normalize=self.normalize,
            base_kwargs=self.base_kwargs,
            batch_size=self.batch_size,
            device=self.device,
            return_details=return_details,
        )

    def __repr__(self) -> str:
        return (
            f"ClassCompetition(base={self.base!r}, classes={self.classes!r}, k={self.k}, tau={self.tau}, "
            f"temperature={self.temperature}, use_abs={self.use_abs}, normalize={self.normalize!r})"
        )
