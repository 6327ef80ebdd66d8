"""Planting a target ticket into a random host network (Plant 'n' Seek, App. A.3, Alg. 1-2).

Each target neuron is assigned to the host neuron whose random incoming weights and bias already
"look like" it up to a positive scale gamma; those entries are overwritten with gamma times the
target's, so by the positive homogeneity of ReLU the host neuron outputs gamma times the target
neuron. The host restricted to the planted entries, divided by the output scales, is the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tickets import TargetNetwork

__all__ = ["PlantedNetwork", "he_scaled_host", "plant"]


def he_scaled_host(widths: list[int], rng: np.random.Generator) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Random host with non-zero biases: w_l ~ N(0, 2/n_l), b_l ~ N(0, prod_{k<=l} 2/n_k) (``init_He_scaled``).

    ``n_l`` is the fan-in of layer l; weights are (fan_in, fan_out).
    """
    weights, biases = [], []
    bias_std = 1.0
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        w_std = np.sqrt(2.0 / n_in)
        bias_std *= w_std
        weights.append(rng.normal(0.0, w_std, size=(n_in, n_out)))
        biases.append(rng.normal(0.0, bias_std, size=n_out))
    return weights, biases


def _forward(weights: list[np.ndarray], biases: list[np.ndarray], X: np.ndarray) -> np.ndarray:
    h = np.asarray(X, dtype=np.float64)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0.0)
    return h


@dataclass
class PlantedNetwork:
    """A random host network with a target ticket planted in it.

    Attributes
    ----------
    weights, biases
        The host after planting, float64, weights (fan_in, fan_out), input to output.
    true_mask
        Boolean masks of the planted weights, one per weight matrix, shaped like ``weights``.
    true_bias_mask
        Boolean masks of the planted (non-zero) biases.
    scale
        gamma_out, one positive factor per output: the planted subnetwork outputs ``scale *`` target.
    target
        The target network that was planted.
    task
        The task name, or ``None`` for a user-given target.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    true_mask: list[np.ndarray]
    true_bias_mask: list[np.ndarray]
    scale: np.ndarray
    target: TargetNetwork
    task: str | None = None
    neurons: list[np.ndarray] = field(default_factory=list)

    @property
    def density(self) -> float:
        """The ticket's density, planted weights over all host weights (biases not counted)."""
        return float(sum(int(m.sum()) for m in self.true_mask) / sum(m.size for m in self.true_mask))

    @property
    def joint_density(self) -> float:
        """Planted weights and biases over all host weights and biases."""
        kept = sum(int(m.sum()) for m in self.true_mask) + sum(int(m.sum()) for m in self.true_bias_mask)
        return float(kept / (sum(m.size for m in self.true_mask) + sum(m.size for m in self.true_bias_mask)))

    @property
    def widths(self) -> list[int]:
        """Host layer widths, input to output."""
        return [self.weights[0].shape[0]] + [w.shape[1] for w in self.weights]

    @property
    def depth(self) -> int:
        """Layers including the input layer."""
        return len(self.weights) + 1

    @property
    def n_inputs(self) -> int:
        """Input features."""
        return self.weights[0].shape[0]

    @property
    def n_outputs(self) -> int:
        """Outputs."""
        return self.weights[-1].shape[1]

    def _check_X(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            msg = f"X must have shape (n, {self.n_inputs}), got {X.shape}."
            raise ValueError(msg)
        return X

    def target_forward(self, X: np.ndarray) -> np.ndarray:
        """The target ticket's output, (n, n_outputs) float64."""
        return self.target.forward(self._check_X(X))

    def masked_forward(
        self, X: np.ndarray, masks: list[np.ndarray], bias_masks: list[np.ndarray] | None = None
    ) -> np.ndarray:
        """The host restricted to ``masks`` (and ``bias_masks``; all biases when ``None``), divided by ``scale``."""
        if len(masks) != len(self.weights):
            msg = f"got {len(masks)} masks for {len(self.weights)} weight matrices."
            raise ValueError(msg)
        weights = [w * np.asarray(m, dtype=bool) for w, m in zip(self.weights, masks, strict=True)]
        biases = self.biases if bias_masks is None else [b * m for b, m in zip(self.biases, bias_masks, strict=True)]
        return _forward(weights, biases, self._check_X(X)) / self.scale

    def planted_forward(self, X: np.ndarray) -> np.ndarray:
        """The host restricted to the planted weights and biases, divided by ``scale``: equals the target."""
        return self.masked_forward(X, self.true_mask, self.true_bias_mask)

    def host_forward(self, X: np.ndarray, *, unscale: bool = True) -> np.ndarray:
        """The whole host network's output (divided by ``scale`` like the planted one when ``unscale``)."""
        out = _forward(self.weights, self.biases, self._check_X(X))
        return out / self.scale if unscale else out


def _signs_match(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rows of ``u`` whose signs equal ``v``'s on the non-zeros of ``v``."""
    nz = v != 0
    return (np.sign(u[:, nz]) == np.sign(v[nz])[None, :]).all(axis=1)


def plant(
    target: TargetNetwork, host_weights: list[np.ndarray], host_biases: list[np.ndarray], *, task: str | None = None
) -> PlantedNetwork:
    """Plant ``target`` into the host (copied, not modified).

    The host must have the target's depth, inputs and outputs, and hidden layers at least as wide as
    the target's. Returns a :class:`PlantedNetwork`.
    """
    weights = [np.array(w, dtype=np.float64) for w in host_weights]
    biases = [np.array(b, dtype=np.float64) for b in host_biases]
    t_widths = target.widths
    h_widths = [weights[0].shape[0]] + [w.shape[1] for w in weights]
    if len(h_widths) != len(t_widths):
        msg = f"the host has depth {len(h_widths)} but the target {len(t_widths)}."
        raise ValueError(msg)
    if h_widths[0] != t_widths[0] or h_widths[-1] != t_widths[-1]:
        msg = f"host inputs/outputs {h_widths[0]}/{h_widths[-1]} differ from the target's {t_widths[0]}/{t_widths[-1]}."
        raise ValueError(msg)
    too_narrow = [(i, t, h) for i, (t, h) in enumerate(zip(t_widths, h_widths, strict=True)) if t > h]
    if too_narrow:
        i, t, h = too_narrow[0]
        msg = f"layer {i} of the target has {t} neurons but the host only {h}; use width >= {max(x[1] for x in too_narrow)}."
        raise ValueError(msg)

    idx_in = np.arange(t_widths[0])
    c_in = np.ones(t_widths[0])
    true_mask, bias_mask, neurons = [], [], []
    scale = np.ones(t_widths[-1])
    for layer, (tw, tb) in enumerate(zip(target.weights, target.biases, strict=True)):
        w, b = weights[layer], biases[layer]
        mask = np.zeros(w.shape, dtype=bool)
        bmask = np.zeros(b.shape, dtype=bool)
        used = np.zeros(w.shape[1], dtype=bool)
        idx_out = np.empty(tw.shape[1], dtype=np.int64)
        c_out = np.empty(tw.shape[1])
        for j in range(tw.shape[1]):
            S = np.flatnonzero(tw[:, j])
            v = np.concatenate([[tb[j]], tw[S, j] / c_in[S]])
            if not np.any(v):
                msg = f"target neuron {j} of layer {layer} is constant zero (no non-zero weights or bias); remove it."
                raise ValueError(msg)
            u = np.concatenate([b[:, None], w[idx_in[S], :].T], axis=1)  # (host neurons, 1 + |S|)
            gamma = u @ v / (v @ v)
            ok = (gamma > 0) & _signs_match(u, v) & ~used
            if ok.any():
                dist = np.abs(u - gamma[:, None] * v[None, :]).sum(axis=1)
                k = int(np.flatnonzero(ok)[np.argmin(dist[ok])])
                g = float(gamma[k])
            else:
                k = j if not used[j] else int(np.flatnonzero(~used)[0])
                # Scale from one existing entry: the first non-zero weight (the bias for a weightless neuron).
                first = 1 if len(v) > 1 else 0
                g = abs(u[k, first] / v[first])
                if not np.isfinite(g) or g == 0.0:
                    g = 1.0
            w[idx_in[S], k] = g * v[1:]
            b[k] = g * v[0]
            mask[idx_in[S], k] = True
            bmask[k] = v[0] != 0
            used[k] = True
            idx_out[j], c_out[j] = k, g
        true_mask.append(mask)
        bias_mask.append(bmask)
        neurons.append(idx_out)
        idx_in, c_in = idx_out, c_out
    # Reorder the output columns so host output j carries target output j (times scale[j]).
    perm = idx_in  # a permutation: the host has exactly the target's outputs
    weights[-1], biases[-1] = weights[-1][:, perm], biases[-1][perm]
    true_mask[-1], bias_mask[-1] = true_mask[-1][:, perm], bias_mask[-1][perm]
    neurons[-1] = np.arange(t_widths[-1])
    scale[:] = c_in
    return PlantedNetwork(weights, biases, true_mask, bias_mask, scale, target, task, neurons)


# Documented (and pickled) under the package name, where it is public.
PlantedNetwork.__module__ = "fischer_sc_lottery"
