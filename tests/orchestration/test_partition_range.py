import datetime as dt

import pytest

from pipeline.ingest.tables import create_warehouse_tables
from pipeline.lib.partitions import quarterly_partitions
from pipeline.orchestration.runner import PipelineFailed, data_quarters, partition_range

D = dt.date


@pytest.fixture
def partitions():
    return quarterly_partitions(D(2021, 1, 1))


def _keys(rebuild):
    return rebuild.first, rebuild.last


def test_range_covers_the_quarters_with_data(partitions):
    planned = partition_range(partitions, (D(2023, 1, 1), D(2025, 10, 1)), None, None, D(2021, 1, 1))
    assert _keys(planned) == ("2023-01-01", "2025-10-01") and not planned.full_refresh


def test_explicit_range_wins_and_is_clipped_to_existing_partitions(partitions):
    assert _keys(partition_range(partitions, (D(2023, 1, 1), D(2025, 10, 1)), D(2024, 4, 1), D(2024, 7, 1))) == (
        "2024-04-01", "2024-07-01"
    )
    assert _keys(partition_range(partitions, None, D(2019, 1, 1), D(2021, 4, 1))) == ("2021-01-01", "2021-04-01")


def test_data_before_the_published_first_quarter_rebuilds_from_scratch():
    published_from_2023 = quarterly_partitions(D(2023, 1, 1))  # RETENTION_START 2021, marts published from 2023
    planned = partition_range(published_from_2023, (D(2022, 5, 1), D(2025, 10, 1)), None, None, D(2021, 1, 1))
    assert _keys(planned) == ("2023-01-01", "2025-10-01") and planned.full_refresh
    assert "all history from scratch" in planned.reason
    before_start = partition_range(published_from_2023, (D(2022, 5, 1), D(2025, 10, 1)), None, None, D(2023, 1, 1))
    assert not before_start.full_refresh  # rows before RETENTION_START never count


def test_inverted_range_is_refused(partitions):
    with pytest.raises(PipelineFailed, match="no quarter to build"):
        partition_range(partitions, None, D(2024, 7, 1), D(2024, 1, 1))


def test_no_data_builds_the_latest_quarter(partitions):
    last = partitions.get_partition_keys()[-1]
    assert _keys(partition_range(partitions, None, None, None)) == (last, last)


def test_data_quarters_from_invoices_and_orders():
    import duckdb

    con = duckdb.connect()
    create_warehouse_tables(con)
    assert data_quarters(con) is None
    con.execute("INSERT INTO billing.invoices (period_start, issued_at) VALUES ('2023-02-10', '2024-05-01 10:00')")
    con.execute("INSERT INTO shop.orders (ordered_at) VALUES ('2022-12-31 23:00'), ('2024-08-02 01:00')")
    assert data_quarters(con) == (D(2022, 10, 1), D(2024, 7, 1))
