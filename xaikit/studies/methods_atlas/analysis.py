"""Study 4's numbers: every method and model-free baseline scored on every criterion, seed-level intervals, the
pass/fail rules of Arun et al. (2021) and the "which method, for what" selection.

Every score is one row of a tidy frame ``seed, arch, method, kind, criterion, metric, image, score`` (``kind`` is
"method" for an explainer, "baseline" for a model-free map); :func:`criterion_summary` reduces it with
:func:`xaikit.stats.seed_summary` (each seed first averaged over its images and architectures, then a
t-interval over the seeds). The rules read only such summaries, so they are tested on synthetic frames.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._validation import check_float, check_option
from .._published import load_published

if TYPE_CHECKING:
    import torch

__all__ = [
    "ARUN_CRITERIA", "CRITERIA", "HEADLINE", "LOWER_IS_BETTER", "VERDICTS", "Atlas", "PassCounter", "arun_verdicts",
    "best_methods", "criterion_summary", "explain_maps", "explainer_defaults", "heat_table", "interval_verdict",
    "load_seed_data", "published_table", "rank_table", "run_atlas", "score_agreement", "score_costly", "score_maps",
    "score_shortcut", "seed_list", "train_seed_models",
]

#: The criteria in the order of the heat table: criterion -> its metrics.
CRITERIA: dict[str, tuple[str, ...]] = {
    "localisation": ("relevance_rank_accuracy", "relevance_mass_accuracy", "pointing_game", "auprc", "iou_otsu"),
    "faithfulness": ("deletion_auc", "insertion_auc", "road_morf_auc"),
    "randomisation": ("ssim_randomised", "spearman_randomised", "random_pair_ssim"),
    "repeatability": ("agreement_across_seeds",),
    "reproducibility": ("agreement_across_archs",),
    "robustness": ("max_sensitivity",),
    "complexity": ("sparseness", "entropy"),
    "shortcut": ("marker_mass_gap",),
    "runtime": ("seconds_per_image", "passes_per_image", "peak_memory_mb"),
}
#: The one metric per criterion shown in the heat table and used by "which method, for what".
HEADLINE: dict[str, str] = {"localisation": "auprc", "faithfulness": "deletion_auc",
                            "randomisation": "ssim_randomised", "repeatability": "agreement_across_seeds",
                            "reproducibility": "agreement_across_archs", "robustness": "max_sensitivity",
                            "complexity": "sparseness", "shortcut": "marker_mass_gap",
                            "runtime": "seconds_per_image"}
#: Metrics where a lower value is better (the others: higher is better).
LOWER_IS_BETTER = frozenset({"deletion_auc", "road_morf_auc", "ssim_randomised", "spearman_randomised",
                             "max_sensitivity", "entropy", "seconds_per_image", "passes_per_image",
                             "peak_memory_mb"})
#: Outcomes of the pass/fail rules.
VERDICTS = ("pass", "fail", "inconclusive", "not measured")
#: Arun et al.'s four criteria.
ARUN_CRITERIA = ("localisation", "randomisation", "repeatability", "reproducibility")


def published_table(name: str) -> pd.DataFrame:
    """One of the anchors' published tables (``arun_criteria``, ``arun_localisation``, ``venkatesh_criteria``,
    ``adebayo_randomisation``, ``chexlocalize_localisation``), provenance columns kept."""
    return load_published("04_methods_atlas", name)


def explainer_defaults(methods: Sequence[str]) -> pd.DataFrame:
    """The documented defaults every method runs with here: one row per method, its one-line definition and its
    constructor's keyword defaults (read from the registered class, so the table cannot drift from the code).

    Examples
    --------
    >>> explainer_defaults(["saliency"]).loc[0, "defaults"]
    "sign='signed'"
    """
    import inspect

    from ...explain import EXPLAINERS

    rows = []
    for m in methods:
        check_option("method", m, sorted(EXPLAINERS), context="explainer_defaults")
        cls = EXPLAINERS[m]
        params = inspect.signature(cls).parameters.values()
        defaults = ", ".join(f"{p.name}={p.default!r}" for p in params if p.default is not inspect.Parameter.empty)
        rows.append({"method": m, "definition": (cls.__doc__ or "").strip().split("\n")[0], "defaults": defaults})
    return pd.DataFrame(rows, columns=["method", "definition", "defaults"])


def seed_list(seed: int, count: int) -> list[int]:
    """The run's seeds: ``seed, seed + 1, ..., seed + count - 1``.

    Examples
    --------
    >>> seed_list(42, 3)
    [42, 43, 44]
    """
    return [int(seed) + i for i in range(int(count))]


# --------------------------------------------------------------------------- rules on summaries
def criterion_summary(scores: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval over seeds per criterion × metric × kind × method (architectures and images pooled
    within a seed), with ``direction`` ("higher" or "lower" is better)."""
    from ...stats import seed_summary

    out = seed_summary(scores, "score", by=["criterion", "metric", "kind", "method"], level=level)
    out["direction"] = ["lower" if m in LOWER_IS_BETTER else "higher" for m in out["metric"]]
    return out


def interval_verdict(low: float, high: float, mean: float, threshold: float, *, below: bool) -> str:
    """Pass when the interval lies on the good side of ``threshold``, fail when it lies on the other, else
    inconclusive. ``below``: the good side is below. With one seed (NaN interval) the mean decides.

    Examples
    --------
    >>> interval_verdict(0.6, 0.8, 0.7, 0.5, below=False), interval_verdict(0.4, 0.6, 0.5, 0.45, below=False)
    ('pass', 'inconclusive')
    >>> interval_verdict(float("nan"), float("nan"), 0.3, 0.5, below=True)
    'pass'
    """
    if not np.isfinite(mean) or not np.isfinite(threshold):
        return "not measured"
    if not (np.isfinite(low) and np.isfinite(high)):
        low = high = mean
    if below:
        return "pass" if high < threshold else "fail" if low >= threshold else "inconclusive"
    return "pass" if low > threshold else "fail" if high <= threshold else "inconclusive"


def arun_verdicts(summary: pd.DataFrame, *, agreement_threshold: float) -> pd.DataFrame:
    """Arun et al.'s four criteria as pass / fail / inconclusive / not measured per method.

    * localisation: AUPRC interval above the interval of the strongest model-free baseline (the evidence
      mask, the ceiling, is not a baseline): :func:`xaikit.stats.localisation_verdicts` "localises" → pass,
      "below baseline" → fail, overlapping → inconclusive;
    * randomisation: SSIM between the trained and the fully randomised model's maps below the mean SSIM of
      random pairs of the trained model's maps (Arun et al.'s rule), by :func:`interval_verdict`;
    * repeatability (two seeds of one architecture) and reproducibility (two architectures): the agreement
      interval above ``agreement_threshold``.

    Parameters
    ----------
    summary : the output of :func:`criterion_summary`.
    agreement_threshold : the stated threshold of repeatability and reproducibility.

    Returns
    -------
    DataFrame, one row per method (kind "method", plus the evidence mask as the ceiling of localisation):
    ``method, localisation, randomisation, repeatability, reproducibility, n_pass, passes_all``.
    """
    from ...stats import localisation_verdicts

    check_float("agreement_threshold", agreement_threshold, min_value=-1.0, max_value=1.0, context="arun_verdicts")
    need = {"criterion", "metric", "kind", "method", "mean", "low", "high"}
    if not isinstance(summary, pd.DataFrame) or not need <= set(summary.columns):
        raise ValueError(f"summary of arun_verdicts must be a DataFrame with columns {sorted(need)}")
    s = summary
    methods = list(dict.fromkeys(s.loc[s["kind"] == "method", "method"]))
    if "evidence" in set(s.loc[s["kind"] == "baseline", "method"]):
        methods.append("evidence")
    rows = {m: dict.fromkeys(ARUN_CRITERIA, "not measured") for m in methods}

    loc = s[s["metric"] == "auprc"]
    cand = loc[(loc["kind"] == "method") | (loc["method"] == "evidence")]
    base = loc[(loc["kind"] == "baseline") & (loc["method"] != "evidence")].rename(columns={"method": "baseline"})
    if len(cand) and len(base):
        v = localisation_verdicts(cand, base, by=["metric"])
        names = {"localises": "pass", "below baseline": "fail", "inconclusive": "inconclusive",
                 "no baseline": "not measured"}
        for r in v.to_dict("records"):
            rows[r["method"]]["localisation"] = names[r["verdict"]]

    def cell(metric: str, method: str) -> dict | None:
        hit = s[(s["metric"] == metric) & (s["method"] == method) & (s["kind"] == "method")]
        return hit.iloc[0].to_dict() if len(hit) else None

    for m in methods:
        rnd, floor = cell("ssim_randomised", m), cell("random_pair_ssim", m)
        if rnd is not None and floor is not None:
            rows[m]["randomisation"] = interval_verdict(rnd["low"], rnd["high"], rnd["mean"], floor["mean"],
                                                        below=True)
        for crit, metric in (("repeatability", "agreement_across_seeds"),
                             ("reproducibility", "agreement_across_archs")):
            c = cell(metric, m)
            if c is not None:
                rows[m][crit] = interval_verdict(c["low"], c["high"], c["mean"], agreement_threshold, below=False)
    out = pd.DataFrame([{"method": m, **r} for m, r in rows.items()],
                       columns=["method", *ARUN_CRITERIA])
    out["n_pass"] = (out[list(ARUN_CRITERIA)] == "pass").sum(axis=1).astype(int)
    out["passes_all"] = out["n_pass"] == len(ARUN_CRITERIA)
    return out


def best_methods(summary: pd.DataFrame, *, kind: str = "method") -> dict[str, list[str]]:
    """For each criterion's headline metric (``HEADLINE``): the methods whose interval is not below the best
    method's (for a lower-is-better metric: not above), i.e. those not separable from the best.

    A method's interval is ``[low, high]``; with one seed (NaN interval) its mean stands for both ends. The best
    is the highest (lowest) mean. Criteria with no finite value map to an empty list.

    Examples
    --------
    >>> s = pd.DataFrame({"criterion": "localisation", "metric": "auprc", "kind": "method",
    ...                   "method": ["a", "b", "c"], "mean": [0.8, 0.7, 0.2], "low": [0.7, 0.6, 0.1],
    ...                   "high": [0.9, 0.75, 0.3]})
    >>> best_methods(s)["localisation"]
    ['a', 'b']
    """
    check_option("kind", kind, ("method", "baseline"), context="best_methods")
    out: dict[str, list[str]] = {}
    for crit, metric in HEADLINE.items():
        sub = summary[(summary["metric"] == metric) & (summary["kind"] == kind)]
        sub = sub[np.isfinite(sub["mean"].to_numpy(np.float64))]
        if sub.empty:
            out[crit] = []
            continue
        mean = sub["mean"].to_numpy(np.float64)
        low = np.where(np.isfinite(sub["low"].to_numpy(np.float64)), sub["low"], mean)
        high = np.where(np.isfinite(sub["high"].to_numpy(np.float64)), sub["high"], mean)
        if metric in LOWER_IS_BETTER:
            b = int(np.argmin(mean))
            keep = low <= high[b]
        else:
            b = int(np.argmax(mean))
            keep = high >= low[b]
        order = np.argsort(mean if metric in LOWER_IS_BETTER else -mean, kind="stable")
        out[crit] = [sub["method"].iloc[i] for i in order if keep[i]]
    return out


def heat_table(summary: pd.DataFrame, *, kinds: Sequence[str] = ("method", "baseline")) -> pd.DataFrame:
    """The heat table's numbers: one row per method (and baseline) × criterion's headline metric, with
    ``mean, low, high, direction`` exactly as in ``summary`` and ``quality`` (the mean scaled to 0 = worst,
    1 = best within the column; NaN where not measured).

    Returns a tidy frame ``kind, method, criterion, metric, mean, low, high, direction, quality``.
    """
    rows = []
    for crit, metric in HEADLINE.items():
        sub = summary[(summary["metric"] == metric) & summary["kind"].isin(list(kinds))]
        if sub.empty:
            continue
        mean = sub["mean"].to_numpy(np.float64)
        ok = np.isfinite(mean)
        lo, hi = (mean[ok].min(), mean[ok].max()) if ok.any() else (np.nan, np.nan)
        span = hi - lo
        quality = np.full(len(mean), np.nan)
        if ok.any():
            quality[ok] = 1.0 if span == 0 else (mean[ok] - lo) / span
            if metric in LOWER_IS_BETTER and span > 0:
                quality[ok] = 1.0 - quality[ok]
        for r, q in zip(sub.to_dict("records"), quality, strict=True):
            rows.append({"kind": r["kind"], "method": r["method"], "criterion": crit, "metric": metric,
                         "mean": r["mean"], "low": r["low"], "high": r["high"],
                         "direction": "lower" if metric in LOWER_IS_BETTER else "higher", "quality": q})
    return pd.DataFrame(rows, columns=["kind", "method", "criterion", "metric", "mean", "low", "high", "direction",
                                       "quality"])


def rank_table(heat: pd.DataFrame) -> pd.DataFrame:
    """Rank of every method within each criterion's headline metric (1 = best; ties share the lower rank)."""
    out = heat[np.isfinite(heat["mean"].to_numpy(np.float64))].copy()
    signed = np.where(out["direction"] == "lower", out["mean"], -out["mean"])
    out["rank"] = pd.Series(signed, index=out.index).groupby(out["criterion"]).rank(method="min")
    return out[["kind", "method", "criterion", "metric", "mean", "rank"]].reset_index(drop=True)


# --------------------------------------------------------------------------- counting passes
class PassCounter:
    """Counts the images a model runs forward and backward while the context is open: hooks on the model's
    output (a forward hook, and a tensor hook on the output for the backward pass), nothing else touched.

    ``units(n)`` is (forward images + backward images) / ``n``: the cost in forward+backward-pass units per
    image of ``n`` explained images.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> with PassCounter(net) as c:
    ...     x = torch.rand(4, 3, requires_grad=True)
    ...     _ = torch.autograd.grad(net(x).sum(), x)
    >>> c.forward, c.backward, c.units(4)
    (4, 4, 2.0)
    """

    def __init__(self, model) -> None:
        self.model = model
        self.forward = 0
        self.backward = 0
        self._handle = None

    def _hook(self, module, inputs, output) -> None:
        import torch

        out = output[0] if isinstance(output, (tuple, list)) else output
        if not isinstance(out, torch.Tensor):
            return
        n = int(out.shape[0]) if out.ndim else 1
        self.forward += n
        if out.requires_grad:
            out.register_hook(self._count_backward(n))

    def _count_backward(self, n: int):
        def hook(grad):
            self.backward += n
        return hook

    def __deepcopy__(self, memo) -> PassCounter:
        # a model deep-copied while counting (cascading randomisation copies it) keeps counting here
        return self

    def __enter__(self) -> PassCounter:
        self._handle = self.model.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()

    def units(self, n_images: int) -> float:
        return (self.forward + self.backward) / max(int(n_images), 1)


# --------------------------------------------------------------------------- scoring kernels
def _reduce(a) -> torch.Tensor:
    import torch

    a = torch.as_tensor(a).detach().double().cpu()
    return a.sum(dim=1, keepdim=True) if a.ndim == 4 else a[:, None]


def _frame(seed, arch, method, kind, criterion, metric, values) -> pd.DataFrame:
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    return pd.DataFrame({"seed": seed, "arch": arch, "method": method, "kind": kind, "criterion": criterion,
                         "metric": metric, "image": np.arange(len(v)), "score": v})


def score_maps(maps: Mapping[tuple[str, str], Any], masks, *, seed: int, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Localisation (RRA, RMA, pointing game, AUPRC, IoU after Otsu; absolute maps) and complexity (sparseness,
    entropy) of every ``(arch, method) -> maps (N, C, H, W)`` against the evidence ``masks`` (N, 1, H, W).

    ``kinds`` maps each method to "method" or "baseline". Returns tidy rows.
    """
    import torch

    from ...metrics import (
        auprc,
        entropy,
        iou,
        pointing_game,
        relevance_mass_accuracy,
        relevance_rank_accuracy,
        sparseness,
    )

    masks = torch.as_tensor(np.asarray(masks)).bool()
    frames = []
    for (arch, method), a in maps.items():
        a = _reduce(a)
        kind = kinds[method]
        for metric, fn in (("relevance_rank_accuracy", relevance_rank_accuracy),
                           ("relevance_mass_accuracy", relevance_mass_accuracy),
                           ("pointing_game", pointing_game), ("auprc", auprc), ("iou_otsu", iou)):
            frames.append(_frame(seed, arch, method, kind, "localisation", metric,
                                 fn(a, masks, sign="absolute").numpy()))
        for metric, fn in (("sparseness", sparseness), ("entropy", entropy)):
            frames.append(_frame(seed, arch, method, kind, "complexity", metric, fn(a).numpy()))
    return pd.concat(frames, ignore_index=True)


def score_costly(model, x, target, maps: torch.Tensor, *, explain=None, seed: int, arch: str, method: str,
                 kind: str, faith_steps: int, sens_samples: int, layers: Sequence[str] | None = None,
                 random_floor_maps=None, curves: list | None = None) -> pd.DataFrame:
    """Faithfulness (deletion / insertion AUC, ROAD most-relevant-first AUC; the maps' own signed ranking) of
    ``maps`` on images ``x``; with ``explain`` also randomisation (cascading, block-wise, SSIM and Spearman after
    the last step; the floor: mean SSIM of 50 random pairs of ``random_floor_maps``) and robustness
    (max-sensitivity, radius 0.02). ``curves``, when given, receives the per-layer randomisation frame (one row per
    image and cascade step, with ``seed, arch, method``)."""
    import torch

    from ...metrics import (
        curve_auc,
        deletion_auc,
        insertion_auc,
        max_sensitivity,
        model_randomisation,
        random_pair_similarity,
        road,
    )

    model = model.eval()
    y = torch.as_tensor(target).long()
    frames = [
        _frame(seed, arch, method, kind, "faithfulness", "deletion_auc",
               deletion_auc(model, x, maps, y, steps=faith_steps).cpu().numpy()),
        _frame(seed, arch, method, kind, "faithfulness", "insertion_auc",
               insertion_auc(model, x, maps, y, steps=faith_steps).cpu().numpy()),
    ]
    curve = road(model, x, maps, y, output="probability", seed=seed)
    frames.append(_frame(seed, arch, method, kind, "faithfulness", "road_morf_auc",
                         curve_auc(curve.fractions, curve.scores).cpu().numpy()))
    if explain is not None:
        r = model_randomisation(model, x, y, explain, layers=layers, seed=seed, similarity=("ssim", "spearman"))
        if curves is not None:
            curves.append(r.assign(seed=seed, arch=arch, method=method))
        last = r[r["step"] == r["step"].max()].sort_values("sample")
        frames.append(_frame(seed, arch, method, kind, "randomisation", "ssim_randomised", last["ssim"]))
        frames.append(_frame(seed, arch, method, kind, "randomisation", "spearman_randomised", last["spearman"]))
        if random_floor_maps is not None and len(random_floor_maps) >= 2:
            floor = random_pair_similarity(random_floor_maps, n_pairs=50, measure="ssim", seed=seed,
                                           sign="absolute", normalise="max")
            frames.append(_frame(seed, arch, method, kind, "randomisation", "random_pair_ssim",
                                 [float(floor.mean())]))
        sens = max_sensitivity(model, x, y, explain, n_samples=sens_samples, seed=seed)
        frames.append(_frame(seed, arch, method, kind, "robustness", "max_sensitivity", sens.cpu().numpy()))
    return pd.concat(frames, ignore_index=True)


def score_agreement(a, b, *, measure: str, seed: int, arch: str, method: str, metric: str,
                    criterion: str) -> pd.DataFrame:
    """Per-image similarity of two map sets of the same images (repeatability: two seeds of one architecture;
    reproducibility: two architectures), by :func:`xaikit.metrics.map_agreement`; SSIM and top-k IoU on
    absolute, max-normalised maps."""
    from ...metrics import map_agreement

    kw = {} if measure == "spearman" else {"sign": "absolute"}
    if measure == "ssim":
        kw["normalise"] = "max"
    v = map_agreement(_reduce(a), _reduce(b), measure=measure, **kw).numpy()
    return _frame(seed, arch, method, "method", criterion, metric, v)


def score_shortcut(clean_maps, shortcut_maps, marker_masks, *, seed: int, arch: str, method: str) -> pd.DataFrame:
    """Relevance mass on the shortcut marker (absolute maps) of the shortcut-trained model minus that of the clean
    model, per image that carries the marker: a method that detects the shortcut shows a gap above 0."""
    from ...metrics import mass_fractions

    region = {"marker": np.asarray(marker_masks, dtype=bool)}
    clean = mass_fractions(_reduce(clean_maps), region)["fraction"].to_numpy(np.float64)
    short = mass_fractions(_reduce(shortcut_maps), region)["fraction"].to_numpy(np.float64)
    return _frame(seed, arch, method, "method", "shortcut", "marker_mass_gap", short - clean)


# --------------------------------------------------------------------------- the notebook's stages
def load_seed_data(p: Mapping[str, Any], seed: int) -> dict:
    """One seed's data: the clean train / val / test splits of the chest phantom and the same with the shortcut
    marker on every COVID-19 image (``shortcut=1``), all generated from ``seed`` and split as study 1 splits
    (``test_share``; ``xaikit.studies._training.split_fractions``)."""
    from ...data import load
    from .._training import split_fractions
    from .spec import DATASET

    kw = dict(n=p["n_images"], image_size=p["image_size"], seed=seed, difficulty=p["difficulty"],
              fractions=split_fractions(p["test_share"]))
    clean = {s: load(DATASET, s, **kw) for s in ("train", "val", "test")}
    short = {s: load(DATASET, s, shortcut=1.0, **kw) for s in ("train", "val", "test")}
    return {"clean": clean, "shortcut": short}


def train_seed_models(p: Mapping[str, Any], data: dict, seed: int) -> dict:
    """Every architecture of ``archs`` on the clean data and ``shortcut_arch`` on the marker-carrying data,
    through the model cache (:func:`xaikit.train.train_cached`) with study 1's recipe
    (``xaikit.studies._training.classifier_config``): with the same data and training values as study 1 the
    clean models are study 1's, loaded from the cache. Returns name -> fit; the shortcut model is keyed
    ``"shortcut"``."""
    from ...train import train_cached
    from .._training import classifier_config

    cfg = classifier_config(p, seed)
    clean, short = data["clean"], data["shortcut"]
    fits = {a: train_cached(a, 1, 2, clean["train"], clean["val"], cfg) for a in p["archs"]}
    fits["shortcut"] = train_cached(p["shortcut_arch"], 1, 2, short["train"], short["val"], cfg)
    return fits


def explain_maps(model, explainer, x, y, *, batch_size: int, device) -> tuple[Any, dict]:
    """Maps of ``x`` by one model and explainer, batched, with the cost: seconds per image, forward+backward
    units per image, peak CUDA memory (MB; NaN on the CPU). A ``ValueError`` (the method does not apply to the
    architecture, e.g. attention maps of a CNN) returns ``(None, {"error": message})``."""
    import torch

    model = model.to(device).eval()
    dev = torch.device(device)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    parts = []
    t0 = time.perf_counter()
    try:
        with PassCounter(model) as counter:
            for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
                parts.append(explainer.attribute(model, xb.to(device), yb.to(device)).detach().cpu())
    except ValueError as err:
        return None, {"error": str(err).split("\n")[0]}
    seconds = time.perf_counter() - t0
    n = len(x)
    peak = torch.cuda.max_memory_allocated(dev) / 2**20 if dev.type == "cuda" else float("nan")
    return torch.cat(parts), {"seconds_per_image": seconds / n, "passes_per_image": counter.units(n),
                              "peak_memory_mb": peak}


@dataclass
class Atlas:
    """Everything a run of the atlas produces."""

    scores: pd.DataFrame
    performance: pd.DataFrame
    skipped: pd.DataFrame
    randomisation: pd.DataFrame = field(default_factory=pd.DataFrame)
    gallery: dict = field(default_factory=dict)
    gallery_images: Any = None
    gallery_masks: Any = None
    fits: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)


def _explain_set(test, k: int):
    import torch

    idx = np.flatnonzero(test.labels == 1)[:k]
    x = torch.as_tensor(test.images[idx]).float()
    y = torch.as_tensor(test.labels[idx]).long()
    return idx, x, y


def run_atlas(run) -> Atlas:
    """The whole atlas for the run's seeds (:func:`seed_list`): data, models, every method and baseline on every
    criterion. Methods that do not apply to an architecture are listed in ``skipped``."""
    import torch

    from ...explain import get_explainer, model_free_map
    from ...train import predict_logits
    from ..model_complexity.analysis import block_layers

    p = run.params
    seeds = seed_list(run.seed, p["seed_count"])
    explainers = {m: get_explainer(m) for m in p["methods"]}
    kinds = {**dict.fromkeys(p["methods"], "method"), **dict.fromkeys(p["baselines"], "baseline")}
    frames, perf, skipped, curves = [], [], [], []
    data, fits = {}, {}
    with run.stage("data_and_training"):
        for s in seeds:
            data[s] = load_seed_data(p, s)
            run.fingerprints[f"seed {s}"] = data[s]["clean"]["test"].fingerprint()
            fits[s] = train_seed_models(p, data[s], s)
    atlas = Atlas(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), fits=fits, data=data)
    device, bs = run.device, p["batch_size"]
    for i, s in enumerate(seeds):
        test = data[s]["clean"]["test"]
        idx, x, y = _explain_set(test, p["n_explain"])
        if len(idx) < 2:
            raise ValueError(f"seed {s}: only {len(idx)} COVID-19 test images; raise n_images")
        masks = test.masks[idx]
        kc = min(p["n_costly"], len(idx))
        models = {a: fits[s][a].model for a in p["archs"]}
        for a, m in models.items():
            acc = float((predict_logits(m, torch.as_tensor(test.images).float()).argmax(1).numpy()
                         == test.labels).mean())
            perf.append({"seed": s, "arch": a, "data": "clean", "accuracy": acc})
        maps: dict[tuple[str, str], Any] = {}
        with run.stage(f"explain_seed_{s}"):
            for a, m in models.items():
                for name, ex in explainers.items():
                    a_map, cost = explain_maps(m, ex, x, y, batch_size=bs, device=device)
                    if a_map is None:
                        skipped.append({"seed": s, "arch": a, "method": name, "reason": cost["error"]})
                        continue
                    maps[(a, name)] = a_map
                    for metric, v in cost.items():
                        frames.append(_frame(s, a, name, "method", "runtime", metric, [v]))
            reference = next((v for v in maps.values()), None)
            for b in p["baselines"]:
                kw = dict(organ_masks=test.organ_masks[idx], evidence_masks=masks, seed=s)
                if b == "smoothed_random":
                    if reference is None:
                        continue
                    kw["reference_maps"] = _reduce(reference).numpy()
                maps[("model-free", b)] = model_free_map(b, x, **kw).float()
        with run.stage(f"score_seed_{s}"):
            frames.append(score_maps(maps, masks, seed=s, kinds=kinds))
            for a, m in models.items():
                m = m.to(device).eval()
                xd, yd = x[:kc].to(device), y[:kc].to(device)
                for (arch, name), a_map in maps.items():
                    if arch not in (a, "model-free"):
                        continue
                    is_method = kinds[name] == "method"
                    frames.append(score_costly(
                        m, xd, yd, a_map[:kc].to(device), explain=explainers[name].attribute if is_method else None,
                        seed=s, arch=a, method=name, kind=kinds[name], faith_steps=p["faith_steps"],
                        sens_samples=p["sens_samples"], layers=block_layers(m), random_floor_maps=a_map,
                        curves=curves))
        with run.stage(f"agreement_seed_{s}"):
            other = seeds[(i + 1) % len(seeds)]
            for name, ex in explainers.items():
                if other != s:
                    for a in p["archs"]:
                        if (a, name) not in maps:
                            continue
                        b_map, _ = explain_maps(fits[other][a].model, ex, x, y, batch_size=bs, device=device)
                        if b_map is not None:
                            frames.append(score_agreement(maps[(a, name)], b_map, measure=p["agreement_measure"],
                                                          seed=s, arch=a, method=name, metric="agreement_across_seeds",
                                                          criterion="repeatability"))
                archs = [a for a in p["archs"] if (a, name) in maps]
                for j, a1 in enumerate(archs):
                    for a2 in archs[j + 1:]:
                        frames.append(score_agreement(maps[(a1, name)], maps[(a2, name)],
                                                      measure=p["agreement_measure"], seed=s, arch=f"{a1} vs {a2}",
                                                      method=name, metric="agreement_across_archs",
                                                      criterion="reproducibility"))
        with run.stage(f"shortcut_seed_{s}"):
            st = data[s]["shortcut"]["test"]
            sidx = np.flatnonzero((st.labels == 1) & st.shortcut_masks.reshape(len(st.labels), -1).any(1))
            sidx = sidx[:p["n_explain"]]
            sa = p["shortcut_arch"]
            short_model = fits[s]["shortcut"].model
            xs, ys = torch.as_tensor(st.images[sidx]).float(), torch.as_tensor(st.labels[sidx]).long()
            for data_name, ds in (("clean", test), ("shortcut", st)):
                acc = float((predict_logits(short_model, torch.as_tensor(ds.images).float()).argmax(1).numpy()
                             == ds.labels).mean())
                perf.append({"seed": s, "arch": f"{sa} (shortcut-trained)", "data": data_name, "accuracy": acc})
            if len(sidx) and sa in p["archs"]:
                for name, ex in explainers.items():
                    c_map, _ = explain_maps(fits[s][sa].model, ex, xs, ys, batch_size=bs, device=device)
                    s_map, _ = explain_maps(short_model, ex, xs, ys, batch_size=bs, device=device)
                    if c_map is not None and s_map is not None:
                        frames.append(score_shortcut(c_map, s_map, st.shortcut_masks[sidx], seed=s, arch=sa,
                                                     method=name))
        if i == 0:
            show = list(range(min(3, len(idx))))
            a0 = p["archs"][0]
            atlas.gallery = {name: maps[(arch, name)][show] for (arch, name) in maps if arch in (a0, "model-free")}
            atlas.gallery_images, atlas.gallery_masks = x[show].numpy(), masks[show]
    atlas.scores = pd.concat(frames, ignore_index=True)
    atlas.performance = pd.DataFrame(perf)
    atlas.randomisation = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    atlas.skipped = pd.DataFrame(skipped, columns=["seed", "arch", "method", "reason"])
    return atlas
