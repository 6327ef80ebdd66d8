"""Quality measures for embeddings, patterns and networks, used by the tests, the benchmarks and users.

All take plain arrays: the data ``X`` and its embedding ``Y`` for the same points, rows aligned.
"""

from ._angles import (
    angle_preservation,
    distance_preservation,
    local_triples,
    random_triples,
    triple_angles,
    triplet_accuracy,
)
from ._distances import (
    cluster_size_ratios,
    density_correlation,
    global_distance_correlation,
    local_distance_correlation,
    local_radius,
    log_radius_correlation,
)
from ._grn import edge_aupr, edge_auroc, edge_balanced_accuracy, sparsity, top_edges
from ._masks import mask_recovery
from ._neighbours import continuity, knn_recall, neighbourhood_overlap, neighbourhood_overlap_auc, trustworthiness
from ._pattern_auc import class_soft_f1, coverage_specificity_auc, pattern_set_summary
from ._patterns import jaccard_matrix, soft_precision_recall_f1
from ._prior_overlap import knn_label_accuracy, label_neighbourhood_overlap, label_overlap_auc, prior_overlap_auc
from ._saliency import localisation_mass, spearman_similarity, ssim

__all__ = [
    "angle_preservation",
    "distance_preservation",
    "local_triples",
    "random_triples",
    "triple_angles",
    "triplet_accuracy",
    "class_soft_f1",
    "cluster_size_ratios",
    "continuity",
    "coverage_specificity_auc",
    "density_correlation",
    "edge_aupr",
    "edge_auroc",
    "edge_balanced_accuracy",
    "global_distance_correlation",
    "jaccard_matrix",
    "knn_label_accuracy",
    "knn_recall",
    "label_neighbourhood_overlap",
    "label_overlap_auc",
    "local_distance_correlation",
    "local_radius",
    "localisation_mass",
    "log_radius_correlation",
    "mask_recovery",
    "neighbourhood_overlap",
    "neighbourhood_overlap_auc",
    "pattern_set_summary",
    "prior_overlap_auc",
    "soft_precision_recall_f1",
    "sparsity",
    "spearman_similarity",
    "ssim",
    "top_edges",
    "trustworthiness",
]
