"""`retention bench [--sizes S,M,L] [--out DIR] [--keep]` (also `python -m bench`).

Each size runs in its own directory under a temporary work directory that is deleted afterwards unless
--keep (the landing data and warehouse at L are several GB). Results go to <out>/bench.json, the terminal,
and the results table in docs/performance.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from bench import report
from bench.harness import REPO, StepFailed, run_size
from bench.sizes import PUBLIC, SIZES, parse_sizes

DOC = REPO / "docs" / "performance.md"


def add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    sizes = ", ".join(f"{s}={SIZES[s]:,}" for s in PUBLIC)
    p.add_argument("--sizes", default="S,M,L", help=f"comma-separated sizes ({sizes} customers); default S,M,L")
    p.add_argument("--out", default="bench-results", help="directory for bench.json (default: bench-results)")
    p.add_argument("--keep", action="store_true", help="keep the work directories (landing data, warehouses, logs)")
    p.add_argument("--work-dir", help=argparse.SUPPRESS)  # where the size directories go (default: a temp dir)
    p.add_argument("--no-docs", action="store_true", help="do not update docs/performance.md")
    return p


def _progress(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    root = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="retention-bench-"))
    results = []
    try:
        for size in sizes:
            print(f"Benchmarking {size} ({SIZES[size]:,} customers) in {root / size}", file=sys.stderr, flush=True)
            results.append(run_size(size, root / size, _progress))
            report.write_json(results, out / "bench.json")  # after every size, so a long run leaves partial results
    except StepFailed as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if results:
            print(report.markdown_table(results))
            if not args.no_docs and report.update_docs(results, DOC):
                print(f"Updated {DOC.relative_to(REPO)}", file=sys.stderr)
        if args.keep:
            print(f"Work directories kept under {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)
    mismatched = [r.size for r in results if not r.reference_matches]
    if mismatched:
        print(f"bench: the reference disagrees with the pipeline at {', '.join(mismatched)}: see bench.json", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = add_arguments(argparse.ArgumentParser(prog="python -m bench", description=__doc__))
    return run(parser.parse_args(argv))
