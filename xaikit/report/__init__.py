"""Figures, tables and provenance manifests."""
from ._figures import attribution_overlay, save_figure, score_histogram, training_curves
from ._grids import confusion_figure, map_grid
from ._io import atomic_write_bytes, write_csv, write_json
from ._manifest import TRACKED_PACKAGES, build_manifest, git_commit, package_versions

__all__ = ["TRACKED_PACKAGES", "atomic_write_bytes", "attribution_overlay", "build_manifest", "confusion_figure",
           "git_commit", "map_grid", "package_versions", "save_figure", "score_histogram", "training_curves",
           "write_csv", "write_json"]
