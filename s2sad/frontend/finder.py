"""Which file an import of the user's own modules runs, by the rules of Python's path finder.

For ``import a.b.c`` (or ``from a.b import c``) next to the importing file, each part is looked up in the
folder of the part before it as CPython's ``FileFinder`` does: a package (``a/__init__.py``) before an
extension module (``a.so``) before a module (``a.py``); a directory without ``__init__.py`` is a namespace
package only when there is no module of that name. A relative import of level n (``from ..lib import h``:
level 2) starts n - 1 folders above the importing file's own. Every file an import runs is known, or it is
refused: never another file than Python's.
"""

from __future__ import annotations

import importlib.machinery
import sys
from pathlib import Path

__all__ = ["NotFollowed", "find_module", "modules_run", "user_file_for"]


class NotFollowed(Exception):
    """An import of one of the user's modules that s2sad cannot follow to a Python source file (message)."""


def modules_run(importer: str, qualname: str) -> list[Path]:
    """The files importing ``qualname`` (``..lib.sub``: leading dots are the level) from the file
    ``importer`` runs, outermost package first; empty when its first part is none of the files next to the
    importer (a library). :class:`NotFollowed` when Python would import something s2sad cannot read, or
    nothing."""
    level = len(qualname) - len(qualname.lstrip("."))
    parts = qualname[level:].split(".") if qualname[level:] else []
    folder = Path(importer).parent
    for _ in range(max(level - 1, 0)):
        if folder.parent == folder:
            raise NotFollowed(f"'{qualname}' goes above the top folder")
        folder = folder.parent
    if not parts:
        init = folder / "__init__.py"
        return [init] if init.is_file() else []
    run: list[Path] = []
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        dotted = ".".join(parts[: index + 1])
        package = folder / part
        init = [package / f"__init__{suffix}" for suffix in _SUFFIXES]
        found = next((p for p in init if p.is_file()), None)
        if found is not None:
            if found.suffix != ".py":
                raise NotFollowed(f"'{dotted}' is a package whose '{found.name}' is not Python source")
            run.append(found)
            folder = package
            continue
        module = next(
            (folder / f"{part}{suffix}" for suffix in _SUFFIXES if (folder / f"{part}{suffix}").is_file()), None
        )
        if module is not None:
            if module.suffix != ".py":
                raise NotFollowed(f"'{dotted}' is '{module.name}', not Python source")
            if not last:
                raise NotFollowed(
                    f"'{dotted}' is the module '{module.name}', not a package: Python cannot import '{qualname}'"
                )
            run.append(module)
            return run
        if package.is_dir():  # a namespace package: no code of its own
            if last:
                raise NotFollowed(f"'{dotted}' is a folder without '__init__.py', not a module with functions")
            folder = package
            continue
        if index == 0 and level == 0:
            return []  # not one of the user's modules
        raise NotFollowed(f"no module '{dotted}' (no file '{part}.py' or package '{part}/__init__.py' in {folder})")
    return run  # pragma: no cover - the loop returns or raises on its last part


def find_module(importer: str, qualname: str) -> Path | None:
    """The file of the module ``qualname`` imported from ``importer`` (see :func:`modules_run`)."""
    run = modules_run(importer, qualname)
    return run[-1] if run else None


def user_file_for(importer: str, name: str) -> Path | None:
    """The package or module file next to ``importer`` that ``import name`` (a top-level name) runs
    instead of an installed library of that name; None when there is none, or ``name`` is built into the
    interpreter (``sys``, ``builtins``: found before any folder)."""
    if name in sys.builtin_module_names:
        return None
    folder = Path(importer).parent
    for candidate in [folder / name / f"__init__{suffix}" for suffix in _SUFFIXES] + [
        folder / f"{name}{suffix}" for suffix in _SUFFIXES
    ]:
        if candidate.is_file():
            return candidate
    return None


#: CPython's loaders in their order: extension modules, then source, then bytecode.
_SUFFIXES = [
    *importlib.machinery.EXTENSION_SUFFIXES,
    *importlib.machinery.SOURCE_SUFFIXES,
    *importlib.machinery.BYTECODE_SUFFIXES,
]
