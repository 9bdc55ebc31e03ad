"""GraphQL helpers for the `dagster dev` test: the lineage chain to assert and the backfill to launch."""

from collections.abc import Callable

# raw table -> staging -> intermediate -> mart -> value -> serving file -> export
CHAIN = [
    "billing/invoices",
    "staging/stg_billing__invoices",
    "intermediate/int_invoice_lines_converted",
    "intermediate/int_customer_mrr_intervals",
    "marts/customer_value",
    "marts/at_risk_customers",
    "serving/marts",
    "exports/outreach",
]
PERIOD_CHAIN = ["intermediate/int_customer_mrr_intervals", "marts/customer_periods", "marts/retention_by_segment",
                "marts/retention", "serving/marts"]
BACKFILL_QUARTERS = [f"{year}-{month:02d}-01" for year in (2024, 2025) for month in (1, 4, 7, 10)]
# every asset that holds quarters, as the UI offers them for a partition backfill
PARTITIONED = ["intermediate/int_customer_revenue_recognised", "intermediate/int_cohort_baselines",
               "marts/customer_periods", "marts/retention", "marts/revenue_churn", "marts/cohort_retention",
               "marts/retention_by_segment", "marts/revenue_churn_by_segment"]

Query = Callable[[str, dict | None], dict]


def assets_by_key(data: dict) -> dict[str, dict]:
    nodes = {}
    for node in data["assetNodes"]:
        checks = node["assetChecksOrError"].get("checks", []) if node["assetChecksOrError"] else []
        columns = next((e["schema"]["columns"] for e in node["metadataEntries"] if e.get("schema")), [])
        nodes["/".join(node["assetKey"]["path"])] = {
            "deps": {"/".join(d["path"]) for d in node["dependencyKeys"]},
            "group": node["groupName"],
            "checks": {c["name"] for c in checks},
            "description": node["description"],
            "columns": columns,
            "partitioned": node.get("partitionDefinition") is not None,
        }
    return nodes


LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}
"""

STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) { __typename ... on PartitionBackfill { status } }
}
"""


def launch_backfill(query: Query) -> str:
    """Eight quarters of every partitioned asset, as the UI's backfill dialog sends it."""
    params = {
        "partitionNames": BACKFILL_QUARTERS,
        "assetSelection": [{"path": key.split("/")} for key in PARTITIONED],
        "title": "eight quarters",
    }
    result = query(LAUNCH, {"params": params})["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def backfill_status(query: Query, backfill_id: str) -> str:
    return query(STATUS, {"id": backfill_id})["partitionBackfillOrError"]["status"]
