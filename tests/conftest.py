"""Test-session plumbing: record every module s2sad generates (see tests/generated.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import s2sad.api
import s2sad.pipeline
import s2sad.emit
import s2sad.formatting
from generated import MODULES

# every module is formatted both ways (black on the whole text, and with stable lines held out): the same
s2sad.formatting.VERIFY = True

_LAST = "test_generated_modules.py::test_every_module_generated_in_this_session"


@pytest.fixture(autouse=True)
def _record_generated_modules(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    emit, user_rules = s2sad.emit.emit, s2sad.pipeline._user_rules
    user_modules: frozenset[str] = frozenset()

    def reading_user_rules(path: str) -> Any:  # every generation reads them before it emits
        nonlocal user_modules
        found = user_rules(path)
        user_modules = frozenset(name.split(".")[0] for name, _ in found if "." in name)
        return found

    def recording(*args: Any, **kwargs: Any) -> str:
        text: str = emit(*args, **kwargs)
        MODULES.setdefault(text, (request.node.nodeid, user_modules))
        return text

    monkeypatch.setattr(s2sad.pipeline, "_user_rules", reading_user_rules)
    monkeypatch.setattr(s2sad.emit, "emit", recording)
    # @s2sad.gradient's on-disk cache is off unless a test turns it on (tests/test_cache.py, with a cache
    # folder of its own): no test writes into the user's cache, and every test generates what it checks
    monkeypatch.setenv("S2SAD_CACHE", "0")
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The check of every generated module runs last, when the rest of the session has generated them."""
    items.sort(key=lambda item: item.nodeid.endswith(_LAST) or _LAST + "[" in item.nodeid)
