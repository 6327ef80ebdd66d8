"""Client partitions: the local datasets of a simulated federation, stored padded as (m, n_max, d) arrays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClientPartitions:
    """The local datasets of ``m`` clients.

    Attributes
    ----------
    X
        ``(m, n_max, d)`` float32 features; rows past a client's size are zero padding.
    y
        ``(m, n_max)`` int64 labels; padding is 0.
    sizes
        ``(m,)`` number of samples each client holds.
    indices
        ``(m, n_max)`` row of every sample in the array it was drawn from (-1 for padding).
    names
        One name per client (the obs category in the AnnData route, ``"0"``, ``"1"``, ... otherwise).
    """

    X: np.ndarray
    y: np.ndarray
    sizes: np.ndarray
    indices: np.ndarray
    names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        n = int(self.sizes[i])
        return self.X[i, :n], self.y[i, :n]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        return (self[i] for i in range(len(self)))

    @property
    def n_features(self) -> int:
        """Number of input features ``d``."""
        return int(self.X.shape[2])

    @property
    def equal_sizes(self) -> bool:
        """Whether every client holds the same number of samples."""
        return bool(np.all(self.sizes == self.sizes[0]))


def _check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2:
        msg = f"X must be a 2-D array (samples x features), got shape {X.shape}."
        raise ValueError(msg)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        msg = f"y must be a 1-D array with one label per row of X ({X.shape[0]}), got shape {y.shape}."
        raise ValueError(msg)
    if not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
        msg = "X must be numeric without NaN or inf; impute or drop those rows first."
        raise ValueError(msg)
    if not np.issubdtype(y.dtype, np.integer):
        msg = (
            f"y must hold integer class codes 0..C-1, got dtype {y.dtype}; encode labels first (e.g. pandas.factorize)."
        )
        raise TypeError(msg)
    if y.size and y.min() < 0:
        msg = "y must hold non-negative integer class codes 0..C-1."
        raise ValueError(msg)
    return X, y


def from_index_lists(
    X: np.ndarray, y: np.ndarray, index_lists: Sequence[np.ndarray], names: Sequence[str] | None = None
) -> ClientPartitions:
    """Build :class:`ClientPartitions` from one array of row indices per client (sizes may differ)."""
    X, y = _check_xy(X, y)
    m = len(index_lists)
    if m < 2:
        msg = f"A federation needs at least 2 clients, got {m}."
        raise ValueError(msg)
    sizes = np.array([len(ix) for ix in index_lists], dtype=np.int64)
    if sizes.min() < 1:
        msg = "Every client needs at least one sample; drop empty clients first."
        raise ValueError(msg)
    n_max = int(sizes.max())
    Xp = np.zeros((m, n_max, X.shape[1]), dtype=np.float32)
    yp = np.zeros((m, n_max), dtype=np.int64)
    ip = np.full((m, n_max), -1, dtype=np.int64)
    for i, ix in enumerate(index_lists):
        ix = np.asarray(ix, dtype=np.int64)
        Xp[i, : len(ix)] = X[ix]
        yp[i, : len(ix)] = y[ix]
        ip[i, : len(ix)] = ix
    names = tuple(str(s) for s in (names if names is not None else range(m)))
    if len(names) != m:
        msg = f"names must hold one name per client ({m}), got {len(names)}."
        raise ValueError(msg)
    return ClientPartitions(Xp, yp, sizes, ip, names)


def split_clients(
    X: np.ndarray,
    y: np.ndarray,
    n_clients: int,
    n_per_client: int,
    random_state: int = 0,
    *,
    stratify: bool = False,
) -> ClientPartitions:
    """Draw ``n_clients`` disjoint local datasets of ``n_per_client`` samples each (IID, without replacement).

    Parameters
    ----------
    X
        ``(n, d)`` numeric features of the training pool.
    y
        ``(n,)`` integer class codes ``0..C-1``.
    n_clients
        Number of clients ``m`` (at least 2).
    n_per_client
        Samples per client ``n``; ``n_clients * n_per_client`` must not exceed ``n``.
    random_state
        Seed of the draw.
    stratify
        Deal the drawn samples out class by class in turn, so every client sees as many classes as it can.

    Returns
    -------
    :class:`ClientPartitions` with ``X`` of shape ``(n_clients, n_per_client, d)``.
    """
    X, y = _check_xy(X, y)
    if not isinstance(n_clients, int | np.integer) or n_clients < 2:
        msg = f"n_clients must be an integer >= 2, got {n_clients!r}."
        raise ValueError(msg)
    if not isinstance(n_per_client, int | np.integer) or n_per_client < 1:
        msg = f"n_per_client must be a positive integer, got {n_per_client!r}."
        raise ValueError(msg)
    total = int(n_clients) * int(n_per_client)
    if total > X.shape[0]:
        msg = f"n_clients * n_per_client = {total} exceeds the {X.shape[0]} available samples; lower one of them."
        raise ValueError(msg)
    rng = np.random.default_rng(random_state)
    drawn = rng.choice(X.shape[0], size=total, replace=False)
    if stratify:
        # Sort the draw by class (random order within a class) and deal it out round-robin.
        drawn = drawn[np.lexsort((rng.random(total), y[drawn]))]
        lists = [drawn[i::n_clients] for i in range(n_clients)]
    else:
        lists = [drawn[i * n_per_client : (i + 1) * n_per_client] for i in range(n_clients)]
    return from_index_lists(X, y, lists)
