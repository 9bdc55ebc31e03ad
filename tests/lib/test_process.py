"""No collections while the definitions load, the survivors frozen afterwards, and an exit that keeps output."""

import gc
import subprocess
import sys

from pipeline.lib.process import loading_without_gc


def test_no_collection_while_loading_and_what_was_loaded_is_frozen():
    collections = []
    gc.callbacks.append(lambda phase, info: collections.append(phase))
    frozen_before = gc.get_freeze_count()
    try:
        with loading_without_gc():
            assert not gc.isenabled()
            loaded = [[n] for n in range(50_000)]  # far past gen-0's threshold of 700 new container objects
        assert gc.isenabled()
        assert not collections
        assert gc.get_freeze_count() >= frozen_before + len(loaded)
    finally:
        gc.callbacks.pop()
        gc.unfreeze()


def test_a_disabled_collector_stays_disabled():
    gc.disable()
    try:
        with loading_without_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.unfreeze()


def test_exit_now_keeps_the_exit_code_and_everything_printed():
    code = (
        "import logging, sys\n"
        "from pipeline.lib.process import exit_now\n"
        "logging.basicConfig(stream=sys.stderr)\n"
        "print('to stdout', end='')\n"
        "logging.getLogger('probe').warning('to stderr')\n"
        "exit_now(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == "to stdout"
    assert "to stderr" in done.stderr
