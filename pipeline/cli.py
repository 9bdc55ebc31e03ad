"""`retention sample-data | run | nightly | demo | report | docs | bench`: the command line, a thin shell.

Nothing slow is imported at module level, so `retention report` or a bad setting answers at once. Settings are
read (and checked) before anything else runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from pipeline.lib.process import exit_now, loading_without_gc
from pipeline.lib.run_guard import add_run_guard_arguments, guarded
from pipeline.orchestration.errors import PipelineFailed
from pipeline.settings import Settings, SettingsError, load_settings

UI_HINT = "Open the Dagster UI: ./dev ui   (then http://127.0.0.1:3000; runs of `retention run` show there)"


def _progress(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


def cmd_sample_data(args: argparse.Namespace, settings: Settings) -> int:
    from pipeline.sample_data import generate

    out = Path(args.out) if args.out else settings.landing_dir
    density = getattr(args, "density", "standard")
    print(
        f"Generating sample data for {args.customers:,} customers (seed {args.seed}, {density} density) into {out}",
        file=sys.stderr,
    )
    summary = generate(out, customers=args.customers, seed=args.seed, progress=_progress, density=density)
    for entity, rows in summary.rows.items():
        print(f"  {entity}: {rows:,} rows in {summary.files[entity]:,} files")
    return 0


@guarded  # preflight, one run at a time, --retry-rejected (pipeline/lib/run_guard.py)
def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    with loading_without_gc():
        import dagster as dg

        from pipeline.definitions_builder import build_definitions
        from pipeline.lib.partitions import parse_period
        from pipeline.orchestration.runner import run_nightly, run_pipeline
        from pipeline.reporting.summary import summary_lines

        period_from = parse_period(args.period_from) if args.period_from else None
        period_to = parse_period(args.period_to) if args.period_to else None
        defs = build_definitions(settings)
        home = settings.dagster_home
        instance = dg.DagsterInstance.from_config(str(home)) if home else dg.DagsterInstance.ephemeral()
    with instance:
        if getattr(args, "nightly", False):
            runs = run_nightly(defs, instance, settings.start)
        else:
            runs = run_pipeline(
                defs, instance, settings.warehouse, settings.start, period_from, period_to, args.full_refresh
            )
    print()
    if len(runs) == 1:
        print("Ingest loaded nothing new: no quarter rebuilt.")
    for run in runs:
        scope = f" quarters {run.partition_range[0]} .. {run.partition_range[1]}" if run.partition_range else ""
        print(f"Run {run.run_id} ({run.job}{scope}): success")
    if settings.serving_file.exists():
        with duckdb.connect(str(settings.serving_file), read_only=True) as con:
            for line in summary_lines(con):
                print(line)
    print(f"Warehouse: {settings.warehouse}   (the run's own file; read the serving file below)")
    print(f"Serving file: {settings.serving_file}   (what the report, the export, notebooks and BI tools read)")
    if settings.report_path.exists():
        print(f"Report: {settings.report_path}   (one HTML file; opens offline in any browser)")
    print(UI_HINT if home else "Runs were not recorded: set DAGSTER_HOME to keep them. " + UI_HINT)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    args.out = None
    cmd_sample_data(args, settings)
    args.period_from = args.period_to = None
    args.full_refresh = False
    return cmd_run(args, settings)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    """The HTML report from the serving file as it is: read-only, no Dagster run, never in a run's way."""
    from pipeline.reporting.report import write_report

    if not settings.serving_file.exists():
        raise ValueError(f"no serving file at {settings.serving_file}: run `retention demo` or `retention run` first")
    out = Path(args.out) if args.out else settings.report_path
    with duckdb.connect(str(settings.serving_file), read_only=True) as con:
        written = write_report(con, out)
    missing = written.report.data.missing
    if missing:
        print(f"Not built yet, left out of the report: {', '.join(missing)}", file=sys.stderr)
    print(f"Report: {written.path} ({written.size_bytes / 1024:,.0f} KiB, {written.seconds:.1f} s)")
    return 0


def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    """The dbt documentation site of the published marts, from the serving file."""
    from pipeline.transform.docs import generate_docs

    out = Path(args.out) if args.out else settings.serving_file.parent / "dbt-docs"
    site = generate_docs(settings, out)
    print(f"dbt docs: {site}   (one HTML file with the catalog of the published marts; opens offline)")
    return 0


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    """Delegates to the bench package; the settings are unused: bench sets its own paths per size."""
    from bench.cli import run

    return run(args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="retention", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sample = sub.add_parser("sample-data", help="write a realistic landing folder")
    sample.add_argument("--customers", type=int, default=2000)
    sample.add_argument("--seed", type=int, default=42)
    sample.add_argument("--out", help="landing folder to write (default: RETENTION_LANDING_DIR)")
    sample.add_argument(
        "--density",
        choices=("standard", "dense"),
        default="standard",
        help="business per customer: standard (default, ~6 invoice lines and 4 orders per customer) or dense "
        "(monthly billing, add-on lines, frequent shop buyers: benchmark volumes)",
    )
    sample.set_defaults(func=cmd_sample_data)
    run = sub.add_parser("run", help="ingest the landing folder and materialize every asset")
    run.add_argument("--from", dest="period_from", help="first quarter to build: 2024-Q1, 2024-02 or 2024-02-15")
    run.add_argument("--to", dest="period_to", help="last quarter to build (inclusive)")
    run.add_argument(
        "--full-refresh", action="store_true", help="rebuild every dbt model from scratch (after a change of models "
        "that dbt's state comparison cannot see, or to start over)"
    )
    add_run_guard_arguments(run, retry_rejected=True, allow_empty=True)
    run.set_defaults(func=cmd_run)
    nightly = sub.add_parser("nightly", help="ingest, then rebuild only the quarters the new files changed")
    add_run_guard_arguments(nightly)
    nightly.set_defaults(func=cmd_run, nightly=True, period_from=None, period_to=None, full_refresh=False)
    demo = sub.add_parser("demo", help="sample-data into the landing folder, then run")
    demo.add_argument("--customers", type=int, default=2000)
    demo.add_argument("--seed", type=int, default=42)
    add_run_guard_arguments(demo)
    demo.set_defaults(func=cmd_demo)
    report = sub.add_parser("report", help="write the HTML retention report from the warehouse")
    report.add_argument("--out", help="HTML file to write (default: RETENTION_REPORT_PATH)")
    report.set_defaults(func=cmd_report)
    docs = sub.add_parser("docs", help="write the dbt documentation site of the published marts (offline HTML)")
    docs.add_argument("--out", help="folder to write (default: dbt-docs beside RETENTION_SERVING_FILE)")
    docs.set_defaults(func=cmd_docs)
    from bench.cli import add_arguments

    bench = add_arguments(sub.add_parser("bench", help="time the pipeline, a nightly run and a raw-DuckDB reference"))
    bench.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        return args.func(args, settings)
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"retention: {line}", file=sys.stderr)
        return 2
    except (ValueError, PipelineFailed, duckdb.Error) as exc:
        print(f"retention: {exc}", file=sys.stderr)
        return 1


def entry_point() -> None:
    """`retention` and `python -m pipeline`: main() in a process of its own, which ends without teardown."""
    exit_now(main())


if __name__ == "__main__":
    entry_point()
