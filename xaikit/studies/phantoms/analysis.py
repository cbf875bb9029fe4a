"""The phantom chapter's steps: generate each phantom, draw its gallery, collect the per-image metadata."""
from __future__ import annotations

import time

import pandas as pd

__all__ = ["metadata_summary", "show_phantom"]


def show_phantom(run, name: str, **options):
    """Generate ``n_per_class`` × 6 images of phantom ``name`` (× 5 for the five-finding chest), save and show its
    gallery (``gallery_<name>[_shortcut].png``), and record its generation time and fingerprint in the run.

    Returns the generated :class:`~xaikit.data.ImageSet`.
    """
    from ...data import gallery, load

    p = run.params
    n = p["n_per_class"] * 6 * (5 if name == "chest_multilabel" else 1)
    t0 = time.perf_counter()
    ds = load(name, n=n, image_size=p["image_size"], seed=run.seed, **options)
    run.timings[name + ("+" + "+".join(options) if options else "")] = time.perf_counter() - t0
    run.fingerprints[name] = ds.fingerprint()
    fig = gallery(ds, n_per_class=p["n_per_class"], seed=run.seed, shortcut=True)
    run.save_figure(fig, f"gallery_{name}{'_shortcut' if options else ''}.png")
    return ds


def metadata_summary(meta: pd.DataFrame) -> pd.DataFrame:
    """Mean of every numeric metadata column (lesion counts, sizes, positions, contrasts) per dataset."""
    numeric = meta.select_dtypes("number").columns.difference(["label"])
    return meta.groupby("dataset")[list(numeric)].mean().T.round(3).dropna(how="all")
