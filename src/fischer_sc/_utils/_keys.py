"""One place that decides where a tool writes (scanpy's ``key_added`` rule)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class OutputKeys:
    """The keys a tool writes: ``obsm[obsm]`` and ``uns[uns]``."""

    obsm: str
    uns: str


def resolve_keys(name: str, key_added: str | None) -> OutputKeys:
    """``obsm["X_<name>"]`` and ``uns["<name>"]``; with ``key_added=k``, ``obsm[k]`` and ``uns[k]``.

    This is scanpy's rule for t-SNE and UMAP: the same string for both, no ``X_`` prefix.
    """
    if key_added is None:
        return OutputKeys(obsm=f"X_{name}", uns=name)
    if not isinstance(key_added, str) or not key_added:
        msg = f"key_added must be a non-empty string or None, got {key_added!r}."
        raise TypeError(msg)
    return OutputKeys(obsm=key_added, uns=key_added)
