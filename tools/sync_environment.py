"""Write environment.yml from constraints.txt so conda users get the same pins (``make constraints`` runs it)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    pins = [ln.strip() for ln in (ROOT / "constraints.txt").read_text().splitlines()
            if ln.strip() and not ln.startswith("#")]
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    lines = [
        "# Generated from constraints.txt by tools/sync_environment.py (make constraints); do not edit by hand.",
        "name: xaikit",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={py}",
        "  - pip",
        "  - pip:",
        *(f"      - {p}" for p in pins),
        "      - -e .[dev]",
    ]
    (ROOT / "environment.yml").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
