"""Run tags and config that the runner, the nightly sensor and the CLI agree on."""

# Dagster's documented run tags for a run over a range of partitions (one run, one dbt invocation).
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Runs started by the `retention` command build for themselves; the nightly sensor leaves them alone.
CLI_TAG = "retention/cli"
# Set by whoever launches a rebuild (the nightly sensor, the CLI) to say why these quarters.
REBUILD_REASON_TAG = "retention/rebuild_reason"

# The step of pipeline/transform/assets.py, whose config takes full_refresh.
DBT_STEP = "dbt_models"


def rebuild_tags(first: str, last: str, reason: str) -> dict[str, str]:
    return {RANGE_START_TAG: first, RANGE_END_TAG: last, REBUILD_REASON_TAG: reason}


def full_refresh_config() -> dict:
    """Run config of a build that rebuilds every model from scratch."""
    return {"ops": {DBT_STEP: {"config": {"full_refresh": True}}}}
