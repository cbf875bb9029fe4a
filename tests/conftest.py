import atexit
import os
import shutil
import tempfile

import pytest

# Tests run on the CPU, and train into a throw-away model cache (papermill kernels inherit both).
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
if "XAIKIT_CACHE_DIR" not in os.environ:
    os.environ["XAIKIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="xaikit-test-cache-")
    atexit.register(shutil.rmtree, os.environ["XAIKIT_CACHE_DIR"], ignore_errors=True)


@pytest.fixture(scope="session")
def book_src(tmp_path_factory):
    """A copy of the book's sources with every notebook executed in the smoke profile (shared by the slow tests)."""
    from xaikit.studies import studies
    from xaikit.studies._runner import ROOT, run_study

    src = tmp_path_factory.mktemp("book")
    for name in ("_config.yml", "_toc.yml", "references.bib"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "book", src / "book", ignore=shutil.ignore_patterns("_generated", "__pycache__"))
    # Decoys like those a real checkout holds: the strict build must not pick them up.
    for decoy in (".pytest_cache/README.md", "README.md", "data/README.md", "results/x/notes.md",
                  "xaikit.egg-info/notes.md"):
        (src / decoy).parent.mkdir(parents=True, exist_ok=True)
        (src / decoy).write_text("# not part of the book\n")
    for study in studies():
        run_study(study, "smoke", output_dir=src / "book" / "_generated" / study,
                  notebook_out=src / "book" / "_generated" / f"{study}.ipynb")
    return src


@pytest.fixture(scope="session")
def built_book(book_src):
    """``_build/html`` of the smoke-profile book, built strictly once for the tests that only read it."""
    from xaikit.book import build_book

    return build_book(execute=False, source=book_src, strict=True).parent
