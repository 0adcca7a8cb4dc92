"""Projects: the ``[tool.s2sad.targets]`` table of ``pyproject.toml``, regenerated or checked as a whole.

::

    [tool.s2sad.targets]
    "src/model.py::loss" = "src/model_grad.py"
    "src/model.py::energy" = { output = "src/energy_grad.py", wrt = ["x", "y"] }
    "src/model.py::project" = { output = "src/project_jacobian.py", mode = "jacobian" }

``mode`` is a row of :data:`s2sad.modes.MODES` (``grad`` when absent): ``jvp``, ``vjp`` and ``jacobian`` modules
are regenerated and checked like gradients. One function with several modules lists its entries:
``"src/model.py::project" = [{ output = "src/project_vjp.py", mode = "vjp" }, { output = ..., mode = ... }]``.
Paths are relative to the folder of ``pyproject.toml`` (the project root) and appear in the generated headers as
written, so the output does not depend on the directory s2sad runs from. Every target is generated in memory
first, and every output location is checked; nothing is written unless every target succeeded and every
output is writable, and then each output is replaced atomically (:func:`s2sad.files.write_atomically`).

The configuration may come from someone else's repository, so (see :mod:`s2sad.files`): every source and
output must resolve, after symlinks, inside the project root; sources are regular files, read size-limited;
an output is a regular file or absent (never a symlink, a device or a FIFO), in an existing folder, not the
output of another target, and not an input of any target (a source, a helper's file, the configuration).
A committed output that is a folder, not UTF-8, or unreadable is stale for ``check``; ``sync`` replaces a
regular file, and refuses a folder (s2sad never deletes one).
"""

from __future__ import annotations

import difflib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import config, files, modes
from .api import generate
from .diagnostics import Diagnostic, S2sadError
from .files import write_atomically
from .source import read_source

__all__ = ["Target", "Result", "find_config", "load_targets", "run", "split_target", "write_atomically", "diff"]


@dataclass(frozen=True, slots=True)
class Target:
    source: str  #: the source file, relative to the project root
    name: str  #: the function
    output: str  #: the generated module, relative to the project root
    wrt: tuple[str, ...] | None = None
    mode: str = modes.DEFAULT  #: the module's mode (see :mod:`s2sad.modes`)

    @property
    def label(self) -> str:
        return f"{self.source}::{self.name}"


@dataclass(frozen=True, slots=True)
class Result:
    target: Target
    generated: str | None  #: None when the target failed
    committed: str | None  #: the output file's current text; None when it is missing
    diagnostics: tuple[Diagnostic, ...] = ()  #: why the target failed, or why its output cannot be written
    unusable: str | None = None  #: why the committed output cannot be compared ("is a directory", "not UTF-8")

    @property
    def fresh(self) -> bool:
        return self.generated is not None and self.unusable is None and self.generated == self.committed


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
    found = config.nearest(start, strict=True)
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


_TARGETS = ("tool", "s2sad", "targets")


def _path_problem(text: str) -> str | None:
    """Why a path of the configuration is unusable before looking at the disk, or None."""
    if not text or text.strip() in (".", "./") or text.endswith(("/", os.sep)):
        return "is not a file name"
    ch = files.unsafe_character(text)
    if ch is not None:
        return f"contains the unsafe character {ch!r}"
    if os.path.isabs(text) or text.startswith("~"):
        return "is absolute; write it relative to the folder of pyproject.toml"
    return None


def load_targets(path: Path) -> list[Target]:
    """The targets of ``[tool.s2sad.targets]``, sorted by label; malformed entries are diagnostics located
    in ``path``."""
    table = config.section(config.load(path)).get("targets", {})
    found: list[Diagnostic] = []
    targets: list[Target] = []

    def bad(label: str | None, message: str, code: str = "bad-config", inner: str | None = None) -> None:
        found.append(config.diagnostic(path, message, code, _TARGETS, label, inner))

    if not isinstance(table, dict):
        table = {}
        bad(None, "[tool.s2sad.targets] must be a table")
    for label, listed in table.items():
        try:
            source, name = split_target(label)
        except S2sadError as err:
            bad(label, f"target '{label}': {err.diagnostics[0].message}")
            continue
        # one function, several modules (its gradient, its Jacobian ...): a list of entries
        for value in listed if isinstance(listed, list) and listed else [listed]:
            entry = _entry(label, value, bad)
            if entry is None:
                continue
            output, wrt, mode = entry
            problems = [
                (f"the source '{source}'", _path_problem(source)),
                (f"the output '{output}'", _path_problem(output)),
            ]
            problem = next(((what, why) for what, why in problems if why is not None), None)
            if problem is not None:
                bad(label, f"target '{files.shown(label)}': {problem[0]} {problem[1]}", "bad-path")
                continue
            targets.append(Target(source, name, output, tuple(wrt) if wrt is not None else None, mode))
    seen: dict[str, Target] = {}
    root = os.path.dirname(os.path.abspath(path))
    for t in targets:  # one file, however it is spelled: "o.py", "./o.py", "self/o.py" with self -> .
        key = os.path.normcase(os.path.realpath(os.path.join(root, t.output)))
        if key in seen:
            bad(
                t.label,
                f"targets '{seen[key].label}' and '{t.label}' have one output, '{t.output}'",
                "duplicate-output",
            )
        seen.setdefault(key, t)
    if found:
        raise S2sadError(found)
    return sorted(targets, key=lambda t: (t.label, t.output))


def _entry(label: str, value: object, bad: Callable[..., None]) -> tuple[str, list[str] | None, str] | None:
    """(output, wrt, mode) of one entry of a target: a path, or a table ``{ output, wrt, mode }``."""
    if isinstance(value, str):
        return value, None, modes.DEFAULT
    if not (
        isinstance(value, dict) and isinstance(value.get("output"), str) and set(value) <= {"output", "wrt", "mode"}
    ):
        bad(label, f"target '{label}': expected an output path or {{ output = ..., wrt = [...], mode = ... }}")
        return None
    wrt = value.get("wrt")
    if wrt is not None and not (isinstance(wrt, list) and all(isinstance(w, str) and w.isidentifier() for w in wrt)):
        bad(label, f"target '{label}': wrt must be a list of names", inner="wrt")
        return None
    mode = value.get("mode", modes.DEFAULT)
    if not isinstance(mode, str) or modes.get(mode) is None:
        known = ", ".join(f'"{m}"' for m in modes.MODES)
        shown = f'"{files.escape(mode)}"' if isinstance(mode, str) else files.escape(repr(mode))
        bad(label, f"target '{label}': unknown mode {shown}; expected one of {known}", inner="mode")
        return None
    return value["output"], wrt, mode


def run(root: Path, targets: list[Target], config_path: Path | None = None, *, for_sync: bool = False) -> list[Result]:
    """Generate every target in memory, read what is committed, and check every output location; write
    nothing. With ``for_sync``, an output that is a folder or in a missing folder is a diagnostic."""
    where = Path(os.path.abspath(config_path if config_path is not None else root / "pyproject.toml"))
    inputs: set[str] = {os.path.realpath(where)}
    generated: list[tuple[Target, str | None, tuple[Diagnostic, ...]]] = []
    root = root.resolve()
    with files.project(root), files.working_directory(root):
        for t in targets:
            escaping = [p for p in (t.source, t.output) if not files.inside(root / p, root)]
            if escaping:
                d = config.diagnostic(
                    where,
                    f"target '{t.label}': '{escaping[0]}' resolves outside the project folder",
                    "outside-project",
                    _TARGETS,
                    t.label,
                    help="s2sad reads and writes only files inside the folder of pyproject.toml",
                )
                generated.append((t, None, (d,)))
                continue
            with files.recording() as reads:
                try:
                    source = read_source(str(root / t.source))
                    text = generate(source, t.source, t.name, wrt=t.wrt, output=t.output, mode=t.mode)
                except S2sadError as err:
                    generated.append((t, None, tuple(_relative(d, root, t.source) for d in err.diagnostics)))
                    continue
            inputs |= reads
            generated.append((t, text, ()))
    results: list[Result] = []
    for t, text, diagnostics in generated:
        committed, unusable, problem = _committed(root, t, inputs, for_sync)
        if problem is not None and text is not None:
            diagnostics = (
                config.diagnostic(
                    where, f"target '{t.label}': the output '{t.output}' {problem}", "bad-output", _TARGETS, t.label
                ),
            )
            text = None
        results.append(Result(t, text, committed, diagnostics, unusable))
    return results


def _committed(root: Path, t: Target, inputs: set[str], for_sync: bool) -> tuple[str | None, str | None, str | None]:
    """(the committed text or None, why it cannot be compared, why the output cannot be written)."""
    out = root / t.output
    try:
        info = os.lstat(out)
    except FileNotFoundError:
        info = None
    except OSError as err:
        return None, None, f"cannot be examined: {err.strerror}"
    if info is None:
        if not out.parent.is_dir():
            return (
                None,
                None,
                (f"is in a folder that does not exist ('{os.path.dirname(t.output)}')" if for_sync else None),
            )
        problem = files.check_output(out, inputs)
        return None, None, problem
    if stat.S_ISDIR(info.st_mode):
        return None, "is a directory", ("is a directory; s2sad does not replace a folder" if for_sync else None)
    problem = files.check_output(out, inputs)
    if problem is not None:
        return None, None, problem
    try:
        data = files.read_bytes(out)
    except S2sadError as err:
        return None, err.diagnostics[0].message, None
    try:
        return data.decode("utf-8"), None, None
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), "is not UTF-8", None


def _relative(d: Diagnostic, root: Path, source: str) -> Diagnostic:
    """Diagnostics name files as the configuration does."""
    if d.path == str(root / source):
        return Diagnostic(source, d.span, d.message, d.code, d.help, d.source_line)
    return d


def diff(result: Result) -> str:
    """A unified diff from the committed output to the generated one."""
    output = result.target.output
    before = (result.committed or "").splitlines(True)
    after = (result.generated or "").splitlines(True)
    old = f"{output} (committed)" if result.committed is not None else "/dev/null"
    return "".join(difflib.unified_diff(before, after, old, f"{output} (generated)"))
