"""Readers never break a run: four read-only connections on the serving file, querying in a loop, while a full
run and a backfill of four quarters write. Both runs succeed without a single step retry, and every read sees
one publication whole, never a mix of two."""

import threading
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


class Reader(threading.Thread):
    """Queries the serving file until stopped; `hold` keeps one connection open the whole time."""

    def __init__(self, path, hold: bool):
        super().__init__(daemon=True)
        self.path, self.hold = str(path), hold
        self.stop = threading.Event()
        self.seen: set[str] = set()
        self.mixed: list[tuple] = []
        self.errors: list[str] = []
        self.reads = 0

    def _read(self, con) -> None:
        con.execute("BEGIN TRANSACTION")
        run_id, from_marts, from_customers = con.execute(READ).fetchone()
        con.execute("COMMIT")
        self.seen.add(run_id)
        self.reads += 1
        if from_marts != from_customers:
            self.mixed.append((run_id, from_marts, from_customers))

    def run(self) -> None:
        con = duckdb.connect(self.path, read_only=True) if self.hold else None
        try:
            while not self.stop.is_set():
                try:
                    if self.hold:
                        self._read(con)
                    else:
                        with duckdb.connect(self.path, read_only=True) as fresh:
                            self._read(fresh)
                except duckdb.Error as error:
                    self.errors.append(str(error))
                time.sleep(0.05)
        finally:
            if con is not None:
                con.close()


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
    readers = [Reader(workspace.serving, hold=i % 2 == 0) for i in range(4)]
    for reader in readers:
        reader.start()
    try:
        full = workspace.run("run")
        backfill = workspace.run("run", "--from", "2024-Q1", "--to", "2024-Q4")
    finally:
        for reader in readers:
            reader.stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert full.returncode == 0, full.stderr[-3000:]
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    assert _step_retries(workspace, monkeypatch) == 0
    assert all(r.reads > 0 and not r.errors for r in readers), [r.errors[:2] for r in readers]
    assert [r.mixed for r in readers] == [[], [], [], []]
    assert len(set().union(*(r.seen for r in readers if not r.hold))) >= 2, "the reconnecting readers saw new runs"
    assert all(len(r.seen) == 1 for r in readers if r.hold), "a connection held open keeps its publication"
