"""Command line: ``python -m vmsim replay SCENARIO.json`` and ``python -m vmsim quiz``.

Every error a user can cause ends as one line on stderr and exit status 2; an
unexpected exception (a bug) as one line and status 3, never a traceback.

Only argument parsing lives here; the work is in :mod:`vmsim.replay` and
:mod:`vmsim.quiz`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import VmsimError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m vmsim",
        description="vmsim, a model of FreeBSD's physical page allocator (sys/vm/vm_phys.c) with lazy "
                    "vm_page initialization: replay a JSON scenario, or print an allocator quiz.")
    sub = parser.add_subparsers(dest="command", required=True)
    rp = sub.add_parser("replay", help="replay a JSON scenario and print the result JSON")
    rp.add_argument("scenario", help="scenario file, or - for standard input")
    rp.add_argument("--check", action="store_true", help="verify every invariant after each operation")
    rp.add_argument("--indent", type=int, default=None,
                    help="indent the JSON output by this many spaces (default: 2 on a terminal, "
                         "one line when the output goes to a file or a pipe)")
    qp = sub.add_parser("quiz", help="print a sheet of allocator puzzles and, on demand, its answer key")
    qp.add_argument("--seed", type=int, default=0, help="random seed (same seed, same sheet)")
    qp.add_argument("--count", type=int, default=1, help="how many problems the sheet has (default 1)")
    qp.add_argument("--kind", default=None, help="mix (default), boot, alloc, free, thread or contig")
    qp.add_argument("--difficulty", default="medium", help="easy, medium (default) or hard")
    qp.add_argument("--ops", type=int, default=None, help="operations per problem (default: by difficulty)")
    qp.add_argument("--arch", default="amd64", help="architecture preset (amd64, arm64)")
    qp.add_argument("--format", dest="fmt", metavar="FORMAT", default="text", help="text (default), markdown or json")
    qp.add_argument("--answers", "-c", action="store_true", help="print the answer key after the sheet")
    qp.add_argument("--answers-only", action="store_true", help="print only the answer key")
    args = parser.parse_args(argv)
    try:
        if args.command == "replay":
            from .replay import load_scenario, run_scenario

            result = run_scenario(load_scenario(args.scenario), debug=args.check)
            indent = args.indent if args.indent is not None else (2 if sys.stdout.isatty() else None)
            print(json.dumps(result, indent=indent))
        else:
            from .quiz import make_sheet

            print(make_sheet(args.seed, count=args.count, kind=args.kind, difficulty=args.difficulty, nops=args.ops,
                             arch=args.arch, answers=args.answers, answers_only=args.answers_only, fmt=args.fmt))
    except VmsimError as e:
        notes = "".join(f" ({note})" for note in getattr(e, "__notes__", ()))
        print(f"vmsim: {e}{notes}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader closed the pipe (``| head``): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (RecursionError, MemoryError) as e:
        print(f"vmsim: the input is too large or too deeply nested ({type(e).__name__})", file=sys.stderr)
        return 2
    except Exception as e:  # a bug in vmsim: one line, never a traceback, and a distinct status
        print(f"vmsim: internal error, please report it: {type(e).__name__}: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
