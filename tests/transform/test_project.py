"""The dbt manifest is re-parsed exactly when a project file changed."""

import shutil

from pipeline.settings import Settings
from pipeline.transform.project import SOURCE_DIGEST, load_dbt_project, source_digest


def test_manifest_is_reparsed_only_when_a_project_file_changes(tmp_path):
    project_dir = tmp_path / "dbt_project"
    shutil.copytree(Settings.from_env().dbt_project_dir, project_dir, ignore=shutil.ignore_patterns("target", "logs"))
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
