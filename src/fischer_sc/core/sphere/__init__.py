"""Mercat's sphere: spectral denoising, triple sampling and Riemannian optimisation on S^2.

Stages (each a plain function): :func:`~fischer_sc.core.sphere.denoise` (PCA scores of a
Marchenko-Pastur rank) -> :func:`~fischer_sc.core.sphere.half_sphere_init` ->
:func:`~fischer_sc.core.sphere.optimise_sphere` (numba kernels over freshly sampled triples,
plus the kNN/InfoNCE neighbour term; tangent projection + Adam + retraction; an optional slow
refinement stage) -> :func:`~fischer_sc.core.sphere.canonical_orientation`
-> :func:`~fischer_sc.core.sphere.map_projection`.
No AnnData here; the kernels take an explicit seed and are tested against the slow references
(``*_reference``).
"""

from ._denoise import RANK_RANGE, Denoised, denoise, mp_median, mp_rank
from ._geometry import (
    PROJECTIONS,
    canonical_orientation,
    canonical_rotation,
    chord_angle,
    geodesic_distance,
    half_sphere_init,
    lon_lat,
    map_projection,
    orthographic,
    retract,
    spherical_angle,
    tangent_project,
    unit_rows,
)
from ._kernels import ANGLES, LOSSES, SAMPLINGS, sample_triples
from ._optimise import SphereResult, learning_rate_at, optimise_sphere
from ._reference import (
    epoch_gradient_reference,
    full_loss_reference,
    neighbour_draws_reference,
    neighbour_gradient_reference,
    neighbour_loss_reference,
    sample_triples_reference,
    triple_loss_reference,
)

__all__ = [
    "ANGLES",
    "LOSSES",
    "PROJECTIONS",
    "RANK_RANGE",
    "SAMPLINGS",
    "Denoised",
    "SphereResult",
    "canonical_orientation",
    "canonical_rotation",
    "chord_angle",
    "denoise",
    "epoch_gradient_reference",
    "full_loss_reference",
    "geodesic_distance",
    "half_sphere_init",
    "learning_rate_at",
    "lon_lat",
    "map_projection",
    "mp_median",
    "mp_rank",
    "neighbour_draws_reference",
    "neighbour_gradient_reference",
    "neighbour_loss_reference",
    "optimise_sphere",
    "orthographic",
    "retract",
    "sample_triples",
    "sample_triples_reference",
    "spherical_angle",
    "tangent_project",
    "triple_loss_reference",
    "unit_rows",
]
