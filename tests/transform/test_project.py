"""The dbt manifest is re-parsed exactly when a project file or the vars changed."""

import shutil

from pipeline.settings import load_settings
from pipeline.transform.parse import start_parse
from pipeline.transform.project import SOURCE_DIGEST, load_dbt_project, source_digest


def test_manifest_is_reparsed_only_when_a_project_file_changes(tmp_path):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(load_settings().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    project = load_dbt_project(project_dir)
    manifest = project.manifest_path
    parsed_at = manifest.stat().st_mtime_ns
    assert (project.manifest_path.parent / SOURCE_DIGEST).read_text() == source_digest(project_dir)

    load_dbt_project(project_dir)
    assert manifest.stat().st_mtime_ns == parsed_at

    model = project_dir / "models" / "intermediate" / "int_as_of_day.sql"
    model.write_text(model.read_text() + "\n-- touched\n")
    load_dbt_project(project_dir)
    assert manifest.stat().st_mtime_ns > parsed_at
    assert (project.manifest_path.parent / SOURCE_DIGEST).read_text() == source_digest(project_dir)


def test_a_parse_started_early_is_used_only_for_its_own_vars_and_stopped_when_unused(tmp_path):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(load_settings().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
    digest = project_dir / "target" / SOURCE_DIGEST
    with start_parse(project_dir, ["--vars", '{"reporting_currency": "EUR"}']) as unused:
        assert unused.process is not None
    assert unused.process is None and not digest.exists()  # killed, nothing recorded

    other = ["--vars", '{"reporting_currency": "GBP"}']
    started = start_parse(project_dir, ["--vars", '{"reporting_currency": "EUR"}'])
    load_dbt_project(project_dir, other, started)
    assert digest.read_text() == " ".join([source_digest(project_dir), *other])
    assert start_parse(project_dir, other).process is None  # fresh now: nothing to parse
