"""CheXpert (Irvin et al. 2019), v1.0 and v1.0-small: chest radiographs with 14 labeller labels in a CSV.

Label semantics made explicit (the CSV leaves them to the user):

- ``1`` positive, ``0`` negative, ``-1`` uncertain, blank = not mentioned → **0**;
- ``uncertainty``: "ones" (U-Ones: −1 → 1), "zeros" (U-Zeros: −1 → 0) or "ignore" (drop every image
  with −1 in one of the *selected* findings);
- No Finding rule (``no_finding_rule=True``): a row with No Finding = 1 gets 0 for every other
  finding except Support Devices, whatever the labeller wrote (uncertain or inconsistent), before
  the uncertainty policy;
- ``views``: any of "frontal" (AP, PA and the rare LL/RL frontal rows), "lateral", "ap", "pa"
  (torchxrayvision's default is PA only; INFORMER used all frontal images).

The defaults reproduce INFORMER's (paper 002) selection: the 5 competition findings, frontal
images, uncertain images dropped, images with none of the 5 findings dropped: 90,839 rows of the
public train.csv (counted on the raw CSV; the No Finding rule cannot change that count unless
rows label No Finding = 1 together with a positive finding).
"""
from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .._validation import check_option
from ._errors import DatasetCountWarning, DatasetNotFoundError, DataWarning, LabelValueError, LayoutError
from ._files import _resolve, check_root, find_child, listing
from ._lazy import RealDataset
from ._multilabel import FINDINGS
from ._sources import where_to_get
from ._splits import check_common, patient_split

__all__ = ["chexpert", "CHEXPERT_COUNTS", "CHEXPERT_LABELS", "INFORMER_TRAIN"]

NAME = "chexpert"
META = ("Path", "Sex", "Age", "Frontal/Lateral", "AP/PA")
#: the 14 label columns, in the CSV's order
CHEXPERT_LABELS = ("No Finding", "Enlarged Cardiomediastinum", "Cardiomegaly", "Lung Opacity", "Lung Lesion",
                   "Edema", "Consolidation", "Pneumonia", "Atelectasis", "Pneumothorax", "Pleural Effusion",
                   "Pleural Other", "Fracture", "Support Devices")
_SNAKE = {c: c.lower().replace(" ", "_") for c in CHEXPERT_LABELS}
_COLUMN = {v: k for k, v in _SNAKE.items()}
FINDING_SETS = {"competition": FINDINGS, "all": tuple(_SNAKE.values())}  # competition: the phantom's order
VIEWS = ("frontal", "lateral", "ap", "pa")
#: published row counts of the CSVs
CHEXPERT_COUNTS = {"train.csv": 223_414, "valid.csv": 234}
#: INFORMER's training images: frontal, no -1 in the 5 findings, at least one of them positive
INFORMER_TRAIN = 90_839
_PATH_RE = r"(?:^|/)(patient\d+)/study(\d+)/view(\d+)_(frontal|lateral)\.jpe?g$"
_SHOW = 5


def chexpert(data_root: str | os.PathLike | None, split: str = "all", *, version: str = "auto",
             findings: str = "competition", uncertainty: str = "ignore", views: tuple[str, ...] = ("frontal",),
             no_finding_rule: bool = True, require_positive: bool = True, split_mode: str = "patient", seed: int = 0,
             fractions: tuple[float, float, float] = (0.7, 0.2, 0.1), check_files: bool = True,
             on_error: str = "raise", image_size: int | None = None, channels: int = 1,
             mask_threshold: int = 127) -> RealDataset:
    """Index CheXpert under ``data_root`` (lazy), multi-label.

    Parameters
    ----------
    data_root : the folder holding ``CheXpert-v1.0-small/`` or ``CheXpert-v1.0/`` (or that folder itself,
        with ``train.csv`` in it). CSV paths are resolved after dropping their first component
        (``CheXpert-v1.0-small/``), so a CSV of either version works with either folder name.
    split : "all", "train", "val" or "test".
    version : "auto" (v1.0 if present, else v1.0-small), "v1.0" or "v1.0-small".
    findings : "competition" (cardiomegaly, pleural_effusion, edema, consolidation, atelectasis: the
        ``chest_multilabel`` phantom's order) or "all" (the 14 columns, snake_case, CSV order).
    uncertainty : "ones", "zeros" or "ignore" (see the module docstring).
    views : which views to keep (union): "frontal", "lateral", "ap", "pa".
    no_finding_rule : apply the No Finding rule (module docstring).
    require_positive : drop images with no positive selected finding (INFORMER).
    split_mode : "patient" (train.csv only; whole patients are shuffled with ``seed`` and cut by
        ``fractions``, so no patient is in two splits) or "official" (train.csv / valid.csv / a
        ``test.csv`` if you have one; the official test labels are not part of v1.0).
    check_files : check that every selected image exists (a cheap stat per file).
    on_error : "raise" or "skip" for listed images missing on disk and unreadable files.
    image_size, channels : decoding settings. mask_threshold : unused (no masks: all-False).

    Raises
    ------
    DatasetNotFoundError, LayoutError : missing folder, CSV, or image files (the first few named).
    LabelValueError : a label column holds values other than 1, 0, -1 and blank (column and values named).
    ValueError : missing columns, unparsable paths, or no image left after the filters.

    Examples
    --------
    >>> ds = chexpert("/data/chexpert", "train", image_size=320)  # doctest: +SKIP
    """
    ctx = "chexpert"
    check_common(ctx, split, seed, fractions, on_error, image_size, channels, mask_threshold)
    check_option("version", version, ("auto", "v1.0", "v1.0-small"), context=ctx)
    check_option("findings", findings, FINDING_SETS, context=ctx)
    check_option("uncertainty", uncertainty, ("ones", "zeros", "ignore"), context=ctx)
    check_option("split_mode", split_mode, ("patient", "official"), context=ctx)
    views = (views,) if isinstance(views, str) else tuple(views)
    if not views:
        raise ValueError(f"views of {ctx} must name at least one of {', '.join(map(repr, VIEWS))}")
    for v in views:
        check_option("views", v.lower() if isinstance(v, str) else v, VIEWS, context=ctx)
    root = check_root(data_root, NAME)
    base = _locate(root, version)
    selected = FINDING_SETS[findings]

    if split_mode == "patient":
        csvs = {"train.csv": None}
    else:
        want = {"train": ["train.csv"], "val": ["valid.csv"], "test": ["test.csv"]}.get(split, ["train.csv",
                                                                                              "valid.csv"])
        csvs = {c: None for c in want}
    frames = []
    for csv in csvs:
        raw = _read_csv(base, csv, root)
        frames.append(_select(raw, csv, selected, uncertainty, views, no_finding_rule, require_positive))
        if (csv == "train.csv" and len(raw) == CHEXPERT_COUNTS[csv] and findings == "competition"
                and uncertainty == "ignore" and set(v.lower() for v in views) == {"frontal"} and require_positive
                and len(frames[-1]) != INFORMER_TRAIN):
            warnings.warn(f"CheXpert: INFORMER's selection of train.csv should give {INFORMER_TRAIN} images, "
                          f"found {len(frames[-1])}", DatasetCountWarning, stacklevel=2)
    index = pd.concat(frames, ignore_index=True)
    if split_mode == "patient":
        index = index.iloc[patient_split(index["patient_id"].to_numpy(), split, seed, fractions)]
    index = index.reset_index(drop=True)
    skipped: list[tuple[str, str]] = []
    if check_files:
        index = _check_files(index, base, on_error, skipped)
    params = dict(split=split, version=base.name, findings=findings, uncertainty=uncertainty, views=views,
                  no_finding_rule=no_finding_rule, require_positive=require_positive, split_mode=split_mode,
                  seed=seed, fractions=tuple(fractions))
    return RealDataset(NAME, base, index, selected, multilabel=True, image_size=image_size, channels=channels,
                       mask_threshold=mask_threshold, has_masks=False, on_error=on_error, params=params,
                       skipped=skipped)


def _locate(root: Path, version: str) -> Path:
    names = {"auto": ["CheXpert-v1.0", "CheXpert-v1.0-small"], "v1.0": ["CheXpert-v1.0"],
             "v1.0-small": ["CheXpert-v1.0-small"]}[version]
    for prefix in [*[(n,) for n in names], ()]:
        base = _resolve(root, prefix)
        if base is not None and find_child(base, "train.csv", kind="file") is not None:
            return base
    raise DatasetNotFoundError(
        f"CheXpert not found under data_root '{root}': looked for "
        f"{' or '.join(n + '/train.csv' for n in names)} (or train.csv directly in data_root); '{root}' "
        f"contains: {listing(root)}. {where_to_get(NAME)}")


def _read_csv(base: Path, csv: str, root: Path) -> pd.DataFrame:
    path = find_child(base, csv, kind="file")
    if path is None:
        extra = (" The official test labels are not part of CheXpert-v1.0: use split_mode='patient', or put "
                 "a test.csv in the same format beside train.csv." if csv == "test.csv" else "")
        raise LayoutError(f"CheXpert: expected file '{csv}' in '{base}' (under data_root '{root}'); it contains: "
                          f"{listing(base)}.{extra} See data/README.md.")
    raw = pd.read_csv(path, dtype={"Path": str, "Sex": str, "Frontal/Lateral": str, "AP/PA": str})
    missing = [c for c in (*META, *CHEXPERT_LABELS) if c not in raw.columns]
    if missing:
        raise ValueError(f"CheXpert {csv} lacks the column(s) {', '.join(map(repr, missing))}; it has "
                         f"{', '.join(map(repr, raw.columns))}. Is it the CheXpert CSV, unmodified?")
    if len(raw) != CHEXPERT_COUNTS.get(csv, len(raw)):
        warnings.warn(f"CheXpert: {csv} has {len(raw)} rows, the published one {CHEXPERT_COUNTS[csv]}. A partial "
                      f"copy or another version? Results will not be comparable with the papers'.",
                      DatasetCountWarning, stacklevel=4)
    bad = {}
    for c in CHEXPERT_LABELS:
        num = pd.to_numeric(raw[c], errors="coerce")
        off = raw[c].notna() & ~num.isin([-1.0, 0.0, 1.0])
        if off.any():
            bad[c] = sorted({repr(v) for v in raw.loc[off, c]})[:_SHOW]
        raw[c] = num
    if bad:
        raise LabelValueError(f"CheXpert {csv}: label values must be 1, 0, -1 or blank; found " + "; ".join(
            f"column {c!r}: {', '.join(v)}" for c, v in bad.items()) + ". Fix or drop those rows first.")
    views = raw["Frontal/Lateral"]
    off = views.notna() & ~views.isin(["Frontal", "Lateral"])
    if off.any():
        raise LabelValueError(f"CheXpert {csv}: column 'Frontal/Lateral' must be Frontal or Lateral; found "
                              f"{', '.join(sorted(set(map(repr, views[off]))))[:200]}")
    if csv == "valid.csv":
        odd = [c for c in CHEXPERT_LABELS if not raw[c].dropna().isin([0.0, 1.0]).all() or raw[c].isna().any()]
        if odd:
            warnings.warn(f"CheXpert valid.csv should hold only 0/1 radiologist labels; columns "
                          f"{', '.join(odd)} have -1 or blanks", DataWarning, stacklevel=4)
    raw.attrs["csv"] = csv
    return raw


def _select(raw: pd.DataFrame, csv: str, selected: tuple[str, ...], uncertainty: str, views: tuple[str, ...],
            no_finding_rule: bool, require_positive: bool) -> pd.DataFrame:
    parts = raw["Path"].fillna("").str.extract(_PATH_RE, flags=re.IGNORECASE)
    unparsable = parts[0].isna()
    if unparsable.any():
        ex = ", ".join(map(repr, raw.loc[unparsable, "Path"].head(_SHOW)))
        raise ValueError(f"CheXpert {csv}: column 'Path' must look like '<prefix>/train/patient00001/study1/"
                         f"view1_frontal.jpg'; {int(unparsable.sum())} row(s) do not, e.g. {ex}")
    keep = np.zeros(len(raw), bool)
    fl, ap = raw["Frontal/Lateral"].fillna(""), raw["AP/PA"].fillna("").str.upper()
    for v in (v.lower() for v in views):
        keep |= {"frontal": fl == "Frontal", "lateral": fl == "Lateral", "ap": (fl == "Frontal") & (ap == "AP"),
                 "pa": (fl == "Frontal") & (ap == "PA")}[v].to_numpy()
    labels = raw[list(CHEXPERT_LABELS)].copy()
    changed = 0
    if no_finding_rule:
        healthy = labels["No Finding"] == 1
        others = [c for c in CHEXPERT_LABELS if c not in ("No Finding", "Support Devices")]
        changed = int((healthy & labels[others].fillna(0).ne(0).any(axis=1)).sum())
        labels.loc[healthy, others] = 0.0
    y = labels[[_COLUMN[f] for f in selected]].fillna(0.0).to_numpy()
    n_views = int(keep.sum())
    if uncertainty == "ignore":
        keep &= ~(y == -1).any(axis=1)
    y = np.where(y == -1, 1.0 if uncertainty == "ones" else 0.0, y)
    if require_positive:
        keep &= (y == 1).any(axis=1)
    if not keep.any():
        raise ValueError(f"CheXpert {csv}: no image left after the filters ({len(raw)} rows, {n_views} with views "
                         f"{views}, 0 after uncertainty={uncertainty!r} and require_positive={require_positive}); "
                         f"check views= and the CSV's 'Frontal/Lateral' column")
    # relative path under the CheXpert folder: drop the CSV's first component (CheXpert-v1.0[-small]/)
    path = raw["Path"].str.replace(r"^[^/]*chexpert[^/]*/", "", regex=True, flags=re.IGNORECASE)
    out = pd.DataFrame(y.astype(np.int64), columns=list(selected))
    out["file"], out["patient_id"] = path, parts[0]
    out["study"], out["view"] = parts[1].astype(int), parts[2].astype(int)
    out["frontal_lateral"], out["ap_pa"] = raw["Frontal/Lateral"], raw["AP/PA"]
    out["sex"], out["age"] = raw["Sex"], raw["Age"]
    out["source_csv"], out["has_mask"] = csv, False
    out.attrs["no_finding_rule_changed"] = changed
    return out[keep].reset_index(drop=True)


def _check_files(index: pd.DataFrame, base: Path, on_error: str, skipped: list) -> pd.DataFrame:
    exists = np.fromiter((os.path.isfile(base / f) for f in index["file"]), bool, len(index))
    if exists.all():
        return index
    missing = index.loc[~exists, "file"]
    if on_error == "raise":
        raise LayoutError(
            f"CheXpert: {len(missing)} of {len(index)} selected images listed in the CSV are missing under "
            f"'{base}', e.g. {', '.join(missing.head(_SHOW))}. CSV paths are resolved as <CheXpert folder>/"
            f"<Path without its first component>: unpack train/ and valid/ beside train.csv, or pass "
            f"on_error='skip' to drop the missing images and report them.")
    skipped += [(f, "listed in the CSV but missing on disk") for f in missing]
    return index[exists].reset_index(drop=True)
