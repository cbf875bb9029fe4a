"""A stand-in for ``python -m xaikit run``: the sweep engine's tests run it as their cell command.

Usage: python fake_cell.py STUDY OUTPUT_DIR PARAMS_JSON [--sleep S] [--fail-seed N] [--runs DIR]
       [--kernel-fails-once]

After sleeping ``S`` seconds it writes what the study runner leaves behind: ``<study>.ipynb``,
``manifest.json`` (the parameters and the commit of the working directory, the compendium) and tidy
CSVs derived from the seed. It exits 3 instead when the cell's seed is ``N``, and 1 with papermill's
kernel-start error on its first run with ``--kernel-fails-once``. With ``--runs`` it appends its cell
folder's name to ``DIR/starts.log`` when it starts and ``DIR/ends.log`` when it completes, and records
its pid, ``CUDA_VISIBLE_DEVICES`` and ``OMP_NUM_THREADS`` in ``DIR/<cell>.*``.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("study")
    ap.add_argument("output_dir")
    ap.add_argument("params_json")
    ap.add_argument("--sleep", type=float, default=0.0)
    ap.add_argument("--fail-seed", type=int, default=None)
    ap.add_argument("--runs", default=None)
    ap.add_argument("--kernel-fails-once", action="store_true", help="fail like papermill's kernel start, once")
    args = ap.parse_args()
    params = json.loads(args.params_json)
    out = Path(args.output_dir)
    runs = Path(args.runs) if args.runs else None
    if runs:
        runs.mkdir(parents=True, exist_ok=True)
        with open(runs / "starts.log", "a") as fh:
            fh.write(out.name + "\n")
        (runs / f"{out.name}.pid").write_text(str(os.getpid()))
        (runs / f"{out.name}.cuda").write_text(os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
        (runs / f"{out.name}.threads").write_text(os.environ.get("OMP_NUM_THREADS", "<unset>"))
    time.sleep(args.sleep)
    marker = out.with_name(out.name + ".kernel-failed")
    if args.kernel_fails_once and not marker.exists():
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        print("RuntimeError: Kernel didn't respond in 60 seconds", file=sys.stderr)
        return 1
    if args.fail_seed is not None and params["seed"] == args.fail_seed:
        print(f"ValueError: seed {params['seed']} is the one this fake study cannot run", file=sys.stderr)
        return 3
    from xaikit.report import git_commit

    out.mkdir(parents=True, exist_ok=True)
    seed = params["seed"]
    rows = "\n".join(f"{i},{seed * 10 + i},{(seed * 7919 + i * 104729) % 1000 / 1000}" for i in range(3))
    (out / "scores.csv").write_text("image,score,value\n" + rows + "\n")
    (out / "tables").mkdir(exist_ok=True)
    (out / "tables" / "summary.csv").write_text(f"seed,mean\n{seed},{seed * 10 + 1}\n")
    (out / "manifest.json").write_text(json.dumps({"study": args.study, "parameters": params,
                                                   "git_commit": git_commit(os.getcwd())}))
    (out / f"{args.study}.ipynb").write_text("{}")
    if runs:
        with open(runs / "ends.log", "a") as fh:
            fh.write(out.name + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
