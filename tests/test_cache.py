"""@s2sad.gradient's on-disk cache (s2sad/cache.py): a hit never runs the generator, anything else does.

Hits are observed by counting calls of the generator (``s2sad.api._generate``), never by timing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import sys
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

import s2sad
import s2sad.api
from s2sad import cache
from s2sad.diagnostics import S2sadError

MODULE = """\
import math
import s2sad

K = 2.0


@s2sad.gradient
def f(x, y):
    z = math.sin(x) * y + K * x
    return z * z
"""

_names = count()


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The cache on, in a user folder of its own; every call of the generator recorded."""
    monkeypatch.setenv("S2SAD_CACHE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache._secret.cache_clear()  # the secret of this test's user folder
    seen: list[str] = []
    generate = s2sad.api._generate

    def counting(source: str, path: str, name: str, **kwargs: Any) -> Any:
        seen.append(name)
        return generate(source, path, name, **kwargs)

    monkeypatch.setattr(s2sad.api, "_generate", counting)
    yield seen
    cache._secret.cache_clear()
    cache._toolchain.cache_clear()


def _import(path: Path) -> Any:
    """Run the module at ``path`` as a fresh import (a new module object each time)."""
    spec = importlib.util.spec_from_file_location(f"cached_module_{next(_names)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _project(tmp_path: Path, text: str = MODULE) -> Path:
    (tmp_path / "proj").mkdir(exist_ok=True)
    path = tmp_path / "proj" / "mod.py"
    path.write_text(text)
    return path


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "proj" / "__pycache__").glob("mod.f.s2sad-*.json"))


def _expected(x: float, y: float) -> tuple[float, float]:
    import math

    z = math.sin(x) * y + 2.0 * x
    return 2 * z * (math.cos(x) * y + 2.0), 2 * z * math.sin(x)


def test_second_import_hits_the_cache(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    first = _import(path)
    assert calls == ["f"] and len(_entries(tmp_path)) == 1
    second = _import(path)
    assert calls == ["f"], "the second import generated again"
    assert second.f.grad_source == first.f.grad_source
    assert second.f.grad(0.5, 2.0) == pytest.approx(_expected(0.5, 2.0))
    assert second.f.grad.__s2sad_wrt__ == ["x", "y"]


def test_changed_source_misses(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    _import(path)
    path.write_text(MODULE.replace("K * x", "K * x * x"))
    changed = _import(path)
    assert calls == ["f", "f"]
    assert "x * x" in changed.f.grad_source
    assert len(_entries(tmp_path)) == 1  # the entry of this function is replaced, not added to


def test_options_are_part_of_the_key(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    _import(path)
    only_y = _import(_project(tmp_path, MODULE.replace("@s2sad.gradient", "@s2sad.gradient(wrt=('y',))")))
    assert calls == ["f", "f"]
    assert only_y.f.grad(0.5, 2.0) == pytest.approx(_expected(0.5, 2.0)[1])


def test_another_version_misses(tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = _project(tmp_path)
    _import(path)
    monkeypatch.setattr(s2sad, "__version__", "99.0.0")
    cache._toolchain.cache_clear()
    _import(path)
    assert calls == ["f", "f"]
    assert {p.name.split("-")[1] for p in _entries(tmp_path)} == {"0.1.0", "99.0.0"}


def test_a_changed_helper_file_misses(tmp_path: Path, calls: list[str]) -> None:
    path = _project(
        tmp_path, MODULE.replace("import math\n", "import math\nfrom lib import h\n").replace("K * x", "h(x)")
    )
    (tmp_path / "proj" / "lib.py").write_text("def h(x):\n    return 3.0 * x\n")
    sys.path.insert(0, str(tmp_path / "proj"))
    try:
        first = _import(path)
        (tmp_path / "proj" / "lib.py").write_text("def h(x):\n    return 4.25 * x\n")  # another size: no stale .pyc
        sys.modules.pop("lib", None)
        second = _import(path)
    finally:
        sys.path.remove(str(tmp_path / "proj"))
        sys.modules.pop("lib", None)
    assert calls == ["f", "f"]
    assert "3.0" in first.f.grad_source and "4.25" in second.f.grad_source


@pytest.mark.parametrize("garbage", [b"", b"{", b"\xff\xfe", b"[1, 2]", b'{"text": "x"}', b"\0" * 100])
def test_a_corrupt_entry_is_ignored_and_replaced(tmp_path: Path, calls: list[str], garbage: bytes) -> None:
    path = _project(tmp_path)
    _import(path)
    (entry,) = _entries(tmp_path)
    entry.write_bytes(garbage)
    again = _import(path)
    assert calls == ["f", "f"]
    assert again.f.grad(0.5, 2.0) == pytest.approx(_expected(0.5, 2.0))
    assert json.loads(entry.read_text())["text"] == again.f.grad_source  # rewritten whole


HOSTILE = """\
import pathlib
pathlib.Path({marker!r}).write_text("ran")


def grad_f(x, y):
    return 42.0, 42.0
"""


@pytest.mark.parametrize("forgery", ["same signature", "signed with another secret", "no signature"])
def test_a_hostile_entry_is_never_executed(tmp_path: Path, calls: list[str], forgery: str) -> None:
    """A repository commits an entry with the right name and key and other code: it is not run."""
    path = _project(tmp_path)
    _import(path)
    (entry,) = _entries(tmp_path)
    fields = json.loads(entry.read_text())
    marker = tmp_path / "MARKER"
    fields["text"] = HOSTILE.format(marker=str(marker))
    if forgery == "signed with another secret":
        fields.pop("signature")
        fields["signature"] = cache._signed(fields, b"\x01" * 32)
    elif forgery == "no signature":
        fields.pop("signature")
    entry.write_text(json.dumps(fields))
    again = _import(path)
    assert calls == ["f", "f"]
    assert not marker.exists()
    assert again.f.grad(0.5, 2.0) == pytest.approx(_expected(0.5, 2.0))


def test_the_checks_of_live_functions_run_on_a_hit(tmp_path: Path, calls: list[str]) -> None:
    """The key is computed from the file: a function that is not the file's code is refused even when the
    file's entry is in the cache."""
    path = _project(tmp_path)
    _import(path)
    namespace: dict[str, Any] = {}
    other = MODULE.replace("@s2sad.gradient\n", "").replace("K * x", "K * y")
    exec(compile(other, str(path), "exec"), namespace)
    with pytest.raises(S2sadError) as raised:
        s2sad.gradient(namespace["f"])
    assert raised.value.diagnostics[0].code == "stale-source"
    assert calls == ["f"]


def test_a_stale_constant_is_refused_on_a_hit(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    module = _import(path)
    module.K = 5.0
    undecorated = module.f
    with pytest.raises(S2sadError) as raised:
        s2sad.gradient(undecorated)
    assert raised.value.diagnostics[0].code == "stale-constant"


def _only_expected_files(tmp_path: Path) -> None:
    for root, _, files in os.walk(tmp_path):
        for name in files:
            where = Path(root, name).relative_to(tmp_path)
            allowed = (
                where.parts[:2] == ("proj", "__pycache__")
                or where.parts[:2] == ("xdg", "s2sad")
                or where.parts[0] == "elsewhere"
                or (where.parts[0] == "proj" and len(where.parts) == 2 and name.endswith(".py"))
            )
            assert allowed, f"cache file outside the expected places: {where}"


def test_a_symlinked_pycache_is_not_followed(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "proj" / "__pycache__").symlink_to(tmp_path / "elsewhere")
    _import(path)
    _import(path)
    assert calls == ["f"]
    assert list((tmp_path / "elsewhere").glob("*.json")) == []  # (Python's own bytecode does go there)
    assert len(list((tmp_path / "xdg" / "s2sad" / "entries").iterdir())) == 1
    _only_expected_files(tmp_path)


def test_an_unwritable_folder_falls_back_to_the_user_folder(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    (tmp_path / "proj" / "__pycache__").write_text("not a folder")  # unwritable even for root
    _import(path)
    _import(path)
    assert calls == ["f"]
    assert len(list((tmp_path / "xdg" / "s2sad" / "entries").iterdir())) == 1
    _only_expected_files(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes read-only folders")
def test_a_read_only_folder_falls_back_to_the_user_folder(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    (tmp_path / "proj").chmod(0o555)
    try:
        _import(path)
        _import(path)
    finally:
        (tmp_path / "proj").chmod(0o755)
    assert calls == ["f"]
    assert not (tmp_path / "proj" / "__pycache__").exists()
    _only_expected_files(tmp_path)


def test_no_file_outside_the_expected_places(tmp_path: Path, calls: list[str]) -> None:
    path = _project(tmp_path)
    _import(path)
    _import(path)
    _only_expected_files(tmp_path)
    secret = tmp_path / "xdg" / "s2sad" / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700
    assert not [p for p in (tmp_path / "proj" / "__pycache__").iterdir() if p.name.endswith(".tmp")]


def test_without_bytecode_the_user_folder_is_used(
    tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    path = _project(tmp_path)
    _import(path)
    _import(path)
    assert calls == ["f"]
    assert not (tmp_path / "proj" / "__pycache__").exists()
    _only_expected_files(tmp_path)


@pytest.mark.parametrize("off", ["environment", "option"])
def test_the_cache_can_be_turned_off(
    tmp_path: Path, calls: list[str], monkeypatch: pytest.MonkeyPatch, off: str
) -> None:
    text = MODULE
    if off == "environment":
        monkeypatch.setenv("S2SAD_CACHE", "0")
    else:
        text = MODULE.replace("@s2sad.gradient", "@s2sad.gradient(cache=False)")
    path = _project(tmp_path, text)
    _import(path)
    _import(path)
    assert calls == ["f", "f"]
    assert not _entries(tmp_path) and not (tmp_path / "xdg" / "s2sad" / "entries").exists()


def test_a_shared_secret_folder_disables_the_cache(tmp_path: Path, calls: list[str]) -> None:
    (tmp_path / "xdg" / "s2sad").mkdir(parents=True)
    (tmp_path / "xdg" / "s2sad").chmod(0o777)  # others could write the secret: never trusted
    path = _project(tmp_path)
    _import(path)
    _import(path)
    assert calls == ["f", "f"]
    assert not _entries(tmp_path)
