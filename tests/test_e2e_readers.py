"""Readers never break a run: four reader processes with read-only connections on the serving file, querying in a
loop while a full run and a backfill of four quarters write. Both runs succeed without a single step retry, and
every read sees one publication whole, never a mix of two."""

import multiprocessing
import time

import dagster as dg
import duckdb

LATE_INVOICE = (
    "invoice_id,line_id,customer_id,subscription_id,amount,currency,period_start,period_end,status,issued_at\n"
    "inv_reader_1,1,cus_reader_1,sub_reader_1,777.0,USD,2024-04-01,2024-05-01,paid,2024-04-01 09:00:00\n"
)
# In one read transaction: the publication, and monthly MRR from two marts that must agree (revenue_churn adds up
# customer_periods); a reader holding parts of two publications would see them disagree after the late invoice.
READ = """
SELECT (SELECT run_id FROM publication),
       (SELECT sum(mrr_end) FROM marts.revenue_churn WHERE grain = 'month'),
       (SELECT sum(mrr_end) FROM marts.customer_periods WHERE grain = 'month')
"""


def _read(con) -> tuple:
    con.execute("BEGIN TRANSACTION")
    row = con.execute(READ).fetchone()
    con.execute("COMMIT")
    return row


def read_until_stopped(path: str, hold: bool, stop, results) -> None:
    """One reader process (a notebook, a BI tool): queries the serving file until `stop` is set, then puts what it
    saw on `results`. `hold` keeps one connection open the whole time; otherwise every query connects again.

    Each reader is its own process, as users' tools are: within one process DuckDB shares one open database per
    path, so a connection held open would also serve that process's new connections the old publication.
    """
    seen, mixed, errors, reads = set(), [], [], 0
    held = duckdb.connect(path, read_only=True) if hold else None
    while not stop.is_set():
        try:
            if held is not None:
                run_id, from_marts, from_customers = _read(held)
            else:
                with duckdb.connect(path, read_only=True) as fresh:
                    run_id, from_marts, from_customers = _read(fresh)
            seen.add(run_id)
            reads += 1
            if from_marts != from_customers:
                mixed.append((run_id, from_marts, from_customers))
        except duckdb.Error as error:
            errors.append(str(error))
        time.sleep(0.05)
    if held is not None:
        held.close()
    results.put({"hold": hold, "seen": seen, "mixed": mixed, "errors": errors[:2], "reads": reads})


def _step_retries(workspace, monkeypatch) -> int:
    monkeypatch.setenv("DAGSTER_HOME", str(workspace.path / "dagster_home"))
    with dg.DagsterInstance.get() as instance:
        return sum(
            len(instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY).records)
            for run in instance.get_runs()
        )


def test_readers_never_break_a_run_nor_see_half_of_one(sample, tmp_path, monkeypatch):
    workspace = sample.workspace.clone(tmp_path / "readers")
    (workspace.landing / "invoices" / "invoices_reader_2024-04.csv").write_text(LATE_INVOICE)
    spawn = multiprocessing.get_context("spawn")
    stop, results = spawn.Event(), spawn.Queue()
    readers = [spawn.Process(target=read_until_stopped, args=(str(workspace.serving), i % 2 == 0, stop, results))
               for i in range(4)]
    for reader in readers:
        reader.start()
    try:
        full = workspace.run("run")
        backfill = workspace.run("run", "--from", "2024-Q1", "--to", "2024-Q4")
    finally:
        stop.set()
        seen = [results.get(timeout=120) for _ in readers]
        for reader in readers:
            reader.join(timeout=60)
    assert full.returncode == 0, full.stderr[-3000:]
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    assert _step_retries(workspace, monkeypatch) == 0
    assert all(r["reads"] > 0 and not r["errors"] for r in seen), seen
    assert [r["mixed"] for r in seen] == [[], [], [], []]
    reconnecting = set().union(*(r["seen"] for r in seen if not r["hold"]))
    assert len(reconnecting) >= 2, "the reconnecting readers saw new runs"
    assert all(len(r["seen"]) == 1 for r in seen if r["hold"]), "a connection held open keeps its publication"
