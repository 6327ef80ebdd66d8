"""Hyper-parameters of the binary-net training and the settings that make it BinaPs or DiffNaps.

Plain dataclasses and integers, no torch: the tools validate and record a configuration before
torch is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BinaryNetConfig", "binaps_config", "default_hidden_dim", "diffnaps_config"]

MAX_HIDDEN = 1000  # cap of the default hidden width: the h x m weights and their optimiser state dominate memory
REGU_CAP = 100.0  # cap of DiffNaps' exponential W-shaped schedule, so long runs are not dominated by it


@dataclass(frozen=True)
class BinaryNetConfig:
    """Hyper-parameters of :func:`~fischer_sc.core.binarynet.fit_binary_net`.

    ``lambda_c = 0`` and ``init = "floor"`` give BinaPs; a positive ``lambda_c`` adds the DiffNaps head.
    :func:`~fischer_sc.core.binarynet.binaps_config` and :func:`~fischer_sc.core.binarynet.diffnaps_config` fill in the settings of each method.
    """

    hidden_dim: int
    n_epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 0.01
    lambda_s: float = 0.0
    lambda_c: float = 0.0
    elastic: tuple[float, float] = (0.0, 0.0)
    class_elastic: tuple[float, float] = (0.0, 0.0)
    regu_rate: float = 1.0
    regu_cap: float = 100.0
    milestones: tuple[int, ...] = (5, 7)
    gamma: float = 0.1
    train_fraction: float = 0.9
    init: str = "floor"  # "floor": W = 1/m (BinaPs); "xavier": Xavier-normal clamped (DiffNaps)
    length_reduce: str = "sum"  # BinaPs sums the length penalty over neurons, DiffNaps averages
    double_update: bool = False  # encoder and decoder parts of the tied gradient get separate Adam updates


def default_hidden_dim(n_features: int) -> int:
    """``min(1000, max(64, m // 2))``: the hidden width of the tools when ``hidden_dim=None``.

    Parameters
    ----------
    n_features
        ``m``, the features the network is trained on.

    Returns
    -------
    The number of hidden units.
    """
    return int(min(MAX_HIDDEN, max(64, n_features // 2)))


def binaps_config(
    *,
    hidden_dim: int,
    n_epochs: int,
    batch_size: int,
    learning_rate: float,
    lambda_s: float,
    double_update: bool,
) -> BinaryNetConfig:
    """BinaPs: weights start at the floor 1/m, the length penalty is summed over units, no class head.

    Parameters
    ----------
    hidden_dim
        Hidden units.
    n_epochs
        Training epochs.
    batch_size
        Rows per mini-batch.
    learning_rate
        Adam step size.
    lambda_s
        Weight of the pattern-length penalty.
    double_update
        Give the encoder and decoder parts of the tied gradient their own Adam update.

    Returns
    -------
    The configuration.
    """
    return BinaryNetConfig(
        hidden_dim=int(hidden_dim),
        n_epochs=int(n_epochs),
        batch_size=int(batch_size),
        learning_rate=float(learning_rate),
        lambda_s=float(lambda_s),
        double_update=bool(double_update),
        init="floor",
        length_reduce="sum",
    )


def diffnaps_config(
    *,
    hidden_dim: int,
    n_epochs: int,
    batch_size: int,
    learning_rate: float,
    lambda_s: float,
    lambda_c: float,
    elastic: tuple[float, float],
    class_elastic: tuple[float, float],
    regu_rate: float,
    train_fraction: float,
    double_update: bool,
) -> BinaryNetConfig:
    """DiffNaps: Xavier-normal start, the length penalty averaged over units, the class head and the W-shaped terms.

    The W-shaped weights grow by ``regu_rate`` per epoch, capped at 100 times their start.

    Parameters
    ----------
    hidden_dim
        Hidden units.
    n_epochs
        Training epochs.
    batch_size
        Rows per mini-batch.
    learning_rate
        Adam step size.
    lambda_s
        Weight of the pattern-length penalty.
    lambda_c
        Weight of the classification loss.
    elastic
        L1 and L2 weights of the W-shaped regulariser on the encoder.
    class_elastic
        L1 and L2 weights of the W-shaped regulariser on the class head.
    regu_rate
        Growth per epoch of the W-shaped weights.
    train_fraction
        Fraction of rows trained on; the rest is held out for the history.
    double_update
        Give the encoder and decoder parts of the tied gradient their own Adam update.

    Returns
    -------
    The configuration.
    """
    return BinaryNetConfig(
        hidden_dim=int(hidden_dim),
        n_epochs=int(n_epochs),
        batch_size=int(batch_size),
        learning_rate=float(learning_rate),
        lambda_s=float(lambda_s),
        lambda_c=float(lambda_c),
        elastic=(float(elastic[0]), float(elastic[1])),
        class_elastic=(float(class_elastic[0]), float(class_elastic[1])),
        regu_rate=float(regu_rate),
        regu_cap=REGU_CAP,
        train_fraction=float(train_fraction),
        double_update=bool(double_update),
        init="xavier",
        length_reduce="mean",
    )
