"""Data: synthetic generators with planted ground truth, and loaders for data that ships with installed packages."""

from ._blobs import PRESETS, gaussian_blobs, gaussian_mixture
from ._factor_out import factor_out_blocks
from ._grn import corrupt_prior, krumsiek11_network, random_signed_network, simulate_grn
from ._interactions import interaction_patterns
from ._patterns import planted_pattern_sets, planted_patterns
from ._shipped import krumsiek11, pbmc68k_reduced
from ._sphere import circle, noisy_sphere, smiley, spiked

__all__ = [
    "circle",
    "noisy_sphere",
    "smiley",
    "spiked",
    "PRESETS",
    "corrupt_prior",
    "factor_out_blocks",
    "gaussian_blobs",
    "gaussian_mixture",
    "interaction_patterns",
    "krumsiek11",
    "krumsiek11_network",
    "pbmc68k_reduced",
    "planted_pattern_sets",
    "planted_patterns",
    "random_signed_network",
    "simulate_grn",
]
