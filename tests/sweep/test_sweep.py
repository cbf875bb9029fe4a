"""The sweep engine on a real 2-worker local Dask cluster.

The engine's logic (grid, record, retries, timeout, resume, aggregation, GPU pinning) is tested with a
stand-in cell command (``fake_cell.py``, a fraction of a second per cell); ``test_sweep_notebooks.py``
runs the same checks through the real study runner (slow).
"""
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from xaikit.__main__ import main
from xaikit.studies import validate_params
from xaikit.studies._runner import parse_value as runner_parse_value
from xaikit.sweep import (
    aggregate,
    cell_command,
    check_engine,
    coerce_value,
    expand_grid,
    load_sweep_file,
    make_engine,
    parse_grid,
    parse_value,
    run_sweep,
    slurm_cluster,
    sweep_dir,
)

FAKE = Path(__file__).with_name("fake_cell.py")
STUDY = "00_phantoms"


def fake(runs=None, sleep=0.0, fail_seed=None) -> str:
    cmd = f"{{python}} {shlex.quote(str(FAKE))} {{study}} {{output_dir}} {{params_json}} --sleep {sleep}"
    if fail_seed is not None:
        cmd += f" --fail-seed {fail_seed}"
    if runs is not None:
        cmd += f" --runs {shlex.quote(str(runs))}"
    return cmd


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.fixture(scope="module")
def client():
    """One 2-worker local cluster (processes, 1 thread each) for the module's sweeps."""
    eng = make_engine("local", workers=2)
    yield eng.client
    eng.close()


# ---------------------------------------------------------------- grid and validation (no cluster)

def test_parse_grid_values_and_list_cells():
    grid = parse_grid(["seed=42,43,44", "archs=resnet18+resnet34,resnet50", "lr=1e-3,0.1", "augment=none"])
    assert grid == {"seed": [42, 43, 44], "archs": [["resnet18", "resnet34"], "resnet50"], "lr": [0.001, 0.1],
                    "augment": [None]}  # like `-p augment none`; expand_grid restores the choice (below)


@pytest.mark.parametrize("text", ["7", "-3", "0.001", "1e-3", "1e+3", "true", "False", "None", "null", "resnet34",
                                  "a b"])
def test_grid_values_parse_like_the_run_command(text):
    assert parse_value(text) == runner_parse_value(text)
    assert type(parse_value(text)) is type(runner_parse_value(text))


@pytest.mark.parametrize("bad,match", [(["seed"], "--grid must be NAME=VALUE1"), (["=1,2"], "--grid must be"),
                                       (["seed=1", "seed=2"], "names 'seed' twice"), (["seed=1,,2"], "empty value"),
                                       (["seed="], "empty value")])
def test_parse_grid_rejects_malformed_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        parse_grid(bad)


def test_expand_grid_is_the_product_and_validates_every_cell(tmp_path):
    cells = expand_grid(STUDY, "smoke", {"seed": [1, 2, 3], "image_size": [32, 64]}, {"n_per_class": 1}, tmp_path)
    assert [(c.overrides["seed"], c.overrides["image_size"]) for c in cells] == [
        (s, i) for s in (1, 2, 3) for i in (32, 64)]
    assert len({c.id for c in cells}) == 6 and len({c.output_dir for c in cells}) == 6
    for c in cells:  # the full parameters the notebook receives, valid as a whole
        assert validate_params(STUDY, c.params) == c.params
        assert c.params["n_per_class"] == 1 and c.params["output_dir"] == str(tmp_path.resolve() / c.id)
    with pytest.raises(ValueError, match=r"grid cell image_size=31-seed=1: parameter 'image_size' .* got 31"):
        expand_grid(STUDY, "smoke", {"seed": [1, 2], "image_size": [64, 31]}, {}, tmp_path)
    with pytest.raises(ValueError, match="both swept and fixed"):
        expand_grid(STUDY, "smoke", {"seed": [1]}, {"seed": 2}, tmp_path)
    with pytest.raises(ValueError, match="has no parameter 'sed'"):
        expand_grid(STUDY, "smoke", {"sed": [1]}, {}, tmp_path)


def test_choice_values_that_parse_as_none_or_bools_are_restored(tmp_path):
    grid = parse_grid(["augment=none,light", "seed=1"])
    cells = expand_grid("02_informer_qc", "smoke", grid, {"weights": None}, tmp_path)
    assert [c.params["augment"] for c in cells] == ["none", "light"]
    assert cells[0].params["weights"] is None  # a nullable path stays None


def test_default_command_round_trips_through_the_run_command_parser(tmp_path):
    """The -p values a cell passes to `python -m xaikit run` parse back into the cell's own parameters."""
    study = "02_informer_qc"
    grid = {"methods": [["lrp", "saliency"], "grad_cam"], "lr": [0.0003], "augment": ["none"], "seed": [7]}
    for cell in expand_grid(study, "smoke", grid, {"step": 1e-4, "weights": None}, tmp_path):
        argv = cell_command(study, "smoke", cell)
        assert argv[1:5] == ["-m", "xaikit", "run", study]
        pairs = [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == "-p"]
        parsed = {k: coerce_value(study, k, runner_parse_value(v)) for k, v in pairs}
        parsed = validate_params(study, parsed, partial=True)
        assert {k: cell.params[k] for k in parsed} == parsed and set(parsed) == set(cell.overrides)
        assert argv[-2:] == ["--output-dir", str(cell.output_dir)]


def test_bad_sweep_arguments_fail_before_anything_starts(tmp_path):
    for kwargs, match in [({"retries": -1}, "retries must be an int >= 0"), ({"timeout": 0}, "timeout must be"),
                          ({"engine": "kubernetes"}, "engine must be 'local', 'slurm' or"),
                          ({"workers": 0}, "workers must be an int >= 1"),
                          ({"grid": {"seed": [-1]}}, "grid cell seed=-1: parameter 'seed'")]:
        with pytest.raises(ValueError, match=match):
            run_sweep(STUDY, "smoke", **{"grid": {"seed": [1]}, **kwargs}, results_root=tmp_path, quiet=True)
    assert not any(tmp_path.iterdir())  # nothing written, no cluster started


def test_sweep_file_blocks(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("grid:\n  seed: [1, 2]\n  archs: [[resnet18, resnet34], [resnet50]]\nparameters:\n  epochs: 2\n"
                 "slurm:\n  queue: gpu\n  memory: 8GB\n")
    spec = load_sweep_file(f)
    assert spec == {"grid": {"seed": [1, 2], "archs": [["resnet18", "resnet34"], ["resnet50"]]},
                    "parameters": {"epochs": 2}, "slurm": {"queue": "gpu", "memory": "8GB"}}
    f.write_text("grids:\n  seed: [1]\n")
    with pytest.raises(ValueError, match=r"sweep_file .* unknown keys \['grids'\]"):
        load_sweep_file(f)
    f.write_text("grid:\n  seed: 1\n")
    with pytest.raises(ValueError, match="grid entry 'seed' must be a non-empty list"):
        load_sweep_file(f)


def test_cli_dry_run_prints_every_cell_and_writes_nothing(tmp_path, capsys):
    assert main(["sweep", STUDY, "--grid", "seed=1,2", "--grid", "image_size=32,64", "--dry-run",
                 "--results-root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    ids = [c.id for c in expand_grid(STUDY, "smoke", {"seed": [1, 2], "image_size": [32, 64]}, {}, tmp_path)]
    assert all(out.count(i) == 1 for i in ids) and out.count(" run ") == 4
    assert not any(tmp_path.rglob("*"))
    assert main(["sweep", STUDY, "--grid", "seed=1,x", "--dry-run", "--results-root", str(tmp_path)]) == 2
    assert "parameter 'seed'" in capsys.readouterr().err


# ---------------------------------------------------------------- SLURM (the object only; no SLURM here)

def test_slurm_cluster_job_script_from_the_yaml_block(tmp_path):
    from dask.utils import parse_bytes

    f = tmp_path / "s.yaml"
    f.write_text("slurm:\n  queue: gpu-long\n  account: xai\n  walltime: '02:30:00'\n  memory: 16GB\n  cores: 4\n"
                 "  gpus_per_job: 1\n  job_script_prologue: ['module load cuda/12.4']\n")
    cluster = slurm_cluster(load_sweep_file(f)["slurm"], gpus_per_task=1)
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    directives = [line for line in script.splitlines() if line.startswith("#SBATCH")]
    mem_g = math.ceil(parse_bytes("16GB") / 2**30)  # dask-jobqueue writes whole GiB, rounded up
    for line in ("#SBATCH -p gpu-long", "#SBATCH -A xai", "#SBATCH -t 02:30:00", f"#SBATCH --mem={mem_g}G",
                 "#SBATCH --cpus-per-task=4", "#SBATCH --gres=gpu:1"):
        assert line in directives, (line, directives)
    assert "--resources cell=1,GPU=1" in script and "--nthreads 4" in script
    assert "export OMP_NUM_THREADS=4" in script and "module load cuda/12.4" in script
    with pytest.raises(ValueError, match=r"slurm block has unknown keys \['partition'\]"):
        slurm_cluster({"partition": "gpu", "memory": "1GB"})
    with pytest.raises(ValueError, match="slurm block needs 'memory'"):
        check_engine("slurm", slurm={"queue": "gpu"})
    with pytest.raises(ValueError, match=r"gpus_per_task \(2\) exceeds slurm.gpus_per_job \(1\)"):
        check_engine("slurm", gpus_per_task=2, slurm={"memory": "1GB", "gpus_per_job": 1})


# ---------------------------------------------------------------- sweeps on the 2-worker cluster

def expected_table(record: dict, name: str) -> pd.DataFrame:
    """The per-cell CSVs concatenated by hand, with the sweep's columns in front."""
    parts = []
    for cid, cell in record["cells"].items():
        df = pd.read_csv(Path(cell["output_dir"]) / f"{name}.csv")
        commit = json.loads((Path(cell["output_dir"]) / "manifest.json").read_text())["git_commit"]
        cols = {"cell": cid, "commit": commit, "seed": cell["params"]["seed"]}
        cols.update({k: cell["overrides"][k] for k in record["grid"]})
        front = pd.DataFrame({(f"sweep_{k}" if k in df else k): [v] * len(df) for k, v in cols.items()})
        parts.append(pd.concat([front, df], axis=1))
    return pd.concat(parts, ignore_index=True)


def test_2x2_grid_completes_and_aggregate_is_the_concatenation(client, tmp_path, capsys):
    runs = tmp_path / "runs"
    record = run_sweep(STUDY, "smoke", {"seed": [1, 2], "image_size": [32, 64]}, results_root=tmp_path,
                       client=client, command=fake(runs, sleep=0.5), sweep="s1")
    assert {c["status"] for c in record["cells"].values()} == {"done"} and len(record["cells"]) == 4
    assert json.loads((sweep_dir(STUDY, "smoke", "s1", tmp_path) / "sweep.json").read_text()) == json.loads(
        json.dumps(record, default=str))
    assert {c["worker"] for c in record["cells"].values()} == {"0", "1"}  # both workers ran cells
    assert sorted(lines(runs / "starts.log")) == sorted(record["cells"])
    for cell in record["cells"].values():
        assert cell["wall_s"] >= 0.5 and cell["attempts"] == 1 and Path(cell["log"]).is_file()
    assert "4/4 done" in capsys.readouterr().out
    tables = aggregate(STUDY, "smoke", "s1", results_root=tmp_path)
    assert set(tables) == {"scores", "tables/summary"}
    pd.testing.assert_frame_equal(tables["scores"], expected_table(record, "scores"))
    pd.testing.assert_frame_equal(tables["tables/summary"], expected_table(record, "tables/summary"))
    assert list(tables["scores"].columns[:4]) == ["cell", "commit", "seed", "image_size"]
    assert "sweep_seed" in tables["tables/summary"]  # the table's own seed column is kept as it is
    written = pd.read_csv(sweep_dir(STUDY, "smoke", "s1", tmp_path) / "aggregate" / "scores.csv")
    pd.testing.assert_frame_equal(written, tables["scores"], check_dtype=False)
    assert main(["aggregate", STUDY, "--sweep", "s1", "--results-root", str(tmp_path)]) == 0
    assert "scores: 12 rows" in capsys.readouterr().out


def test_failing_cell_is_retried_then_recorded_while_the_others_complete(client, tmp_path):
    runs = tmp_path / "runs"
    record = run_sweep(STUDY, "smoke", {"seed": [1, 2, 3]}, results_root=tmp_path, client=client,
                       command=fake(runs, sleep=0.2, fail_seed=2), retries=1, sweep="f", quiet=True)
    cells = record["cells"]
    assert cells["seed=2"]["status"] == "failed" and cells["seed=2"]["attempts"] == 2
    assert cells["seed=2"]["returncode"] == 3 and "exited with status 3" in cells["seed=2"]["error"]
    assert "seed 2 is the one this fake study cannot run" in Path(cells["seed=2"]["log"]).read_text()
    assert cells["seed=1"]["status"] == cells["seed=3"]["status"] == "done"
    assert lines(runs / "starts.log").count("seed=2") == 2 and lines(runs / "ends.log").count("seed=2") == 0
    assert record["summary"]["failed"] == 1 and record["summary"]["done"] == 2
    tables = aggregate(STUDY, "smoke", "f", results_root=tmp_path)  # failed cells are left out
    assert sorted(tables["scores"]["cell"].unique()) == ["seed=1", "seed=3"]


def test_a_kernel_that_failed_to_start_gets_one_more_run_without_retries(client, tmp_path):
    runs = tmp_path / "runs"
    record = run_sweep(STUDY, "smoke", {"seed": [1]}, results_root=tmp_path, client=client, retries=0, quiet=True,
                       command=fake(runs) + " --kernel-fails-once")
    cell = record["cells"]["seed=1"]
    assert cell["status"] == "done" and cell["attempts"] == 2 and cell["transient_retry"]
    assert "Kernel didn't respond" in Path(cell["log"]).with_name("seed=1.attempt1.log").read_text()
    assert lines(runs / "starts.log") == ["seed=1", "seed=1"]


def test_cell_is_killed_at_its_timeout(client, tmp_path):
    import psutil

    runs = tmp_path / "runs"
    t0 = time.perf_counter()
    record = run_sweep(STUDY, "smoke", {"seed": [5]}, results_root=tmp_path, client=client,
                       command=fake(runs, sleep=60), timeout=1.5, quiet=True)
    cell = record["cells"]["seed=5"]
    assert cell["status"] == "failed" and "timeout of 1.5 s" in cell["error"]
    assert 1.5 <= cell["wall_s"] < 15 and time.perf_counter() - t0 < 30
    pid = int((runs / "seed=5.pid").read_text())
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_rerun_skips_completed_cells_and_redoes_changed_ones(client, tmp_path):
    runs = tmp_path / "runs"
    kw = dict(results_root=tmp_path, client=client, command=fake(runs), quiet=True)
    first = run_sweep(STUDY, "smoke", {"seed": [1, 2, 3]}, **kw)
    again = run_sweep(STUDY, "smoke", {"seed": [1, 2, 3]}, **kw)  # same sweep id: nothing to do
    assert first["sweep_id"] == again["sweep_id"]
    assert {c["status"] for c in again["cells"].values()} == {"skipped"}
    assert sorted(lines(runs / "starts.log")) == ["seed=1", "seed=2", "seed=3"]
    out = {cid: Path(c["output_dir"]) for cid, c in first["cells"].items()}
    (out["seed=1"] / f"{STUDY}.ipynb").unlink()  # the notebook never finished
    m = json.loads((out["seed=2"] / "manifest.json").read_text())
    (out["seed=2"] / "manifest.json").write_text(json.dumps({**m, "git_commit": "0" * 40}))  # older code
    third = run_sweep(STUDY, "smoke", {"seed": [1, 2, 3]}, resume=True, sweep=first["sweep_id"], **kw)
    assert {cid: c["status"] for cid, c in third["cells"].items()} == {
        "seed=1": "done", "seed=2": "done", "seed=3": "skipped"}
    assert sorted(lines(runs / "starts.log")) == ["seed=1", "seed=1", "seed=2", "seed=2", "seed=3"]
    fourth = run_sweep(STUDY, "smoke", resume=True, sweep=first["sweep_id"], **kw)  # the grid from the record
    assert fourth["grid"] == {"seed": [1, 2, 3]} and {c["status"] for c in fourth["cells"].values()} == {"skipped"}
    with pytest.raises(ValueError, match="has no record"):
        run_sweep(STUDY, "smoke", resume=True, sweep="nope", **kw)


@pytest.mark.slow  # two CLI runs, each starting its own cluster: about 20 s on 2 busy cores
def test_sweep_killed_after_its_first_cell_resumes_only_the_missing_cells(tmp_path):
    """The CLI in its own process group, SIGKILLed (driver, workers, cells) once one cell is done."""
    runs = tmp_path / "runs"
    argv = [sys.executable, "-m", "xaikit", "sweep", STUDY, "--grid", "seed=1,2,3,4", "--workers", "1",
            "--sweep-id", "k", "--results-root", str(tmp_path), "--cell-command", fake(runs, sleep=1.0)]
    record_path = sweep_dir(STUDY, "smoke", "k", tmp_path) / "sweep.json"
    proc = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if json.loads(record_path.read_text())["summary"]["done"] >= 1:
                    break
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        else:
            pytest.fail("no cell completed within 120 s")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = json.loads(record_path.read_text())
    done_before = [cid for cid, c in killed["cells"].items() if c["status"] == "done"]
    assert 1 <= len(done_before) < 4
    assert main(argv[3:-2] + ["--resume", "--cell-command", fake(runs, sleep=0.0)]) == 0
    resumed = json.loads(record_path.read_text())
    assert all(resumed["cells"][cid]["status"] == "skipped" for cid in done_before)
    assert {c["status"] for c in resumed["cells"].values()} <= {"done", "skipped"}
    starts = lines(runs / "starts.log")
    for cid in done_before:
        assert starts.count(cid) == 1  # never run again
    ends = lines(runs / "ends.log")  # every cell completed once, wherever the kill fell
    assert sorted(ends) == ["seed=1", "seed=2", "seed=3", "seed=4"]


@pytest.mark.slow  # a second cluster: about 20 s on 2 busy cores
def test_local_gpus_are_worker_resources_and_each_worker_sees_only_its_own(tmp_path, monkeypatch):
    """Two pretend devices: two workers with GPU=1 each; a cell sees exactly its worker's device.

    The stand-in cells never touch CUDA, so this runs without a GPU."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    eng = make_engine("local", gpus_per_task=1)
    try:
        assert eng.gpu_map == {"0": "0", "1": "1"} and eng.task_resources == {"GPU": 1}
        runs = tmp_path / "runs"
        record = run_sweep(STUDY, "smoke", {"seed": [1, 2, 3, 4]}, results_root=tmp_path, engine=eng,
                           command=fake(runs, sleep=0.3), quiet=True)
        workers = {w["name"]: w["resources"] for w in eng.client.scheduler_info()["workers"].values()}
    finally:
        eng.close()
    assert sorted(workers) == [0, 1] and all(r == {"GPU": 1} for r in workers.values())
    for cid, cell in record["cells"].items():
        assert cell["status"] == "done"
        assert (runs / f"{cid}.cuda").read_text() == eng.gpu_map[cell["worker"]] == cell["cuda_visible_devices"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(ValueError, match="gpus_per_task=1 but this machine shows 0 GPU"):
        make_engine("local", gpus_per_task=1)


@pytest.mark.slow  # its own cluster: about 10 s on 2 busy cores
def test_a_local_worker_runs_one_cell_at_a_time_whatever_its_thread_count(tmp_path):
    eng = make_engine("local", workers=1, threads_per_worker=2)
    try:
        assert list(eng.client.nthreads().values()) == [1] and eng.threads == 2
        record = run_sweep(STUDY, "smoke", {"seed": [1, 2]}, results_root=tmp_path, engine=eng, quiet=True,
                           command=fake(tmp_path / "runs", sleep=1.0))
    finally:
        eng.close()
    a, b = sorted(record["cells"].values(), key=lambda c: c["started"])
    assert a["finished"] <= b["started"]  # one after the other, never two at once
    assert (tmp_path / "runs" / "seed=1.threads").read_text() == "2"


def test_cells_get_torch_threads_matching_the_worker(client, tmp_path):
    runs = tmp_path / "runs"
    run_sweep(STUDY, "smoke", {"seed": [1]}, results_root=tmp_path, client=client, threads_per_worker=3,
              command=fake(runs), quiet=True)
    assert (runs / "seed=1.threads").read_text() == "3"


def test_cli_on_a_running_scheduler_by_address_exits_1_when_a_cell_fails(client, tmp_path, capsys):
    argv = ["sweep", STUDY, "--grid", "seed=1,2", "--engine", client.scheduler.address, "--sweep-id", "a",
            "--results-root", str(tmp_path), "--cell-command", fake(sleep=0.1, fail_seed=1)]
    assert main(argv) == 1
    out = capsys.readouterr().out
    record = json.loads((sweep_dir(STUDY, "smoke", "a", tmp_path) / "sweep.json").read_text())
    assert record["engine"]["kind"] == "address" and record["engine"]["scheduler"] == client.scheduler.address
    assert {cid: c["status"] for cid, c in record["cells"].items()} == {"seed=1": "failed", "seed=2": "done"}
    assert "1 cell(s) failed: seed=1" in out and record["cells"]["seed=1"]["log"] in out
