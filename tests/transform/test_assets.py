"""The dbt models as assets: one step, quarterly partitions only on the models that hold quarters, groups by
layer and topic, and the run's window handed to dbt for exactly one invocation."""

import os

import dagster as dg
import pytest

from pipeline.definitions_builder import build_definitions
from pipeline.settings import load_settings
from pipeline.transform.assets import WINDOW_ENV, partition_window


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("assets")
    defs = build_definitions(load_settings(warehouse=tmp / "w.duckdb", landing_dir=tmp / "landing"))
    return defs.resolve_asset_graph()


def _node(graph, *path):
    return graph.get(dg.AssetKey(list(path)))


def test_only_the_models_that_hold_quarters_are_partitioned(graph):
    partitioned = {k.path[-1] for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert partitioned == {
        "int_customer_revenue_recognised", "int_cohort_baselines", "customer_periods", "retention",
        "retention_by_segment", "revenue_churn", "revenue_churn_by_segment", "cohort_retention",
    }
    assert _node(graph, "marts", "retention").partitions_def.get_partition_keys()[0] == "2021-01-01"


def test_every_dbt_model_is_one_step(graph):
    """All dbt models run in one step; the marts fitted in Python (models, survival, value) are their own steps."""
    dbt_keys = {k for k in graph.get_all_asset_keys() if k.path[0] in ("staging", "intermediate", "marts")}
    steps = {graph.get(k).assets_def.node_def.name for k in dbt_keys if graph.get(k).is_materializable}
    assert steps == {"dbt_models", "purchase_model", "marts__at_risk_customers", "marts__subscription_survival",
                     "marts__customer_lifetime_value"}


def test_groups_follow_layers_and_intermediate_topics(graph):
    assert _node(graph, "staging", "stg_billing__invoices").group_name == "staging"
    assert _node(graph, "intermediate", "int_customer_mrr_intervals").group_name == "intermediate_revenue"
    assert _node(graph, "intermediate", "int_activity_spans").group_name == "intermediate_activity"
    assert _node(graph, "marts", "retention").group_name == "marts"


class _Context:
    def __init__(self, window):
        self.has_partition_key_range = window is not None
        self.partition_time_window = window


def test_the_window_reaches_dbt_for_one_invocation_and_is_restored(monkeypatch):
    import datetime as dt

    monkeypatch.setenv(WINDOW_ENV[0], "before")
    monkeypatch.delenv(WINDOW_ENV[1], raising=False)
    window = dg.TimeWindow(dt.datetime(2024, 4, 1, tzinfo=dt.UTC), dt.datetime(2024, 10, 1, tzinfo=dt.UTC))
    with partition_window(_Context(window)):
        assert (os.environ[WINDOW_ENV[0]], os.environ[WINDOW_ENV[1]]) == ("2024-04-01", "2024-10-01")
    assert os.environ[WINDOW_ENV[0]] == "before" and WINDOW_ENV[1] not in os.environ
    with partition_window(_Context(None)):
        assert os.environ[WINDOW_ENV[0]] == "before"  # an unpartitioned run leaves it alone
