"""Pruning core shared by DASH-GRN and the lottery plugin: exact top-k masks, schedules, supermasks.

Every function speaks of ``density``, the *kept* fraction in (0, 1] (torch's ``prune`` speaks of
``amount``, the removed one). Masks keep exactly ``kept_count(n, density)`` entries with a
deterministic tie-break (lower flat index first). Needs torch; ``import fischer_sc`` does not load it.
"""

from ._dash import dash_first_scores, dash_magnitude, dash_output_scores, least_squares
from ._masks import (
    apply_masks,
    check_density,
    kept_count,
    magnitude_scores,
    score_masks,
    to_torch_prune,
    topk_mask,
)
from ._schedules import density_schedule
from ._scorers import grasp_scores, random_scores, snip_scores, synflow_scores
from ._straight_through import StraightThroughTopK, straight_through_topk
from ._supermask import SupermaskLinear

__all__ = [
    "StraightThroughTopK",
    "SupermaskLinear",
    "apply_masks",
    "check_density",
    "dash_first_scores",
    "dash_magnitude",
    "dash_output_scores",
    "density_schedule",
    "grasp_scores",
    "kept_count",
    "least_squares",
    "magnitude_scores",
    "random_scores",
    "score_masks",
    "snip_scores",
    "straight_through_topk",
    "synflow_scores",
    "to_torch_prune",
    "topk_mask",
]
