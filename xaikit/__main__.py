"""Command line: ``python -m xaikit run STUDY --profile smoke -p NAME VALUE ...``, ``python -m xaikit book``
and ``python -m xaikit figures`` (figures and tables from the model cache, never training)."""
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
    figures = sub.add_parser("figures", help="regenerate every study's figures and tables from cached models "
                             "(fails instead of training when a model is not cached)")
    figures.add_argument("--profile", default="default")
    figures.add_argument("--data-root", default=None)
    figures.add_argument("--study", action="append", default=None, metavar="STUDY",
                         help="only this study (repeatable; default: every study)")
    figures.add_argument("--output-root", default=None,
                         help="write <output-root>/<study>/ (default: results/<study>/<profile>/base)")
    sub.add_parser("list", help="list the study notebooks")
    args = parser.parse_args(argv)

    from .studies import _runner

    try:
        if args.command == "list":
            print("\n".join(_runner.studies()))
        elif args.command == "run":
            overrides = {k: _runner.parse_value(v) for k, v in args.parameter}
            out = _runner.run_study(args.study, args.profile, overrides, output_dir=args.output_dir, progress=True)
            print(f"executed notebook: {out}\nresults in: {out.parent}")
        elif args.command == "figures":
            done = _runner.regenerate_figures(args.profile, args.study, data_root=args.data_root,
                                              output_root=args.output_root)
            for study, nb in done.items():
                print(f"{study}: figures and tables in {nb.parent}")
        else:
            _runner.build_book(args.profile, args.data_root, execute=not args.no_execute)
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
