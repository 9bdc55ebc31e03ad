import datetime as dt

import pytest

from pipeline.lib.partitions import parse_period, quarter_start, quarterly_partitions


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2024-Q1", "2024-01-01"), ("2024-q4", "2024-10-01"), ("2024-05", "2024-04-01"), ("2024-09-30", "2024-07-01")],
)
def test_parse_period_gives_the_quarter_start(text, expected):
    assert parse_period(text) == dt.date.fromisoformat(expected)


@pytest.mark.parametrize("text", ["2024-Q5", "Q1-2024", "2024-13", "soon"])
def test_parse_period_rejects_nonsense_with_a_readable_message(text):
    with pytest.raises(ValueError, match="is not a period"):
        parse_period(text)


def test_quarterly_partitions_start_at_the_quarter_of_the_start_setting():
    partitions = quarterly_partitions(dt.date(2021, 2, 15))
    keys = partitions.get_partition_keys(current_time=dt.datetime(2022, 1, 15))
    assert keys == ["2021-01-01", "2021-04-01", "2021-07-01", "2021-10-01", "2022-01-01"]  # the last is in progress
    window = partitions.time_window_for_partition_key("2021-04-01")
    assert (window.start.date(), window.end.date()) == (dt.date(2021, 4, 1), dt.date(2021, 7, 1))


def test_quarter_start():
    assert quarter_start(dt.date(2023, 12, 31)) == dt.date(2023, 10, 1)
