"""Where the pipeline's time goes, from its own log: seconds from one Dagster step's log line to the next.

Dagster prints `<timestamp> - dagster - INFO - <job> - <run> - <step> - <message>`; attributing each gap
to the step of the later line gives a coarse (1 s) profile without instrumenting the pipeline. The time
before the first line is process start-up (imports, definitions) plus the ingest of the first entity,
whose first line is only printed when that entity is loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

_LINE = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}) - dagster - \w+ - [^ ]+ - [0-9a-f-]+ - ([^ ]+) - ")


def step_seconds(log: Path, started: dt.datetime, wall_s: float) -> dict[str, float]:
    """Seconds per step (plus `until_first_log_line` and `finish` after the last), in log order."""
    spans: dict[str, float] = {}
    previous = started
    for line in log.read_text(errors="replace").splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        stamp = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S %z")
        step = match.group(2) if spans else "until_first_log_line"
        spans[step] = spans.get(step, 0.0) + max((stamp - previous).total_seconds(), 0.0)
        previous = stamp
    spans["finish"] = max((started + dt.timedelta(seconds=wall_s) - previous).total_seconds(), 0.0)
    return {k: round(v, 1) for k, v in spans.items()}
