"""Command line: ``python -m xaikit run STUDY --profile smoke -p NAME VALUE ...``, ``python -m xaikit book``,
``python -m xaikit figures`` (figures and tables from the model cache, never training), ``python -m xaikit
sweep STUDY --grid NAME=V1,V2 ...`` (a parameter grid on Dask) and ``python -m xaikit aggregate``."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xaikit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one study notebook with papermill")
    run.add_argument("study", help="notebook name, e.g. 01_model_complexity")
    run.add_argument("--profile", default="smoke", help="smoke | default | paper (default: smoke)")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="override one notebook parameter (repeatable)")
    run.add_argument("--output-dir", default=None, help="where results go (default: results/STUDY/PROFILE/...)")
    book = sub.add_parser("book", help="execute every notebook and build the HTML book")
    book.add_argument("--profile", default="default")
    book.add_argument("--data-root", default=None)
    book.add_argument("--no-execute", action="store_true", help="build from the notebooks already executed")
    book.add_argument("--no-replication", action="store_true",
                      help="skip the replication seeds of the profile (each chapter then reports one seed)")
    figures = sub.add_parser("figures", help="regenerate every study's figures and tables from cached models "
                             "(fails instead of training when a model is not cached)")
    figures.add_argument("--profile", default="default")
    figures.add_argument("--data-root", default=None)
    figures.add_argument("--study", action="append", default=None, metavar="STUDY",
                         help="only this study (repeatable; default: every study)")
    figures.add_argument("--output-root", default=None,
                         help="write <output-root>/<study>/ (default: results/<study>/<profile>/base)")
    sub.add_parser("list", help="list the study notebooks")
    _add_sweep_parsers(sub)
    args = parser.parse_args(argv)
    if args.command in ("sweep", "aggregate"):
        return _sweep_command(args)

    from .studies import _runner

    try:
        if args.command == "list":
            print("\n".join(_runner.studies()))
        elif args.command == "run":
            from .sweep import coerce_value

            overrides = {k: coerce_value(args.study, k, _runner.parse_value(v)) for k, v in args.parameter}
            out = _runner.run_study(args.study, args.profile, overrides, output_dir=args.output_dir, progress=True)
            print(f"executed notebook: {out}\nresults in: {out.parent}")
        elif args.command == "figures":
            done = _runner.regenerate_figures(args.profile, args.study, data_root=args.data_root,
                                              output_root=args.output_root)
            for study, nb in done.items():
                print(f"{study}: figures and tables in {nb.parent}")
        else:
            from .book import build_book

            build_book(args.profile, args.data_root, execute=not args.no_execute,
                       replicate=not args.no_replication)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _add_sweep_parsers(sub) -> None:
    sweep = sub.add_parser("sweep", help="run a parameter grid of one study on Dask (local, address or SLURM)")
    sweep.add_argument("study")
    sweep.add_argument("--profile", default="smoke", help="smoke | default | paper (default: smoke)")
    sweep.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                       help="a swept parameter (repeatable); '+' joins the items of one list value: "
                            "archs=resnet18+resnet34,resnet50")
    sweep.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                       help="a parameter fixed for every cell (repeatable)")
    sweep.add_argument("--sweep-file", default=None, help="YAML with 'grid', 'parameters' and 'slurm' blocks")
    sweep.add_argument("--sweep-id", default=None, help="name of the sweep (default: a hash of study, profile, grid)")
    sweep.add_argument("--engine", default="local", help="local | tcp://HOST:PORT | slurm (default: local)")
    sweep.add_argument("--workers", type=int, default=None, help="local worker processes / SLURM jobs")
    sweep.add_argument("--threads-per-worker", type=int, default=1, help="torch threads of each worker's cell; a "
                       "worker runs one cell at a time (default: 1)")
    sweep.add_argument("--gpus-per-task", type=int, default=0, help="GPUs each cell asks for (default: 0)")
    sweep.add_argument("--timeout", type=float, default=None, help="seconds before a cell is killed "
                       "(default: 6 h)")
    sweep.add_argument("--retries", type=int, default=0, help="re-runs of a failed cell (default: 0)")
    sweep.add_argument("--resume", action="store_true", help="continue --sweep-id from its record (its grid "
                       "when no --grid is given); completed cells are always skipped")
    sweep.add_argument("--dry-run", action="store_true", help="validate and print the cells, run nothing")
    sweep.add_argument("--results-root", default=None, help="the results folder (default: results/)")
    sweep.add_argument("--cell-command", default=None, help="run this command template per cell instead of the "
                       "study runner ({python} {study} {profile} {cell_id} {output_dir} {params_json})")
    agg = sub.add_parser("aggregate", help="join a sweep's per-cell tables into one long table each")
    agg.add_argument("study")
    agg.add_argument("--profile", default="smoke")
    agg.add_argument("--sweep", required=True, help="the sweep id (a folder of results/STUDY/PROFILE/_sweeps)")
    agg.add_argument("--results-root", default=None)


def _sweep_command(args) -> int:
    from . import sweep as sw

    try:
        if args.command == "aggregate":
            tables = sw.aggregate(args.study, args.profile, args.sweep, results_root=args.results_root)
            folder = sw.sweep_dir(args.study, args.profile, args.sweep, args.results_root) / "aggregate"
            for name, df in tables.items():
                print(f"{name}: {len(df)} rows -> {folder / (name + '.csv')}")
            return 0
        spec = sw.load_sweep_file(args.sweep_file) if args.sweep_file else {"grid": {}, "parameters": {}, "slurm": {}}
        grid = {**spec["grid"], **sw.parse_grid(args.grid)}
        fixed = {**spec["parameters"],
                 **{k: sw.coerce_value(args.study, k, sw.parse_value(v)) for k, v in args.parameter}}
        timeout = sw.DEFAULT_TIMEOUT if args.timeout is None else args.timeout
        record = sw.run_sweep(args.study, args.profile, grid, fixed=fixed, sweep=args.sweep_id,
                              results_root=args.results_root, engine=args.engine, workers=args.workers,
                              threads_per_worker=args.threads_per_worker, gpus_per_task=args.gpus_per_task,
                              slurm=spec["slurm"], timeout=timeout, retries=args.retries, resume=args.resume,
                              dry_run=args.dry_run, command=args.cell_command)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 1 if any(c["status"] == "failed" for c in record["cells"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
