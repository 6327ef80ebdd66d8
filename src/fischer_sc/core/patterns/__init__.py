"""Itemsets on sparse binary data and MDL code lengths (Premise, DiffNaps).

Counting kernels (:func:`cooccurring_pairs`, :func:`item_label_counts`, :func:`nonzero_positions`,
:func:`pattern_rows`) work on CSR/CSC matrices made by :func:`binary_csr`; the code-length helpers
give log-binomials, Rissanen's universal integer code and NML complexities. The differential helpers
(:func:`group_frequent_items`, :func:`joint_support_test`, :func:`cooccurrence_patterns`) judge
patterns by their joint support per group.
"""

from ._differential import cooccurrence_patterns, extend_patterns, group_frequent_items, joint_support_test, min_counts
from ._itemsets import binary_csr, cooccurring_pairs, item_label_counts, nonzero_positions, pattern_rows
from ._mdl import (
    log2_binom,
    log2_factorial_table,
    nml_binomial_complexity,
    nml_multinomial_complexity,
    universal_int_length,
)

__all__ = [
    "binary_csr",
    "cooccurrence_patterns",
    "cooccurring_pairs",
    "extend_patterns",
    "group_frequent_items",
    "item_label_counts",
    "joint_support_test",
    "log2_binom",
    "log2_factorial_table",
    "min_counts",
    "nml_binomial_complexity",
    "nml_multinomial_complexity",
    "nonzero_positions",
    "pattern_rows",
    "universal_int_length",
]
