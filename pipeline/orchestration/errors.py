"""The error a `retention` run reports to its user, importable without loading Dagster (the CLI catches it)."""


class PipelineFailed(RuntimeError):
    """A run failed; the message names the run and the failing steps."""
