# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Why does my text classifier fail? Error patterns with Premise
#
# Premise (Hedderich et al., ICML 2022) takes the tokens of every instance and whether a classifier
# got it right, and returns a short list of token patterns that are significantly more common among
# the errors (or among the correct predictions) than chance would allow. The list is chosen by
# minimum description length, so it stays small and non-redundant.
#
# Here we build a real, offline text-classification task: **which library does a docstring come
# from?** The docstrings of the installed numpy, scipy, pandas and scikit-learn are labelled by
# library, a TF-IDF + logistic-regression classifier predicts the library out of fold, and Premise
# explains where it goes wrong. Everything runs in well under a minute.

# %%
import importlib
import inspect
import warnings

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import make_pipeline

import fischer_sc as fs

pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## A data set from the installed libraries
#
# The summary paragraph of every public function and class docstring in a few namespaces of each
# library is one instance; identical summaries (aliases) are kept once.

# %%
NAMESPACES = {
    "numpy": ["numpy", "numpy.linalg", "numpy.random", "numpy.fft", "numpy.ma", "numpy.polynomial"],
    "scipy": [
        "scipy.stats",
        "scipy.linalg",
        "scipy.sparse",
        "scipy.signal",
        "scipy.optimize",
        "scipy.special",
        "scipy.interpolate",
        "scipy.ndimage",
        "scipy.spatial",
    ],
    "pandas": ["pandas", "pandas.DataFrame", "pandas.Series", "pandas.Index", "pandas.api.types"],
    "sklearn": [
        "sklearn.linear_model",
        "sklearn.preprocessing",
        "sklearn.metrics",
        "sklearn.cluster",
        "sklearn.decomposition",
        "sklearn.ensemble",
        "sklearn.model_selection",
        "sklearn.feature_extraction.text",
        "sklearn.neighbors",
        "sklearn.svm",
        "sklearn.tree",
    ],
}


def resolve(path):
    """Import the longest module prefix of ``path`` and walk the remaining attributes."""
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(path)


docs, library = [], []
seen = set()
# Touching every public attribute trips a few deprecation warnings; they are irrelevant here.
with warnings.catch_warnings(action="ignore"):
    for lib, paths in NAMESPACES.items():
        for path in paths:
            namespace = resolve(path)
            for name in sorted(dir(namespace)):
                if name.startswith("_"):
                    continue
                try:
                    obj = getattr(namespace, name)
                except Exception:  # noqa: BLE001 - lazy attributes may fail to load; skip them
                    continue
                if inspect.ismodule(obj) or not callable(obj):
                    continue
                doc = inspect.getdoc(obj)
                summary = doc.split("\n\n")[0].replace("\n", " ") if doc else ""
                if len(summary) < 20 or summary in seen:
                    continue
                seen.add(summary)
                docs.append(summary)
                library.append(lib)
library = np.asarray(library)
pd.Series(library).value_counts()

# %%
pd.DataFrame({"library": library, "docstring": docs}).sample(5, random_state=0)

# %% [markdown]
# ## The classifier and its errors
#
# Out-of-fold predictions (5-fold cross-validation) give every docstring a prediction from a
# model that did not see it.

# %%
model = make_pipeline(TfidfVectorizer(min_df=2), LogisticRegression(max_iter=2000, C=3.0))
predicted = cross_val_predict(model, docs, library, cv=5)
is_error = predicted != library
print(f"accuracy {1 - is_error.mean():.3f}, {is_error.sum()} errors out of {len(docs)}")
pd.crosstab(pd.Series(library, name="true"), pd.Series(predicted, name="predicted"))

# %% [markdown]
# ## Premise: which tokens go with the errors?
#
# Premise wants the *set* of tokens of each instance. We use the classifier's own tokenizer so
# that the patterns are in the classifier's vocabulary. The method is a plugin, found through the
# registry like any other method:

# %%
tokenize = TfidfVectorizer().build_analyzer()
tokens = [sorted(set(tokenize(d))) for d in docs]
fs.plugins.list_methods().set_index("name").loc[["premise"], ["domain", "provider", "reference"]]

# %%
patterns = fs.plugins.run("premise", tokens, is_error, progress=False)
patterns[["pattern", "direction", "count_error", "count_correct", "gain_bits", "fisher_p"]]

# %% [markdown]
# Each row is a pattern: its tokens must all be present (`&`). `direction` says whether the
# pattern's instances are mostly errors or mostly correct, relative to the overall error rate;
# `count_error` / `count_correct` count the docstrings it covers in each group; `gain_bits` is how
# many bits the pattern saved when it was added (negative is better; a conjunction kept by the
# refinement described at the end may cost bits); `fisher_p` is the one-sided Fisher exact test
# (not corrected for the many patterns tried, so read it as a ranking aid).
#
# The error patterns are the interesting ones:

# %%
errors = patterns[patterns["direction"] == "error"]
errors[["pattern", "count_error", "count_correct", "fisher_p"]]

# %% [markdown]
# ## Reading a pattern
#
# Take the first error pattern and look at what the classifier did with the docstrings it covers.
# Such confusions are usually between two libraries that share vocabulary: numpy's ufuncs and
# scipy.special's share the signature boilerplate `out=None, *, where=True, casting='same_kind'`,
# and a `matrix` exists in numpy as well as in scipy.sparse and scipy.linalg.

# %%
top = errors.iloc[0]
holds = np.array([all(any(t in toks for t in clause) for clause in top["clauses"]) for toks in tokens])
print(
    f"pattern {top['pattern']!r}: {holds.sum()} docstrings, error rate {is_error[holds].mean():.2f} "
    f"(overall {is_error.mean():.2f})"
)
pd.crosstab(pd.Series(library[holds], name="true"), pd.Series(predicted[holds], name="predicted"))

# %%
pd.DataFrame({"true": library[holds], "predicted": predicted[holds], "docstring": np.asarray(docs)[holds]}).head(8)

# %% [markdown]
# The patterns point at concrete fixes: more training examples of the confused library for those
# tokens, features beyond the bag of words (e.g. the module path), or accepting that some
# docstrings are genuinely ambiguous.
#
# ## The same on cells: where does a cell-type classifier fail?
#
# For omics data the "tokens" are the genes a cell expresses. Premise takes an AnnData with a
# binary matrix and the name of a boolean `obs` column. Here a logistic regression on the first 10
# principal components predicts the `bulk_labels` of scanpy's 700 PBMCs (out of fold), and
# Premise looks for gene sets that go with its mistakes. `pbmc68k_reduced`'s `X` is scaled, so
# the expressed genes come from `raw` (log-normalised counts > 0).

# %%
import anndata as ad

pbmc = fs.datasets.pbmc68k_reduced()
cell_type = pbmc.obs["bulk_labels"].astype(str).to_numpy()
predicted_type = cross_val_predict(LogisticRegression(max_iter=3000), pbmc.obsm["X_pca"][:, :10], cell_type, cv=5)
cells = ad.AnnData(
    (pbmc.raw.X > 0).astype(np.int8),
    obs=pd.DataFrame({"wrong": predicted_type != cell_type}, index=pbmc.obs_names),
    var=pd.DataFrame(index=pbmc.raw.var_names),
)
print(f"cell-type accuracy {1 - cells.obs['wrong'].mean():.3f}")
gene_patterns = fs.plugins.run("premise", cells, "wrong", progress=False)
gene_patterns.loc[gene_patterns["direction"] == "error", ["pattern", "count_error", "count_correct", "fisher_p"]]

# %% [markdown]
# Each error pattern is a set of genes expressed together in cells the classifier gets wrong more
# often than its overall error rate; comparing the true and predicted types of those cells (as
# above for the docstrings) says which populations the 10 components fail to separate.

# %% [markdown]
# ## Conjunctions of frequent tokens
#
# The paper's code splits a conjunction of two frequent tokens into two single-token patterns:
# covering occurrences of a token that is in a third of all instances saves too few bits to pay
# for the conjunction, while each token alone holds its errors. Premise here tests each part given
# the other after the MDL search and keeps the conjunction when it explains the errors and its
# parts do not (`refine_conjunctions=True`, the default; see the docs). On planted data with a
# single token, a pair and a triple drawn from the 3rd-20th most frequent tokens:

# %%
from fischer_sc_premise import planted_errors, premise

planted = planted_errors(6000, 500, rule_sizes=(1, 2, 3), rule_token_ranks=(3, 20), random_state=2)
print("planted:", [" & ".join(map(str, r)) for r in planted.rules])
paper = premise(planted.X, planted.is_error, refine_conjunctions=False, progress=False)
refined = premise(planted.X, planted.is_error, progress=False)
pd.concat(
    {
        "paper's objective": paper[["pattern", "direction", "origin"]],
        "refined": refined[["pattern", "direction", "origin"]],
    },
    axis=1,
)
