"""Command line: ``python -m vmsim replay SCENARIO.json`` and ``python -m vmsim quiz``.

Only argument parsing lives here; the work is in :mod:`vmsim.replay` and
:mod:`vmsim.quiz`.
"""

from __future__ import annotations

import argparse
import json
import sys

from .errors import VmsimError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vmsim", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rp = sub.add_parser("replay", help="replay a JSON scenario and print the result JSON")
    rp.add_argument("scenario", help="scenario file, or - for standard input")
    rp.add_argument("--check", action="store_true", help="verify every invariant after each operation")
    rp.add_argument("--indent", type=int, default=None, help="indent the JSON output")
    qp = sub.add_parser("quiz", help="print a random allocator puzzle")
    qp.add_argument("--seed", type=int, default=0, help="random seed (same seed, same puzzle)")
    qp.add_argument("--answers", "-c", action="store_true", help="also print the answers")
    qp.add_argument("--ops", type=int, default=4, help="how many operations the puzzle has")
    qp.add_argument("--arch", default="amd64", help="architecture preset (amd64, arm64)")
    args = parser.parse_args(argv)
    try:
        if args.command == "replay":
            from .replay import load_scenario, run_scenario

            result = run_scenario(load_scenario(args.scenario), debug=args.check)
            print(json.dumps(result, indent=args.indent))
        else:
            from .quiz import make_quiz

            print(make_quiz(args.seed, answers=args.answers, nops=args.ops, arch=args.arch))
    except VmsimError as e:
        print(f"vmsim: {e}", file=sys.stderr)
        for note in getattr(e, "__notes__", ()):
            print(f"vmsim: {note}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
