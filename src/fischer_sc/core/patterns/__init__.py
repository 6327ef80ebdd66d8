"""Itemsets on sparse binary data and MDL code lengths (Premise, DiffNaps).

Counting kernels (:func:`cooccurring_pairs`, :func:`item_label_counts`, :func:`nonzero_positions`,
:func:`pattern_rows`) work on CSR/CSC matrices made by :func:`binary_csr`; the code-length helpers
give log-binomials, Rissanen's universal integer code and NML complexities.
"""

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
    "cooccurring_pairs",
    "item_label_counts",
    "log2_binom",
    "log2_factorial_table",
    "nml_binomial_complexity",
    "nml_multinomial_complexity",
    "nonzero_positions",
    "pattern_rows",
    "universal_int_length",
]
