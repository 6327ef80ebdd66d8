from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from anndata import AnnData


def group_centroids(adata: AnnData, groupby: str, *, use_rep: str = "X_pca") -> pd.DataFrame:
    """Euclidean distances between the group means of a representation.

    Parameters
    ----------
    adata
        Annotated data matrix.
    groupby
        Categorical ``obs`` column with the groups.
    use_rep
        ``"X"`` or an ``obsm`` key.

    Returns
    -------
    A groups x groups :class:`pandas.DataFrame` of distances between the group centroids.
    Nothing is written into ``adata``.
    """
    if groupby not in adata.obs:
        msg = f"groupby={groupby!r} is not a column of adata.obs; choose one of {list(adata.obs.columns)}."
        raise KeyError(msg)
    if use_rep == "X":
        x = adata.X
    elif use_rep in adata.obsm:
        x = adata.obsm[use_rep]
    else:
        msg = f"use_rep={use_rep!r} is not in adata.obsm (keys: {list(adata.obsm)}); use 'X' or one of those."
        raise KeyError(msg)
    x = np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float64)
    labels = pd.Categorical(adata.obs[groupby])
    groups = [g for g in labels.categories if (labels == g).any()]
    centroids = np.stack([x[np.asarray(labels == g)].mean(axis=0) for g in groups])
    diff = centroids[:, None, :] - centroids[None, :, :]
    return pd.DataFrame(np.sqrt((diff**2).sum(-1)), index=groups, columns=groups)
