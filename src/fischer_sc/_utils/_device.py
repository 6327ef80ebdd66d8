"""Device choice tied to the registry: a tool accepts a GPU only if its ``MethodSpec`` says it supports one.

Reading ``supports_gpu`` from the registered record keeps the metadata and the behaviour from drifting apart.
"""

from __future__ import annotations

from typing import Any


def _supports_gpu(method: str) -> bool:
    from fischer_sc.plugins import builtin_spec

    return builtin_spec(method).supports_gpu


def resolve_device(device: Any, method: str) -> str:
    """``"cpu"`` for ``None``/``"cpu"``; ``"cuda[:i]"`` when ``method`` supports a GPU and torch sees one.

    Raises a ``ValueError`` naming the fix for any other value, for a GPU request to a CPU-only
    tool, and for ``"cuda"`` on a machine without a CUDA device.
    """
    if device is None or device == "cpu":
        return "cpu"
    if not isinstance(device, str) or not (device == "cuda" or device.startswith("cuda:")):
        msg = f"device must be None, 'cpu' or 'cuda[:index]', got {device!r}."
        raise ValueError(msg)
    if not _supports_gpu(method):
        msg = f"device={device!r}: {method} runs on the CPU only; use device=None."
        raise ValueError(msg)
    import torch

    if not torch.cuda.is_available():
        msg = f"device={device!r}, but torch sees no CUDA device; use device=None (CPU)."
        raise ValueError(msg)
    return device
