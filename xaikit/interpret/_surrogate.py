"""Global surrogate: a decision tree (scikit-learn) that imitates a model's predictions on interpretable features."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._validation import check_float, check_int

__all__ = ["SurrogateTree", "fit_surrogate"]


@dataclass(frozen=True)
class SurrogateTree:
    """A fitted surrogate and how well it stands in for the model.

    Attributes
    ----------
    tree : the fitted ``sklearn.tree.DecisionTreeClassifier``.
    features : feature names, in column order.
    fidelity : share of the evaluation rows where the tree predicts what the model predicted.
    n_leaves, depth : the tree's size.
    used : features the tree splits on, most important (impurity decrease) first.
    importance : Series of impurity-based importances per feature.
    true_features : the features the data generator really used (as given), or empty.
    recall : share of ``true_features`` the tree uses (NaN without ``true_features``).
    precision : share of the used features that are true (NaN without ``true_features`` or with no split).
    rules : the tree as text (``sklearn.tree.export_text``).
    """

    tree: object
    features: tuple[str, ...]
    fidelity: float
    n_leaves: int
    depth: int
    used: tuple[str, ...]
    importance: pd.Series
    true_features: tuple[str, ...]
    recall: float
    precision: float
    rules: str


def fit_surrogate(features: pd.DataFrame, predictions, *, eval_features: pd.DataFrame | None = None,
                  eval_predictions=None, true_features: tuple[str, ...] | list[str] = (), max_depth: int | None = 3,
                  min_samples_leaf: int = 5, ccp_alpha: float = 0.0, seed: int = 0) -> SurrogateTree:
    """Fit a decision tree to a model's predicted classes on interpretable features (Craven & Shavlik 1996).

    Parameters
    ----------
    features : DataFrame (N, F) of interpretable features (e.g. :func:`phantom_concepts`); bools are cast to 0/1.
    predictions : the model's predicted class per row (N,) — what the tree imitates, not the true labels.
    eval_features, eval_predictions : held-out rows for the fidelity (default: the fitting rows).
    true_features : the features the generator used to make the label, for ``recall``/``precision``.
    max_depth, min_samples_leaf, ccp_alpha : the tree's size controls (scikit-learn's meaning).
    seed : ``random_state`` of the tree (ties between equally good splits).

    Returns
    -------
    SurrogateTree

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f = pd.DataFrame({"a": rng.random(200), "b": rng.random(200)})
    >>> s = fit_surrogate(f, (f["b"] > 0.3).astype(int), true_features=["b"])
    >>> s.used, s.fidelity, s.recall
    (('b',), 1.0, 1.0)
    """
    from sklearn.tree import DecisionTreeClassifier, export_text

    ctx = "fit_surrogate"
    if max_depth is not None:
        check_int("max_depth", max_depth, min_value=1, context=ctx)
    check_int("min_samples_leaf", min_samples_leaf, min_value=1, context=ctx)
    check_float("ccp_alpha", ccp_alpha, min_value=0.0, context=ctx)
    check_int("seed", seed, min_value=0, context=ctx)
    if not isinstance(features, pd.DataFrame) or features.shape[1] == 0:
        raise ValueError(f"features must be a non-empty DataFrame, got {type(features).__name__}")
    names = tuple(str(c) for c in features.columns)
    unknown = [f for f in true_features if f not in names]
    if unknown:
        raise ValueError(f"true_features must be columns of features {list(names)}, got unknown {unknown}")
    x = features.astype(float).to_numpy()
    y = np.asarray(predictions).ravel()
    if len(y) != len(x):
        raise ValueError(f"predictions must have one entry per row of features ({len(x)}), got {len(y)}")
    if not np.isfinite(x).all():
        raise ValueError("features contain NaN or infinite values; fill them (e.g. 0 for absent lesions) first")
    if (eval_features is None) != (eval_predictions is None):
        raise ValueError("eval_features and eval_predictions must be given together")
    tree = DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf, ccp_alpha=ccp_alpha,
                                  random_state=seed).fit(x, y)
    if eval_features is None:
        xe, ye = x, y
    else:
        xe, ye = eval_features[list(names)].astype(float).to_numpy(), np.asarray(eval_predictions).ravel()
    fidelity = float((tree.predict(xe) == ye).mean())
    split_idx = tree.tree_.feature[tree.tree_.feature >= 0]
    importance = pd.Series(tree.feature_importances_, index=list(names))
    used = tuple(sorted({names[i] for i in split_idx}, key=lambda f: (-importance[f], f)))
    true = tuple(true_features)
    recall = float(np.mean([f in used for f in true])) if true else float("nan")
    precision = float(np.mean([f in true for f in used])) if true and used else float("nan")
    return SurrogateTree(tree=tree, features=names, fidelity=fidelity, n_leaves=int(tree.get_n_leaves()),
                         depth=int(tree.get_depth()), used=used, importance=importance, true_features=true,
                         recall=recall, precision=precision, rules=export_text(tree, feature_names=list(names)))
