"""The engine's progress bar: ``tqdm.auto`` when asked for, otherwise a no-op with the same methods."""

from __future__ import annotations

from typing import Any


class _NoBar:
    """Stands in for a tqdm bar when progress is off, so tqdm (and its notebook check) is not imported."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None

    def set_postfix(self, **kwargs: object) -> None:
        return None


def progress_bar(total: int, desc: str, *, enabled: bool) -> Any:
    """A ``tqdm.auto`` bar of ``total`` steps when ``enabled``, otherwise a no-op usable the same way (``with``, ``update``, ``set_postfix``)."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, leave=False)
