"""Issue 19 items 1-4: the cache keeps its promise under corrupt entries, concurrent trainers and SIGKILL.

"This key means: this configuration, trained from scratch" -- so every path that ends in training must give
the bit-identical weights of a clean run in a fresh cache (training on the CPU is deterministic), leave exactly
``entry.json`` and ``weights.pt`` in the entry, and record exactly one training in ``trainings.log``.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import xaikit
from xaikit.train import CacheLockTimeout, CacheWarning, state_hash, training_log

sys.path.insert(0, str(Path(__file__).parent))
import _train_worker as worker  # noqa: E402

WORKER = Path(__file__).parent / "_train_worker.py"


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The weights of an uninterrupted run in an empty cache: the oracle every path must reproduce.

    ``worker.train`` uses one intra-op thread in every process: CPU kernels reduce in a thread-count-dependent
    order, so bit-identity across processes needs the same thread count."""
    return state_hash(worker.train(tmp_path_factory.mktemp("clean")).model)


def _entry(cache):
    (entry,) = (cache / "models").iterdir()
    return entry


def _assert_clean_cache(cache):
    """Exactly one healthy entry; nothing else but the lock folder and the training log."""
    assert sorted(p.name for p in cache.iterdir()) == ["locks", "models", "trainings.log"]
    assert sorted(p.name for p in _entry(cache).iterdir()) == ["entry.json", "weights.pt"]
    assert all(p.suffix == ".lock" for p in (cache / "locks").iterdir())


# --------------------------------------------------------------------------- items 1 and 2
def _plant_foreign_weights(entry):
    """An entry whose weights.pt passes its checksum but whose metadata is broken after the weights load:
    the old code loaded the (foreign) weights, then failed, then trained from them."""
    foreign = {k: v + 0.25 if v.is_floating_point() else v
               for k, v in torch.load(entry / "weights.pt", weights_only=True).items()}
    torch.save(foreign, entry / "weights.pt")
    meta = json.loads((entry / "entry.json").read_text())
    import hashlib
    meta["weights_sha256"] = hashlib.sha256((entry / "weights.pt").read_bytes()).hexdigest()
    return meta


BAD_FIELDS = {  # item 2: fields of the wrong type
    "history_is_a_string": ("history", "not a list"),
    "history_of_numbers": ("history", [1, 2, 3]),
    "best_epoch_is_text": ("best_epoch", "two"),
    "best_epoch_out_of_range": ("best_epoch", 99),
    "meta_is_a_list": (None, None),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_a_rejected_entry_never_leaks_into_the_retraining(tmp_path, clean, case):
    worker.train(tmp_path)
    entry = _entry(tmp_path)
    meta = _plant_foreign_weights(entry)
    field, value = BAD_FIELDS[case]
    meta = [meta] if field is None else {**meta, field: value}
    (entry / "entry.json").write_text(json.dumps(meta))
    with pytest.warns(CacheWarning, match="is corrupt") as record:
        again = worker.train(tmp_path)
    msg = str(record[0].message)
    assert (field or "JSON object") in msg and "DataFrame" not in msg  # names the field, not a pandas error
    assert not again.from_cache and state_hash(again.model) == clean
    assert len(training_log(tmp_path)) == 2
    assert worker.train(tmp_path).from_cache


def test_weights_that_do_not_fit_are_rejected_without_partial_loading(tmp_path, clean):
    worker.train(tmp_path)
    entry = _entry(tmp_path)
    meta = _plant_foreign_weights(entry)
    state = torch.load(entry / "weights.pt", weights_only=True)
    state[next(reversed(state))] = torch.zeros(7)  # last key (head bias) of the wrong shape: torch copies the rest
    torch.save(state, entry / "weights.pt")
    import hashlib
    meta["weights_sha256"] = hashlib.sha256((entry / "weights.pt").read_bytes()).hexdigest()
    (entry / "entry.json").write_text(json.dumps(meta))
    with pytest.warns(CacheWarning, match="is corrupt"):
        again = worker.train(tmp_path)
    assert state_hash(again.model) == clean


# --------------------------------------------------------------------------- lock + item 3
def _spawn(cache, tmp, i, go, *extra):
    out = tmp / f"out{i}.json"
    root = str(Path(xaikit.__file__).parents[1])  # this checkout's package, whatever the install points at
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, str(WORKER), str(cache), str(out), str(go), *extra], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc, out


@pytest.mark.slow  # four fresh interpreters importing torch: ~10 s on an idle 2-core machine
def test_hammer_n_processes_one_entry_trains_exactly_once(tmp_path, clean):
    cache, go, n = tmp_path / "cache", tmp_path / "go", 4
    procs = [_spawn(cache, tmp_path, i, go, "--epoch-sleep", "0.2") for i in range(n)]
    go.touch()  # every worker is past its imports or close to it: they start together
    results = []
    for proc, out in procs:
        log, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, log.decode()[-2000:]
        results.append(json.loads(out.read_text()))
    assert len(training_log(cache)) == 1  # trained exactly once ...
    assert sorted(r["from_cache"] for r in results) == [False] + [True] * (n - 1)  # ... the others loaded it
    assert {r["hash"] for r in results} == {clean}  # identical to a clean run
    _assert_clean_cache(cache)


# --------------------------------------------------------------------------- item 4
@pytest.mark.slow  # one fresh interpreter: ~5 s on an idle 2-core machine
def test_sigkill_mid_training_then_resume_equals_an_uninterrupted_run(tmp_path, clean):
    cache, go, reached = tmp_path / "cache", tmp_path / "go", tmp_path / "reached"
    go.touch()
    proc, _ = _spawn(cache, tmp_path, 0, go, "--hang-after-epoch", "2", "--reached", str(reached))
    deadline = time.monotonic() + 120
    while not reached.exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.stdout.read().decode()[-2000:]
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # holds the entry's lock and has written epoch 2's checkpoint
    proc.wait()
    entry = _entry(cache)
    (entry / ".checkpoint.pt.x1y2z3.tmp").write_bytes(b"half a checkpoint")  # what a kill mid-write leaves
    seen = []
    resumed = worker.train(cache, callbacks=[lambda e, row: seen.append(e)], lock_timeout=30)
    assert resumed.resumed_from == 2 and seen == [3]
    assert state_hash(resumed.model) == clean
    assert [r["resumed_from"] for r in training_log(cache)] == [2]
    _assert_clean_cache(cache)


def test_a_kill_after_the_entry_is_written_leaves_no_checkpoint_behind(tmp_path, clean):
    worker.train(tmp_path)
    entry = _entry(tmp_path)
    (entry / "checkpoint.pt").write_bytes(b"left by a process killed before its cleanup")
    hit = worker.train(tmp_path)
    assert hit.from_cache and state_hash(hit.model) == clean
    _assert_clean_cache(tmp_path)


def test_a_live_lock_holder_times_out_with_a_clear_error(tmp_path):
    from filelock import FileLock

    from xaikit.train._cache import cache_key  # noqa: F401  (the entry name is read from a first run)
    first = worker.train(tmp_path / "a")
    lock = FileLock(tmp_path / "b" / "locks" / f"smallcnn-{first.key}.lock")
    (tmp_path / "b" / "locks").mkdir(parents=True)
    with lock:  # filelock in one process: another FileLock object on the same file contends
        with pytest.raises(CacheLockTimeout, match="held the cache lock"):
            worker.train(tmp_path / "b", lock_timeout=0.2)
    assert training_log(tmp_path / "b") == []
