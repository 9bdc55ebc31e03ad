"""Writes one entity's frame as daily or monthly files with DuckDB partitioned COPYs.

One COPY per file costs several milliseconds of planning, which dominated small runs (about 3,000 files);
a PARTITION_BY COPY writes hundreds of files in one statement. The frame is cut into about twenty contiguous
groups of files (so progress can be reported every ~5 %), each group is written partitioned by its file label
into a scratch folder, and the `label=.../data_0.ext` files are renamed to `<entity>_<label>.ext`.
The connection runs single-threaded, so the rows of every file keep the frame order and the output is
byte-identical between runs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

PROGRESS_STEPS = 20
_LABEL = "file_label__"


@dataclass(frozen=True)
class Output:
    """Where and how one entity is written."""

    folder: str
    frame: pd.DataFrame  # sorted by file_column
    file_column: str  # day number of the file each row belongs to
    monthly: bool  # file per month (YYYY-MM) instead of per day (YYYY-MM-DD)
    parquet: bool
    columns_sql: str  # SELECT list over the frame (named `batch`) producing the contract columns


def reset_folder(path: Path) -> None:
    """Remove and recreate one entity folder; nothing else in the landing folder is touched."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def connect() -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB; one thread keeps row order (and therefore file bytes) deterministic."""
    return duckdb.connect(config={"threads": 1, "preserve_insertion_order": True})


def write_output(
    con: duckdb.DuckDBPyConnection, out_dir: Path, output: Output, progress: Callable[[str], None] | None
) -> int:
    """Write every file of one entity; returns the number of files."""
    folder = out_dir / output.folder
    reset_folder(folder)
    keys = output.frame[output.file_column].to_numpy()
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, np.int64)
    groups = np.array_split(np.arange(len(starts)), min(PROGRESS_STEPS, max(1, len(starts))))
    written = 0
    for group in groups:
        if len(group) == 0:
            continue
        stop = starts[group[-1] + 1] if group[-1] + 1 < len(starts) else len(keys)
        written += _write_group(con, folder, output, output.frame.iloc[starts[group[0]] : stop])
        if progress:
            progress(f"{output.folder}: {written}/{len(starts)} files")
    return written


def _write_group(con: duckdb.DuckDBPyConnection, folder: Path, output: Output, batch: pd.DataFrame) -> int:
    """Write the files of one contiguous slice and move them to their final names."""
    scratch = folder / ".partitioned"
    options = "FORMAT parquet" if output.parquet else "HEADER, DELIMITER ','"
    label_format = "%Y-%m" if output.monthly else "%Y-%m-%d"
    label = f"strftime(DATE '1970-01-01' + {output.file_column}::INTEGER, '{label_format}') AS {_LABEL}"
    quoted = str(scratch).replace("'", "''")
    con.register("batch", batch)
    try:
        con.execute(
            f"COPY (SELECT {output.columns_sql}, {label} FROM batch) TO '{quoted}' "
            f"({options}, PARTITION_BY ({_LABEL}))"
        )
    finally:
        con.unregister("batch")
    return _move_partitions(scratch, folder, output.folder, "parquet" if output.parquet else "csv")


def _move_partitions(scratch: Path, folder: Path, entity: str, extension: str) -> int:
    """Rename `<scratch>/label=<L>/data_0.<ext>` to `<folder>/<entity>_<L>.<ext>` and drop the scratch folder."""
    count = 0
    for part in sorted(scratch.iterdir()):
        files = list(part.iterdir())
        if len(files) != 1:
            raise RuntimeError(f"expected one file in {part}, found {len(files)}")
        files[0].rename(folder / f"{entity}_{part.name.split('=', 1)[1]}.{extension}")
        count += 1
    shutil.rmtree(scratch)
    return count
