"""make book runs each chapter beside its replication sweep; the chapter's replication section waits for it."""
import json
import os
import subprocess
import sys
import threading
import time

import pytest

import xaikit.book as book
from xaikit.studies import RUNNING_MARKER, wait_for_sweep
from xaikit.studies._replication import replication_folders
from xaikit.sweep import sweep_dir

STUDY = "01_model_complexity"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_wait_for_sweep_without_marker_or_with_a_dead_owner_returns_at_once(tmp_path):
    assert wait_for_sweep(tmp_path) is False
    (tmp_path / RUNNING_MARKER).write_text(str(_dead_pid()))
    t0 = time.monotonic()
    assert wait_for_sweep(tmp_path, poll=5.0) is False and time.monotonic() - t0 < 1.0


def test_wait_for_sweep_waits_until_the_marker_goes_and_times_out(tmp_path):
    marker = tmp_path / RUNNING_MARKER
    marker.write_text(str(os.getpid()))
    with pytest.raises(TimeoutError, match="still runs after"):
        wait_for_sweep(tmp_path, poll=0.05, timeout=0.2)
    threading.Timer(0.4, marker.unlink).start()
    t0 = time.monotonic()
    assert wait_for_sweep(tmp_path, poll=0.05) is True
    assert time.monotonic() - t0 >= 0.35


def _fake_sweep(events, delay=0.6, fail=False):
    def run_replication(study, profile, overrides, plan, results_root=None):
        events.append(("sweep start", time.monotonic()))
        time.sleep(delay)
        if fail:
            raise RuntimeError("the sweep broke")
        folder = sweep_dir(study, profile, "replication", results_root)
        cells = {}
        for seed in plan["seeds"]:
            out = folder / "cells" / f"seed={seed}"
            out.mkdir(parents=True)
            cells[f"seed={seed}"] = {"params": {"seed": seed}, "status": "done", "output_dir": str(out)}
        (folder / "sweep.json").write_text(json.dumps({"study": study, "cells": cells}))
        events.append(("sweep end", time.monotonic()))
        return folder
    return run_replication


def test_chapter_runs_beside_the_sweep_and_its_replication_section_sees_every_seed(tmp_path, monkeypatch):
    events, seen = [], {}
    monkeypatch.setattr(book, "run_replication", _fake_sweep(events))

    def chapter(values):
        events.append(("chapter start", time.monotonic()))
        folder = values["replication_dir"]
        seen["marker while running"] = (tmp_path / STUDY / "default" / "_sweeps" / "replication" /
                                        RUNNING_MARKER).exists()
        seen["threads"] = os.environ.get("OMP_NUM_THREADS")
        seen["seeds"] = sorted(replication_folders(STUDY, tmp_path / "chapter", 42, folder))  # waits for the sweep
        events.append(("chapter end", time.monotonic()))

    threads_before = os.environ.get("OMP_NUM_THREADS")
    folder = book.chapter_with_replication(STUDY, "default", {}, {"seeds": [43, 44], "workers": 2}, chapter,
                                           results_root=tmp_path)
    t = dict(events)
    assert t["chapter start"] < t["sweep end"]  # the two overlap
    assert t["chapter end"] >= t["sweep end"]  # the summary waited for the sweep
    assert seen == {"marker while running": True, "threads": "1", "seeds": [42, 43, 44]}
    assert not (folder / RUNNING_MARKER).exists()
    assert os.environ.get("OMP_NUM_THREADS") == threads_before  # restored afterwards


def test_a_failed_sweep_is_raised_after_the_chapter_and_leaves_no_marker(tmp_path, monkeypatch):
    events = []
    monkeypatch.setattr(book, "run_replication", _fake_sweep(events, delay=0.1, fail=True))
    ran = []
    with pytest.raises(RuntimeError, match="the sweep broke"):
        book.chapter_with_replication(STUDY, "default", {}, {"seeds": [43], "workers": 1}, ran.append,
                                      results_root=tmp_path)
    assert len(ran) == 1 and "replication_dir" in ran[0]
    assert not list(tmp_path.rglob(RUNNING_MARKER))


def test_without_seeds_only_the_chapter_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(book, "run_replication", lambda *a, **k: pytest.fail("no sweep without seeds"))
    ran = []
    assert book.chapter_with_replication(STUDY, "default", {"seed": 42}, {"seeds": [], "workers": 2}, ran.append,
                                         results_root=tmp_path) is None
    assert ran == [{"seed": 42}] and not any(tmp_path.iterdir())
