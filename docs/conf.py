"""Sphinx configuration of the fischer_sc documentation.

Build: ``.venv/bin/sphinx-build -W --keep-going -b html docs docs/_build/html`` (``make docs``).
The tutorials live in ``tutorials/`` at the repository root as jupytext percent scripts; ``docs/tutorials``
is a committed symlink to that folder, and myst-nb executes them during the build.
"""

from __future__ import annotations

import re
import typing
import warnings
from typing import Any

import fischer_sc

# sphinx-autodoc-typehints calls an API that Sphinx 10 removes; a deprecation notice for its
# maintainers, printed once per docstring. Only this message is silenced, only in the docs build.
warnings.filterwarnings(  # noqa: TID251 (a build script, not library code)
    "ignore", message=r".*_RstSnippetParser\.set_application.*is deprecated", category=DeprecationWarning
)

# -- Project --------------------------------------------------------------------------------------

project = "fischer_sc"
author = "fischer_sc developers"
copyright = "fischer_sc developers"
version = fischer_sc.__version__
release = fischer_sc.__version__

# -- General --------------------------------------------------------------------------------------

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx_autodoc_typehints",  # after napoleon
    "sphinxcontrib.bibtex",
]

# Markdown pages (myst), notebooks, and the tutorials as jupytext percent scripts.
source_suffix = {
    ".rst": "restructuredtext",
    ".md": "myst-nb",
    ".ipynb": "myst-nb",
    ".py": "myst-nb",
}
# Only the tutorials are notebooks: every other .py file in docs/ (conf.py, helpers) is excluded.
# Sphinx's ``*`` does not cross ``/``, so ``*.py`` matches the top level only.
exclude_patterns = [
    "_build",
    "jupyter_execute",
    "*.py",
    "_*/**",
    "**/.ipynb_checkpoints",
    "**/__pycache__",
    "tutorials/**.md",  # a README in tutorials/ is not a tutorial
    "**/_*.py",  # nor is a private helper module
]
templates_path = ["_templates"]
root_doc = "index"
language = "en"

# The typehints options below hold functions, which Sphinx cannot pickle into its environment cache;
# it says so once per build. Rebuilding those pages on every build is fine.
suppress_warnings = ["config.cache"]

# Every cross-reference must resolve. Without network access there is no intersphinx, so references
# to other projects' objects cannot resolve; they are ignored below, and only those.

nitpicky = True
nitpick_ignore_regex = [
    # third-party libraries
    (r"py:.*", r"(anndata|numpy|pandas|scipy|matplotlib|scanpy|pluggy|torch|numba)(\..*)?"),
    # the standard library (builtins such as int or KeyError resolve without help)
    (r"py:.*", r"(typing|collections\.abc|os|pathlib)\..*"),
    (r"py:data", r"Ellipsis"),
]

# -- autodoc / autosummary / napoleon / typehints --------------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
autoclass_content = "class"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_include_init_with_doc = False
napoleon_use_rtype = True
napoleon_use_param = True
typehints_defaults = "braces"
typehints_document_rtype = True
always_use_bars_union = True


def _typehints_formatter(annotation: Any, config: Any) -> str | None:
    """Show a TypeVar as its bound (``F`` of ``njit`` reads as ``Callable[..., Any]``): it has no page of its own."""
    if isinstance(annotation, typing.TypeVar):
        from sphinx_autodoc_typehints import format_annotation

        return (
            format_annotation(annotation.__bound__, config)
            if annotation.__bound__ is not None
            else ":py:data:`~typing.Any`"
        )
    return None


typehints_formatter = _typehints_formatter


def _public_module(name: str) -> str:
    """``fischer_sc.plugins._spec`` -> ``fischer_sc.plugins``: our objects are documented where they are public."""
    if name.startswith("fischer_sc."):
        parts = name.split(".")
        while len(parts) > 1 and parts[-1].startswith("_"):
            parts.pop()
        return ".".join(parts)
    return name


typehints_fixup_module_name = _public_module

# -- bibliography ---------------------------------------------------------------------------------

bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "unsrt"
bibtex_reference_style = "author_year"

# -- myst / myst-nb -------------------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = "cache"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
nb_execution_in_temp = True
nb_merge_streams = True

# -- HTML -----------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"fischer_sc {release}"
html_static_path: list[str] = []


# -- docstring adjustments (docs only; the docstrings in src/ stay as they are) --------------------

_SECTION_RULE = re.compile(r"^-{3,}$")
_NUMPY_FIELD = re.compile(r"^\S.*\s:\s\S")


def _free_text_returns(app, what, name, obj, options, lines: list[str]) -> None:
    """Render a scanpy-style free-text ``Returns`` section as prose instead of a list of types.

    numpydoc reads every unindented line of ``Returns`` as a type; scanpy (and fischer_sc) write
    ``Returns`` as a sentence, optionally followed by ``field : type`` entries for what is written
    into ``adata``. Such a section becomes a ``:returns:`` field whose body keeps the entries as a
    definition list. Sections in the numpydoc form (``name : type`` on the first line) are left to napoleon.
    """
    for i in range(len(lines) - 1):
        if lines[i].strip() == "Returns" and _SECTION_RULE.match(lines[i + 1].strip()):
            break
    else:
        return
    end = len(lines)
    for j in range(i + 2, len(lines) - 1):
        if lines[j] and not lines[j][0].isspace() and _SECTION_RULE.match(lines[j + 1].strip()):
            end = j
            break
    body = lines[i + 2 : end]
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    if not body or _NUMPY_FIELD.match(body[0]):
        return
    # Two blank lines end napoleon's previous section, so it passes the field through untouched.
    field = ["", "", f":returns: {body[0]}", *(f"    {line}" if line.strip() else "" for line in body[1:]), ""]
    lines[i:end] = field


def _hookimpl_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    """``hookimpl`` is a pluggy marker instance: document it with the comment next to its definition."""
    if name in {"fischer_sc.plugins.hookimpl", "fischer_sc.hookimpl"}:
        from sphinx.pycode import ModuleAnalyzer

        docs = ModuleAnalyzer.for_module("fischer_sc.plugins._spec").find_attr_docs()
        lines[:] = [*docs[("", "hookimpl")]]


def setup(app) -> None:
    # Before napoleon (priority 500), which would otherwise read the prose as types.
    app.connect("autodoc-process-docstring", _free_text_returns, priority=400)
    app.connect("autodoc-process-docstring", _hookimpl_docstring, priority=600)
