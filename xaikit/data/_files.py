"""File-system helpers shared by the real-data loaders: finding folders the way people unpack them,
listing images, pairing masks by name, decoding with Pillow, and checking published counts.

Folder names are matched exactly first, then ignoring case, ``_``/``-``/space differences and
known aliases (``Bengin cases`` / ``Benign cases``). Hidden files (``.DS_Store``, macOS ``._x.png``)
are never images.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._errors import DatasetCountWarning, DatasetNotFoundError, LayoutError
from ._sources import SOURCES, where_to_get

__all__ = ["IMAGE_EXTS", "check_counts", "check_root", "drop_unpaired", "find_child", "full_scale", "list_images",
           "listing", "require_images",
           "locate", "pair_by_name", "read_image", "read_mask", "require_child"]

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
_SHOW = 12  # entries shown when listing a folder in an error message


def _norm(name: str) -> str:
    return " ".join(name.lower().replace("_", " ").replace("-", " ").split())


def listing(folder: Path) -> str:
    """What ``folder`` holds, for an error message: ``"a/, b/, x.csv (and 9 more)"``."""
    try:
        entries = sorted(e for e in os.listdir(folder) if not e.startswith("."))
    except OSError as err:
        return f"nothing readable ({err.strerror})"
    if not entries:
        return "nothing (an empty folder)"
    shown = [e + ("/" if (folder / e).is_dir() else "") for e in entries[:_SHOW]]
    more = f" (and {len(entries) - _SHOW} more)" if len(entries) > _SHOW else ""
    return ", ".join(shown) + more


def check_root(data_root: str | os.PathLike | None, name: str) -> Path:
    """``data_root`` as an existing folder, or :class:`DatasetNotFoundError` saying where to get the data."""
    title = SOURCES[name].title
    if data_root is None or str(data_root) == "":
        raise DatasetNotFoundError(f"{name!r} is a real dataset and needs data_root= (the folder you unpacked "
                                   f"{title} into). {where_to_get(name)}")
    root = Path(data_root).expanduser()
    if not root.exists():
        raise DatasetNotFoundError(f"data_root {str(root)!r} for {title} does not exist. {where_to_get(name)}")
    if not root.is_dir():
        raise DatasetNotFoundError(f"data_root {str(root)!r} for {title} is a file, not a folder. "
                                   f"{where_to_get(name)}")
    return root


def find_child(parent: Path, name: str, aliases: Sequence[str] = (), *, kind: str = "dir") -> Path | None:
    """The child of ``parent`` called ``name`` (or an alias), matched leniently; ``None`` if absent."""
    want_dir = kind == "dir"
    exact = parent / name
    if (exact.is_dir() if want_dir else exact.is_file()):
        return exact
    wanted = {_norm(n) for n in (name, *aliases)}
    try:
        children = sorted(os.listdir(parent))
    except OSError:
        return None
    for c in children:
        p = parent / c
        if _norm(c) in wanted and (p.is_dir() if want_dir else p.is_file()):
            return p
    return None


def require_child(parent: Path, name: str, aliases: Sequence[str] = (), *, dataset: str, root: Path,
                  kind: str = "dir") -> Path:
    """:func:`find_child`, or :class:`LayoutError` naming the expected path and listing what is there."""
    found = find_child(parent, name, aliases, kind=kind)
    if found is not None:
        return found
    what = "folder" if kind == "dir" else "file"
    try:
        rel = (parent / name).relative_to(root)
    except ValueError:
        rel = parent / name
    alias = f" (or {', '.join(repr(a) for a in aliases)})" if aliases else ""
    raise LayoutError(f"{SOURCES[dataset].title}: expected {what} '{rel}'{alias} under data_root '{root}'; "
                      f"'{parent}' contains: {listing(parent)}. Expected layout: {SOURCES[dataset].layout} "
                      f"(see data/README.md).")


def _resolve(root: Path, parts: Sequence[str]) -> Path | None:
    here = root
    for part in parts:
        here = find_child(here, part)
        if here is None:
            return None
    return here


def locate(root: Path, prefixes: Sequence[Sequence[str]], markers: Sequence[str], *, dataset: str) -> Path:
    """The first ``root/prefix`` holding every folder in ``markers`` (unpacking varies: nested twice,
    once, or ``data_root`` already at the dataset's top). Raises :class:`DatasetNotFoundError`
    naming the folders it looked for and what ``data_root`` holds instead."""
    for prefix in prefixes:
        base = _resolve(root, prefix)
        if base is not None and all(find_child(base, m) is not None for m in markers):
            return base
    tried = "; ".join("/".join([*p, m]) if p else m for p in prefixes for m in markers[:1])
    raise DatasetNotFoundError(
        f"{SOURCES[dataset].title} not found under data_root '{root}': looked for {tried}; "
        f"'{root}' contains: {listing(root)}. {where_to_get(dataset)}")


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop: not a folder
        return False


def list_images(folder: Path) -> list[str]:
    """Sorted names of the image files directly in ``folder`` (hidden files skipped).

    An entry with an image extension that cannot be resolved (a dangling symlink, a symlink to
    itself) is listed too: decoding it fails with the file named, and ``on_error="skip"`` drops it
    and reports it, like any unreadable image. Listing never raises for one bad entry.
    """
    return sorted(e.name for e in os.scandir(folder)
                  if not e.name.startswith(".") and e.name.lower().endswith(IMAGE_EXTS) and not _is_dir(e))


def require_images(title: str, root: Path, folders: Sequence[Path], n_found: int) -> None:
    """Raise :class:`LayoutError` when the class folders of a correct layout hold no image at all,
    naming each folder and what it holds (instead of failing later on an empty index)."""
    if n_found:
        return
    shown = "; ".join(f"'{f}' contains: {listing(f)}" for f in folders[:4])
    more = f" (and {len(folders) - 4} more folders)" if len(folders) > 4 else ""
    raise LayoutError(f"{title}: the layout under data_root '{root}' is right but no folder holds an image file "
                      f"({', '.join(IMAGE_EXTS)}): {shown}{more}. Unpack the images into these folders.")


def check_counts(title: str, expected: Mapping[str, int], found: Mapping[str, int], *, note: str = "") -> None:
    """Warn (:class:`DatasetCountWarning`) once, listing every count that differs from the published one."""
    diffs = [f"{k}: expected {v}, found {found.get(k, 0)}" for k, v in expected.items() if found.get(k, 0) != v]
    if diffs:
        warnings.warn(f"{title}: image counts differ from the published ones ({'; '.join(diffs)}). A partial "
                      f"copy or another version? Results will not be comparable with the papers'.{note}",
                      DatasetCountWarning, stacklevel=3)


def full_scale(dtype) -> float:
    """The value that means "white" for a stored pixel type: its bit depth's maximum, never the image's.

    ``uint8`` → 255, ``uint16`` → 65,535 (16-bit PNG/TIFF, MedMNIST-style uint16 arrays), ``bool`` → 1;
    floating arrays are taken to be in [0, 1] already (1.0). Other integer types raise ``ValueError``.

    Examples
    --------
    >>> full_scale(np.uint16), full_scale(np.uint8)
    (65535.0, 255.0)
    """
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return 1.0
    if dtype.kind == "f":
        return 1.0
    if dtype in (np.uint8, np.uint16):
        return float(np.iinfo(dtype).max)
    raise ValueError(f"pixel type {dtype} has no known full scale (expected uint8, uint16, bool or float)")


def _to_float(img) -> np.ndarray:
    """A decoded PIL image as float32 (H, W) or (H, W, 3) in [0, 1], scaled by its bit depth.

    16-bit images (``I;16*``, and ``I`` from PNG, which stores at most 16 bits) are divided by 65,535
    whatever their own maximum, so one raw value decodes to one intensity in every file. A 32-bit
    integer image (``I`` from TIFF) must hold values <= 65,535; float images (``F``) are taken as
    already in [0, 1].
    """
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.asarray(img, dtype=np.float32)
        if img.mode == "I" and a.max(initial=0) > 65535:
            raise ValueError(f"a 32-bit integer image with values up to {int(a.max())}: no known bit depth "
                             "(16-bit images are scaled by 65,535); convert it to 8 or 16 bits")
        return np.clip(a / 65535.0, 0.0, 1.0)
    if img.mode == "F":
        return np.clip(np.asarray(img, dtype=np.float32), 0.0, 1.0)
    return np.asarray(img, dtype=np.float32) / 255.0


def _resize(a: np.ndarray, size: int | None, resample) -> np.ndarray:
    from PIL import Image

    if size is None or a.shape[:2] == (size, size):
        return a
    chans = [a] if a.ndim == 2 else [a[..., c] for c in range(a.shape[2])]
    out = [np.asarray(Image.fromarray(c.astype(np.float32), mode="F").resize((size, size), resample))
           for c in chans]
    return out[0] if a.ndim == 2 else np.stack(out, axis=-1)


def read_image(path: Path, size: int | None, channels: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Decode ``path`` to float32 ``(channels, size, size)`` in [0, 1] (bilinear, antialiased resize);
    also return the native ``(height, width)``. Pillow's errors propagate (the caller names the file)."""
    from PIL import Image

    with Image.open(path) as img:
        img.load()
        native = (img.height, img.width)
        if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            a = _to_float(img)
            a = a if channels == 1 else np.repeat(a[..., None], 3, axis=-1)
        else:
            a = _to_float(img.convert("L" if channels == 1 else "RGB"))
    a = _resize(a, size, Image.BILINEAR)
    a = a[None] if a.ndim == 2 else np.moveaxis(a, -1, 0)
    return np.ascontiguousarray(np.clip(a, 0.0, 1.0), dtype=np.float32), native


def read_mask(path: Path, size: int | None, threshold: int, *,
              native: tuple[int, int] | None = None, image: Path | None = None) -> np.ndarray:
    """Decode a 0/255 mask to bool ``(size, size)``: threshold at native resolution (``> threshold``),
    then nearest-neighbour resize, so a mask never gains grey levels.

    With ``native`` (the image's ``(height, width)``), a mask of another size is refused with a
    ``ValueError`` naming both files and both sizes: resizing it onto the image would move its
    annotation by an unknown amount.
    """
    from PIL import Image

    with Image.open(path) as img:
        if native is not None and (img.height, img.width) != tuple(native):
            raise ValueError(f"mask '{path}' is {img.width}x{img.height} (WxH) but its image "
                             f"'{image if image is not None else '?'}' is {native[1]}x{native[0]}: a mask must "
                             "have its image's size (it is never resized onto it)")
        m = np.asarray(img.convert("L")) > threshold
    if size is not None and m.shape != (size, size):
        m = np.asarray(Image.fromarray(m).resize((size, size), Image.NEAREST))
    return m.astype(bool, copy=False)


def pair_by_name(images: Sequence[str], masks: Sequence[str], prefix: str = "") -> list[str | None]:
    """For each image name, the mask called ``prefix + name`` (else ``prefix + stem`` with any image
    extension, case ignored), or ``None``. Pairing is by name, never by sort order."""
    exact = set(masks)
    by_stem = {os.path.splitext(m)[0].lower(): m for m in masks}
    out: list[str | None] = []
    for name in images:
        want = prefix + name
        out.append(want if want in exact else by_stem.get(os.path.splitext(want)[0].lower()))
    return out


def drop_unpaired(title: str, root: Path, image_dir: Path, mask_dir: Path, names: Sequence[str],
                  pairs: Sequence[str | None], *, prefix: str, on_error: str,
                  skipped: list[tuple[str, str]]) -> list[int]:
    """Positions of the images that have a mask. Images without one raise :class:`MissingMaskError`
    naming them and the mask looked for, or (``on_error="skip"``) are appended to ``skipped``."""
    from ._errors import MissingMaskError

    missing = [n for n, m in zip(names, pairs, strict=True) if m is None]
    if missing and on_error == "raise":
        first = ", ".join(missing[:5]) + (f" (and {len(missing) - 5} more)" if len(missing) > 5 else "")
        raise MissingMaskError(
            f"{title}: {len(missing)} image(s) in '{image_dir.relative_to(root)}' have no mask of the same name in "
            f"'{mask_dir.relative_to(root)}': {first}; e.g. looked for '{mask_dir / (prefix + missing[0])}'. Masks "
            f"are paired by file name, never by order: restore the missing masks, or pass on_error='skip' to drop "
            f"these images and report them.")
    for n in missing:
        skipped.append((str((image_dir / n).relative_to(root)), f"no mask of the same name in '{mask_dir.name}'"))
    return [i for i, m in enumerate(pairs) if m is not None]
