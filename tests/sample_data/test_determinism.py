"""Same inputs give byte-identical files; another seed gives other data; only entity folders are touched."""

from __future__ import annotations

from pathlib import Path

from pipeline.ingest.contract import ENTITIES
from pipeline.sample_data import generate
from tests.sample_data.small import SMALL


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_identical_bytes(landing, tmp_path):
    out, summary = landing
    generate(tmp_path, **SMALL, density=summary.density)
    assert _files(tmp_path) == _files(out)


def test_different_seed_gives_different_data(landing, tmp_path):
    out, summary = landing
    generate(tmp_path, **{**SMALL, "seed": SMALL["seed"] + 1}, density=summary.density)
    first, second = _files(out), _files(tmp_path)
    for folder in ("invoices", "orders", "customers"):
        assert {k: v for k, v in first.items() if k.startswith(folder)} != {
            k: v for k, v in second.items() if k.startswith(folder)
        }


def test_only_entity_folders_are_touched(tmp_path):
    stray = tmp_path / "README.txt"
    stray.write_text("keep me")
    other_dir = tmp_path / "archive"
    other_dir.mkdir()
    (other_dir / "old.csv").write_text("a,b\n")
    stale = tmp_path / "invoices" / "invoices_1999-01-01.csv"
    stale.parent.mkdir()
    stale.write_text("stale")
    generate(tmp_path, **SMALL)
    assert stray.read_text() == "keep me"
    assert (other_dir / "old.csv").read_text() == "a,b\n"
    assert not stale.exists()
    assert {p.name for p in tmp_path.iterdir()} == {"README.txt", "archive"} | {e.folder for e in ENTITIES}


def test_summary_matches_files_on_disk(landing):
    out, summary = landing
    for entity in ENTITIES:
        files = [p for p in (out / entity.folder).iterdir() if p.is_file()]
        assert summary.files[entity.folder] == len(files) > 0
    assert summary.rows["customers"] == SMALL["customers"]
    assert summary.customers == SMALL["customers"] and summary.seed == SMALL["seed"]
