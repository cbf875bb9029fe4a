"""Checks of paths and cross-parameter rules that run before a study's kernel starts.

:func:`validate_params` checks each parameter alone (types, ranges, choices); :func:`preflight` checks
what a value refers to and how values combine, so that a study with a missing ``data_root``, a
``data_root`` that is a file, a missing weights file or a real dataset paired with a phantom one fails
in well under a second with one line, and leaves no folder behind, instead of failing inside the kernel.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ._spec import PHANTOMS

__all__ = ["preflight"]


def _dataset_params(params: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in params.items() if (k == "dataset" or k.endswith("_dataset")) and isinstance(v, str)}


def preflight(study: str, params: dict[str, Any]) -> None:
    """Raise ``ValueError`` or ``FileNotFoundError`` (one line, naming the parameter) for what would fail later.

    Parameters
    ----------
    study : the notebook's name (for messages).
    params : the validated parameters the kernel would receive.

    Checks
    ------
    - ``data_root``, when set, is an existing folder (not a file);
    - every dataset parameter (``dataset``, ``*_dataset``) is a phantom, or every one is a real
      dataset: a model trained on phantoms explained on real images (or the reverse) answers
      another question;
    - ``weights``, when set, is an existing, non-empty file (nothing is downloaded);
    - ``output_dir`` is not an existing file.

    Examples
    --------
    >>> preflight("03_shap_transfer", {"dataset": "brain_mri", "foreign_dataset": "lung_ct", "data_root": None})
    >>> preflight("03_shap_transfer", {"dataset": "brain-tumor-mri", "foreign_dataset": "lung_ct"})
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 03_shap_transfer: parameter 'dataset' is the real dataset 'brain-tumor-mri' but ...
    """
    root = params.get("data_root")
    if root not in (None, ""):
        path = Path(str(root)).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{study}: parameter 'data_root' is {str(path)!r}, which does not exist")
        if not path.is_dir():
            raise FileNotFoundError(f"{study}: parameter 'data_root' is {str(path)!r}, which is a file, not a folder")
    datasets = _dataset_params(params)
    real = {k: v for k, v in datasets.items() if v not in PHANTOMS}
    fake = {k: v for k, v in datasets.items() if v in PHANTOMS}
    if real and fake:
        (rk, rv), (pk, pv) = next(iter(real.items())), next(iter(fake.items()))
        raise ValueError(f"{study}: parameter {rk!r} is the real dataset {rv!r} but {pk!r} is the phantom {pv!r}; "
                         "use phantoms for all of them or real datasets for all of them")
    weights = params.get("weights")
    if weights not in (None, ""):
        path = Path(str(weights)).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"{study}: parameter 'weights' is {str(path)!r}, which is not a file "
                                    "(weights load only from a local file; nothing is downloaded)")
        if path.stat().st_size == 0:
            raise ValueError(f"{study}: parameter 'weights' is {str(path)!r}, an empty (0-byte) file")
    out = params.get("output_dir")
    if out not in (None, "") and Path(str(out)).is_file():
        raise ValueError(f"{study}: parameter 'output_dir' is {str(out)!r}, which is a file, not a folder")
