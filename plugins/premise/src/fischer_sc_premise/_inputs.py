"""Turn the user's instances, labels, vocabulary and embeddings into a binary CSR matrix and arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from fischer_sc.core.patterns import binary_csr


def _is_anndata(obj: Any) -> bool:
    # Checked by type name so that AnnData is never imported for token-list users.
    return type(obj).__name__ == "AnnData" and hasattr(obj, "obs") and hasattr(obj, "var_names")


def instances_to_csr(instances: Any, vocabulary: Sequence | None) -> tuple[sparse.csr_matrix, list, Any | None]:
    """The binary instance x item matrix, the item names, and the AnnData if one was given.

    Returns
    -------
    X, names, adata
        ``names[j]`` is how item ``j`` appears in the output patterns.
    """
    if _is_anndata(instances):
        adata = instances
        X = adata.X
        if X is None:
            msg = "the AnnData has no X; put the binary instance x token matrix in adata.X."
            raise ValueError(msg)
        names = list(adata.var_names) if vocabulary is None else _checked_vocabulary(vocabulary, X.shape[1])
        return _matrix(X), names, adata
    if sparse.issparse(instances) or isinstance(instances, np.ndarray):
        if instances.ndim != 2:
            msg = f"instances given as a matrix must be 2-D (instances x tokens), got shape {instances.shape}."
            raise ValueError(msg)
        names = (
            list(range(instances.shape[1]))
            if vocabulary is None
            else _checked_vocabulary(vocabulary, instances.shape[1])
        )
        return _matrix(instances), names, None
    if isinstance(instances, (str, bytes)) or not isinstance(instances, Sequence):
        msg = (
            "instances must be a list of token lists (ids or strings), a scipy sparse / numpy instance x token "
            f"matrix, or an AnnData; got {type(instances).__name__}."
        )
        raise TypeError(msg)
    return _token_lists(instances, vocabulary) + (None,)


def _checked_vocabulary(vocabulary: Sequence, m: int) -> list:
    vocab = list(vocabulary)
    if len(vocab) != m:
        msg = f"vocabulary has {len(vocab)} entries but the matrix has {m} token columns; give one name per column."
        raise ValueError(msg)
    return vocab


def _matrix(X: Any) -> sparse.csr_matrix:
    if sparse.issparse(X):
        data = X.data
    else:
        X = np.asarray(X)
        data = X
    if data.dtype.kind not in "biuf":
        msg = f"the instance x token matrix must be numeric (0/1 or counts), got dtype {data.dtype}."
        raise TypeError(msg)
    if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
        msg = "the instance x token matrix contains NaN or inf; binarise it (e.g. X > 0) first."
        raise ValueError(msg)
    return binary_csr(X)


def _token_lists(instances: Sequence, vocabulary: Sequence | None) -> tuple[sparse.csr_matrix, list]:
    if len(instances) == 0:
        msg = "instances is empty; give at least one instance per label (errors and correct predictions)."
        raise ValueError(msg)
    kinds = set()
    for i, inst in enumerate(instances):
        if isinstance(inst, (str, bytes)) or not isinstance(inst, (Sequence, np.ndarray, set, frozenset)):
            msg = (
                f"instances[{i}] is a {type(inst).__name__}; each instance must be a list of tokens "
                "(split strings first, e.g. text.split())."
            )
            raise TypeError(msg)
        for tok in inst:
            kinds.add(
                "int"
                if isinstance(tok, (int, np.integer)) and not isinstance(tok, bool)
                else "str"
                if isinstance(tok, str)
                else type(tok).__name__
            )
    if not kinds <= {"int", "str"} or len(kinds) > 1:
        msg = f"tokens must be all ints (ids) or all strings; found {sorted(kinds)}."
        raise TypeError(msg)
    if kinds == {"int"}:
        top = max((max(inst) for inst in instances if len(inst)), default=-1)
        low = min((min(inst) for inst in instances if len(inst)), default=0)
        if low < 0:
            msg = f"token ids must be >= 0, found {low}."
            raise ValueError(msg)
        if vocabulary is not None:
            names = list(vocabulary)
            if top >= len(names):
                msg = f"token id {top} is out of range for a vocabulary of {len(names)} entries."
                raise ValueError(msg)
        else:
            names = list(range(top + 1))
        ids = [np.asarray(list(inst), dtype=np.int64) for inst in instances]
    else:
        index: dict[str, int] = {}
        names = []
        if vocabulary is not None:
            for tok in vocabulary:
                if tok not in index:
                    index[tok] = len(names)
                    names.append(tok)
        ids = []
        for inst in instances:
            row = []
            for tok in inst:
                j = index.get(tok)
                if j is None:
                    j = index[tok] = len(names)
                    names.append(tok)
                row.append(j)
            ids.append(np.asarray(row, dtype=np.int64))
    lengths = np.array([r.size for r in ids], dtype=np.int64)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    indices = np.concatenate(ids) if ids else np.empty(0, np.int64)
    m = max(len(names), 1)
    X = sparse.csr_matrix((np.ones(indices.size, dtype=np.int8), indices, indptr), shape=(len(ids), m))
    return binary_csr(X), names


def labels_from(is_error: Any, n: int, adata: Any | None) -> np.ndarray:
    """``is_error`` as an int8 array of 0 (correct) / 1 (error), validated."""
    if isinstance(is_error, str):
        if adata is None:
            msg = "is_error is a string; it can name an obs column only when instances is an AnnData."
            raise TypeError(msg)
        if is_error not in adata.obs:
            msg = f"is_error={is_error!r} is not a column of adata.obs; available: {list(adata.obs.columns)[:10]}."
            raise KeyError(msg)
        is_error = adata.obs[is_error].to_numpy()
    arr = np.asarray(is_error)
    if arr.ndim != 1 or arr.shape[0] != n:
        msg = f"is_error must have one entry per instance ({n}), got shape {arr.shape}."
        raise ValueError(msg)
    if arr.dtype == bool or (arr.dtype.kind in "iuf" and np.all(np.isin(arr, (0, 1)))):
        out = arr.astype(np.int8)
    else:
        msg = (
            "is_error must be boolean (True where the classifier was wrong) or 0/1; got values like "
            f"{list(np.unique(arr.astype(str))[:3])}. Build it as `predictions != gold`."
        )
        raise TypeError(msg)
    n_err = int(out.sum())
    if n_err == 0 or n_err == n:
        msg = f"is_error must hold both errors and correct predictions; got {n_err} errors out of {n}."
        raise ValueError(msg)
    return out


def embeddings_matrix(embeddings: Any, names: list, vocabulary_size: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for the items that have one: ``(vectors (k, d), item indices (k,))``.

    An array is aligned with the vocabulary (its first rows are items ``0..len - 1``); a mapping goes
    from token to vector and items without an entry get no neighbours.
    """
    if isinstance(embeddings, Mapping):
        items = [j for j, name in enumerate(names) if name in embeddings]
        if not items:
            msg = "no token of the instances has an entry in the embeddings mapping."
            raise ValueError(msg)
        vecs = np.asarray([np.asarray(embeddings[names[j]], dtype=np.float64) for j in items])
        if vecs.ndim != 2:
            msg = "every vector of the embeddings mapping must be 1-D with the same length."
            raise ValueError(msg)
        return vecs, np.asarray(items, dtype=np.int64)
    vecs = np.asarray(embeddings, dtype=np.float64)
    expected = vocabulary_size if vocabulary_size is not None else len(names)
    if vecs.ndim != 2 or vecs.shape[0] != expected:
        msg = (
            f"embeddings has shape {vecs.shape} but needs one row per vocabulary entry, ({expected}, d); "
            "or pass a mapping token -> vector."
        )
        raise ValueError(msg)
    if not np.all(np.isfinite(vecs)):
        msg = "embeddings contain NaN or inf."
        raise ValueError(msg)
    return vecs, np.arange(expected, dtype=np.int64)
