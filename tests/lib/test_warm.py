"""Background imports load what they can and leave failures to the import that needs the module."""

import gc
import importlib.util
import sys

from pipeline.lib.warm import import_in_background


def test_modules_are_imported_and_a_missing_one_does_not_raise(tmp_path, monkeypatch):
    (tmp_path / "warm_probe_module.py").write_text("VALUE = 7\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe_module", raising=False)
    thread = import_in_background("no_such_module_here", "warm_probe_module")
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sys.modules["warm_probe_module"].VALUE == 7
    assert "no_such_module_here" not in sys.modules


def test_what_the_background_imports_loaded_is_frozen(tmp_path, monkeypatch):
    (tmp_path / "warm_probe_large.py").write_text("TABLE = [[n] for n in range(20_000)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe_large", raising=False)
    gc.unfreeze()
    try:
        import_in_background("warm_probe_large").join(timeout=30)
        assert gc.get_freeze_count() >= 20_000
    finally:
        gc.unfreeze()


def test_the_modules_named_for_background_import_exist():
    from pipeline.orchestration.runner import AFTER_DBT_MODULES
    from pipeline.quality.gx_run import GX_MODULES

    for name in (*AFTER_DBT_MODULES, *GX_MODULES):
        assert importlib.util.find_spec(name) is not None, name
