"""Projects: the ``[tool.s2sad.targets]`` table of ``pyproject.toml``, regenerated or checked as a whole.

::

    [tool.s2sad.targets]
    "src/model.py::loss" = "src/model_grad.py"
    "src/model.py::energy" = { output = "src/energy_grad.py", wrt = ["x", "y"] }

Paths are relative to the folder of ``pyproject.toml`` and appear in the generated headers as written, so the
output does not depend on the directory s2sad runs from. Every target is generated in memory first; nothing
is written unless every target succeeded, and then each output is replaced atomically.
"""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import config
from .api import generate
from .diagnostics import Diagnostic, S2sadError
from .source import read_source

__all__ = ["Target", "Result", "find_config", "load_targets", "run", "split_target", "write_atomically", "diff"]


@dataclass(frozen=True, slots=True)
class Target:
    source: str  #: the source file, relative to the project root
    name: str  #: the function
    output: str  #: the generated module, relative to the project root
    wrt: tuple[str, ...] | None = None

    @property
    def label(self) -> str:
        return f"{self.source}::{self.name}"


@dataclass(frozen=True, slots=True)
class Result:
    target: Target
    generated: str | None  #: None when the target failed
    committed: str | None  #: the output file's current text; None when it is missing
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def fresh(self) -> bool:
        return self.generated is not None and self.generated == self.committed


def split_target(target: str) -> tuple[str, str]:
    """``path/to/file.py::name`` -> (path, name)."""
    path, sep, name = target.rpartition("::")
    if not sep or not path or not name.isidentifier():
        raise S2sadError(
            [
                Diagnostic(
                    target, None, "the target must be PATH::NAME", "bad-target", "for example: examples/domke.py::f"
                )
            ]
        )
    return path, name


def find_config(start: Path) -> Path:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.s2sad]`` table."""
    found = config.nearest(start)
    if found is None:
        raise S2sadError(
            [
                Diagnostic(
                    str(start / "pyproject.toml"),
                    None,
                    "no pyproject.toml with a [tool.s2sad] table here or in a parent folder",
                    "no-config",
                    'add [tool.s2sad.targets] with entries like "src/model.py::loss" = "src/model_grad.py"',
                )
            ]
        )
    return found


def load_targets(path: Path) -> list[Target]:
    """The targets of ``[tool.s2sad.targets]``, sorted by label; malformed entries are diagnostics."""
    config_path = path
    table = config.section(config.load(path)).get("targets", {})
    found: list[Diagnostic] = []
    targets: list[Target] = []
    if not isinstance(table, dict):
        table = {}
        found.append(Diagnostic(str(config_path), None, "[tool.s2sad.targets] must be a table", "bad-config"))
    for label, value in table.items():
        try:
            source, name = split_target(label)
        except S2sadError as err:
            found.append(
                Diagnostic(str(config_path), None, f"target '{label}': {err.diagnostics[0].message}", "bad-config")
            )
            continue
        if isinstance(value, str):
            targets.append(Target(source, name, value))
        elif isinstance(value, dict) and isinstance(value.get("output"), str) and set(value) <= {"output", "wrt"}:
            wrt = value.get("wrt")
            if wrt is not None and not (isinstance(wrt, list) and all(isinstance(w, str) for w in wrt)):
                found.append(
                    Diagnostic(str(config_path), None, f"target '{label}': wrt must be a list of names", "bad-config")
                )
                continue
            targets.append(Target(source, name, value["output"], tuple(wrt) if wrt is not None else None))
        else:
            found.append(
                Diagnostic(
                    str(config_path),
                    None,
                    f"target '{label}': expected an output path or {{ output = ..., wrt = [...] }}",
                    "bad-config",
                )
            )
    if found:
        raise S2sadError(found)
    return sorted(targets, key=lambda t: t.label)


def run(root: Path, targets: list[Target]) -> list[Result]:
    """Generate every target in memory and read what is committed; write nothing."""
    results: list[Result] = []
    for t in targets:
        committed = _read(root / t.output)
        try:
            source = read_source(str(root / t.source))
            text = generate(source, t.source, t.name, wrt=t.wrt, output=t.output)
        except S2sadError as err:
            diagnostics = tuple(_relative(d, root, t.source) for d in err.diagnostics)
            results.append(Result(t, None, committed, diagnostics))
            continue
        results.append(Result(t, text, committed))
    return results


def _relative(d: Diagnostic, root: Path, source: str) -> Diagnostic:
    """Diagnostics name files as the configuration does."""
    if d.path == str(root / source):
        return Diagnostic(source, d.span, d.message, d.code, d.help, d.source_line)
    return d


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def diff(result: Result) -> str:
    """A unified diff from the committed output to the generated one."""
    output = result.target.output
    before = (result.committed or "").splitlines(True)
    after = (result.generated or "").splitlines(True)
    old = f"{output} (committed)" if result.committed is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, old, f"{output} (generated)"))


def write_atomically(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".s2sad-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
