"""The notebook API (xner/api.py): its examples run as doctests (``--doctest-modules``); here what they do not
show."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

import xner
from xner import api
from xner.errors import XnerError


def test_package_top_level_lists_every_api_function() -> None:
    functions = sorted(
        name
        for name in api.__all__
        if inspect.isfunction(getattr(api, name)) and getattr(api, name).__module__ == "xner.api"
    )
    assert list(xner.API) == functions
    assert all(getattr(xner, name) is getattr(api, name) for name in xner.API)
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = xner.no_such_thing


def test_importing_the_core_does_not_load_the_api() -> None:
    code = "import sys, xner.types; print('xner.api' in sys.modules, 'sqlalchemy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_review_queue_follows_the_order_and_the_limit() -> None:
    store = api.demo_project()
    queue = api.review_queue(store, "demo-en-es", limit=5)
    assert len(queue) == 5
    assert len({entry.sentence_id for entry in queue}) == 5
    confidences = [entry.confidence for entry in queue]
    assert all(c is not None for c in confidences)
    assert confidences == sorted(confidences)  # least confident first
    assert len(api.review_queue(store, "demo-en-es", limit=500)) == api.review_state(store, "demo-en-es").queued


def test_export_takes_status_names(tmp_path) -> None:
    store = api.demo_project()
    report = api.export(store, "demo-en-es", tmp_path / "none.jsonl", fmt="jsonl", statuses=["accepted"])
    assert report.sentences == 0
    assert (tmp_path / "none.jsonl").read_text(encoding="utf-8") == ""


def test_unknown_corpus_is_an_xner_error() -> None:
    with pytest.raises(XnerError, match="nope"):
        api.review_state(api.scratch_project(), "nope")
