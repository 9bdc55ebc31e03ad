"""Run tags that the runner, the nightly sensor and the CLI agree on."""

# Dagster's documented run tags for a run over a range of partitions (one run, one dbt invocation).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Runs started by the `retention` command build for themselves; the nightly sensor leaves them alone.
CLI_TAG = "retention/cli"
# Set by whoever launches a rebuild (the nightly sensor, the CLI) to say why these quarters.
REBUILD_REASON_TAG = "retention/rebuild_reason"


def rebuild_tags(first: str, last: str, reason: str) -> dict[str, str]:
    return {RANGE_START_TAG: first, RANGE_END_TAG: last, REBUILD_REASON_TAG: reason}
