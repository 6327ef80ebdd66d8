"""The built-in omics tools, registered like any plugin so the registry indexes every method.

``func`` is a lazy ``"module:attr"`` string: registration imports nothing of ``fischer_sc.tl``.
"""

from __future__ import annotations

from ._spec import MethodSpec, hookimpl

BUILTIN_PLUGIN = "fischer_sc"

_METHODS = (
    MethodSpec(
        name="dtsne",
        domain="omics",
        summary="Density-preserving t-SNE: neighbourhoods, global layout and relative densities in one embedding.",
        func="fischer_sc.tl:dtsne",
        reference="arXiv:2301.13732",
        supports_gpu=False,
        writes=("obsm['X_dtsne']", "uns['dtsne']"),
    ),
    MethodSpec(
        name="mercat",
        domain="omics",
        summary="Angle-preserving embedding on the sphere, with map projections to 2-D.",
        func="fischer_sc.tl:mercat",
        reference="arXiv:2406.09876",
        supports_gpu=False,
        writes=("obsm['X_mercat']", "obsm['X_mercat_2d']", "uns['mercat']"),
    ),
    MethodSpec(
        name="factor_out",
        domain="omics",
        summary="JEDI and CONFETTI: embeddings that show the structure beyond a known prior (batch, cell cycle, labels).",
        func="fischer_sc.tl:factor_out",
        reference="arXiv:2103.01828",
        supports_gpu=False,
        writes=(
            "obsm['X_factor_out']",
            "uns['factor_out']",
            "uns['factor_out_neighbors']",
            "obsp['factor_out_distances']",
            "obsp['factor_out_connectivities']",
        ),
    ),
    MethodSpec(
        name="binaps",
        domain="omics",
        summary="BinaPs: interpretable patterns of co-occurring binary features from a binary neural net.",
        func="fischer_sc.tl:binaps",
        reference="doi:10.1145/3447548.3467348",
        requires=("torch",),
        supports_gpu=True,
        writes=("varm['binaps']", "obsm['X_binaps']", "uns['binaps']"),
    ),
    MethodSpec(
        name="diffnaps",
        domain="omics",
        summary="DiffNaps: differential patterns, sets of features jointly present in one group and not in the others.",
        func="fischer_sc.tl:diffnaps",
        reference="arXiv:2312.04311",
        requires=("torch",),
        supports_gpu=True,
        writes=("varm['diffnaps']", "obsm['X_diffnaps']", "uns['diffnaps']"),
    ),
    MethodSpec(
        name="dash_grn",
        domain="omics",
        summary="DASH-pruned PHOENIX neural ODE: sparse, interpretable dynamic gene regulatory networks.",
        func="fischer_sc.tl:dash_grn",
        reference="arXiv:2403.04805",
        requires=("torch",),
        supports_gpu=True,
        writes=(
            "varp['dash_grn']",
            "var['dash_grn_rate']",
            "var['dash_grn_min']",
            "var['dash_grn_max']",
            "uns['dash_grn']",
        ),
    ),
)


def builtin_spec(name: str) -> MethodSpec:
    """The record of the built-in tool ``name`` (tools read their ``supports_gpu`` from it)."""
    for spec in _METHODS:
        if spec.name == name:
            return spec
    msg = f"{name!r} is not a built-in tool; known: {', '.join(s.name for s in _METHODS)}."
    raise KeyError(msg)


class BuiltinMethods:
    """Registers the ``fs.tl`` tools (domain ``"omics"``)."""

    @hookimpl
    def fischer_sc_register_methods(self) -> tuple[MethodSpec, ...]:
        """Return the built-in omics methods."""
        return _METHODS
