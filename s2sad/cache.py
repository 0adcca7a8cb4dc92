"""The on-disk cache of ``@s2sad.gradient``: a module imported again does not generate its gradients again.

An entry is the generated module's text and what it was made from. It is found by a key, a SHA-256 of every
input that decides the output: the text of the function's file, its path, the function's name and line, the
options (``wrt``, with the value or not, the mode, the signature of the arguments a module is specialised to:
see :mod:`s2sad.dispatch`), the names of the files beside it (a ``numpy.py`` there changes what
``import numpy`` means), every ``pyproject.toml`` above it (``[tool.s2sad.rules]``), s2sad's version and the
SHA-256 of its own source files, Python's version, black's and LibCST's. Other files the generation read (a
helper's file, a module scanned for writes into this one) are listed in the entry with their SHA-256 and read
again on every hit: a changed one is a miss.

Where: beside Python's own bytecode, in the ``__pycache__`` folder of the file's folder (as
``importlib.util.cache_from_source`` places it, ``PYTHONPYCACHEPREFIX`` included), named
``<module>.<function>.s2sad-<version>-<digest>.json``; when that folder cannot be written (or is a symbolic link),
or Python is told not to write bytecode (``PYTHONDONTWRITEBYTECODE``), in the user's cache folder (``$XDG_CACHE_HOME/s2sad``, else ``~/.cache/s2sad``). Nowhere else. Entries are
written to a temporary file and renamed into place, never through a symbolic link; deleting any of them is
always safe.

Trust: every input of the key is public, so a hash of the inputs proves nothing: a repository could commit an
entry that has the right key and other code. Each entry is therefore signed with an HMAC-SHA256 under a secret
of the user's own (32 random bytes in the user's cache folder, readable by the user only) and is used only when
the signature is right and the key is the key of this function now. An entry that is corrupt, foreign (another
user, another machine, another version), unreadable or unsigned is ignored, regenerated and replaced. Where no
secret can be kept, nothing is cached. The checks of :mod:`s2sad.live` (the function is the file's code, its
constants, defaults and helpers are what the text says) run on every hit, as on a miss: they are what ties the
key, computed from the file, to the function that runs.

``S2SAD_CACHE=0`` in the environment, or ``@s2sad.gradient(cache=False)``, turns the cache off.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib
import importlib.util
import json
import os
import secrets
import stat
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["enabled", "Entry", "digest", "key", "load", "save", "stats", "user_folder"]

_FORMAT = "s2sad-cache-1"
#: Hits and misses in this process (read by tests: a hit never runs the generator).
stats = {"hits": 0, "misses": 0, "written": 0}


def enabled(option: bool | None = None) -> bool:
    """The cache is on unless ``S2SAD_CACHE`` is ``0`` (or ``false``, ``no``, ``off``) or ``option`` is False."""
    if option is False:
        return False
    return os.environ.get("S2SAD_CACHE", "1").strip().lower() not in ("0", "false", "no", "off")


@dataclass(frozen=True)
class Entry:
    """A cached generation: the module and what :func:`s2sad.api._build` needs besides it."""

    text: str
    wrt: tuple[str, ...]
    helpers: tuple[tuple[str, str], ...]
    function: str
    reads: tuple[tuple[str, str], ...]  #: (file, SHA-256 of its text) of every other file the generation read


# ------------------------------------------------------------------------------------------------------------
# The key
# ------------------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _toolchain() -> str:
    """s2sad's version and the digest of its own source, Python's, black's and LibCST's versions: an entry
    made by any other toolchain (an edited checkout of s2sad included) is never used."""
    from . import __version__

    hasher = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for file in sorted(package.rglob("*.py")):
        hasher.update(str(file.relative_to(package)).encode() + b"\0" + file.read_bytes() + b"\0")
    versions = [f"s2sad {__version__} {hasher.hexdigest()}", f"python {sys.version} {sys.implementation.name}"]
    versions += [f"black {_version('black')}", f"libcst {_version('libcst')}"]
    return "\n".join(versions)


def _version(package: str) -> str:
    """An installed package's version, read from its metadata: a hit in the cache imports neither black nor
    LibCST (together about a fifth of a second)."""
    import importlib.metadata

    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:  # not installed as a distribution: ask the package
        module = importlib.import_module("libcst._version" if package == "libcst" else package)
        return str(module.__version__)


def digest(text: str | bytes) -> str:
    """The SHA-256 of a text (UTF-8) or of bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text).hexdigest()


def key(
    source: str,
    path: str,
    name: str,
    line: int,
    wrt: Sequence[str] | None,
    with_value: bool,
    mode: str = "grad",
    variant: str = "",
) -> str:
    """The digest of every input that decides the module generated for this function (see the docstring);
    ``mode`` is the module's (see :mod:`s2sad.modes`): a gradient's key is the same as before modes existed.
    ``variant``: the signature of the arguments it is specialised to (:func:`s2sad.signatures.describe`)."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        beside = sorted(n for n in os.listdir(folder) if n != "__pycache__")
    except OSError:
        beside = []
    projects = []
    for above in [Path(folder), *Path(folder).parents]:
        candidate = above / "pyproject.toml"
        try:
            projects.append(f"{candidate}\0{digest(candidate.read_bytes())}")
        except OSError:
            continue
    parts = [
        _FORMAT,
        _toolchain(),
        os.path.abspath(path),
        name,
        str(line),
        json.dumps(None if wrt is None else list(wrt)),
        str(bool(with_value)),
        digest(source),
        "\0".join(beside),
        "\n".join(projects),
    ]
    if mode != "grad":
        parts.append(f"mode {mode}")
    if variant:
        parts.append(f"signature {variant}")
    return digest("\n\x1e".join(parts))


# ------------------------------------------------------------------------------------------------------------
# Places
# ------------------------------------------------------------------------------------------------------------
def user_folder() -> Path:
    """``$XDG_CACHE_HOME/s2sad`` (an absolute ``XDG_CACHE_HOME``, as the XDG specification asks), else
    ``~/.cache/s2sad``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "s2sad"


def _private_folder() -> Path | None:
    """The user's cache folder, created readable by the user only; None if it cannot be, or is not ours."""
    folder = user_folder()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        return None
    return folder


@functools.lru_cache(maxsize=1)
def _secret() -> bytes | None:
    """This user's signing secret (made once); None where it cannot be kept private."""
    folder = _private_folder()
    if folder is None:
        return None
    path = folder / "secret"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            _write(folder, "secret", secrets.token_bytes(32), mode=0o600)
            continue
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
                return None
            data = os.read(fd, 64)
        finally:
            os.close(fd)
        return data if len(data) == 32 else None
    return None


def _places(
    path: str, name: str, line: int, wrt: Sequence[str] | None, with_value: bool, mode: str, variant: str = ""
) -> list[Path]:
    """Where the entry of this function may be: beside ``__pycache__`` first, then the user's cache folder.
    One place per signature (``variant``): each has an entry of its own."""
    fields: list[object] = [os.path.abspath(path), name, line, None if wrt is None else list(wrt), with_value]
    if mode != "grad" or variant:
        fields.append(mode)
    if variant:
        fields.append(variant)
    target = digest(json.dumps(fields))
    from . import __version__

    stem = Path(path).stem
    file = f"{stem}.{name}.s2sad-{__version__}-{target[:16]}.json"
    out = []
    if not sys.dont_write_bytecode:  # PYTHONDONTWRITEBYTECODE: no __pycache__ folders wanted
        try:
            pycache = Path(importlib.util.cache_from_source(os.path.abspath(path))).parent
            out.append(pycache / file)
        except (NotImplementedError, ValueError):
            pass
    out.append(user_folder() / "entries" / f"{target[:32]}.json")
    return out


def _usable_folder(folder: Path, private: bool) -> bool:
    """A real folder (not a symbolic link), created if missing; ``private``: the user's only."""
    try:
        if not os.path.lexists(folder):
            folder.mkdir(mode=0o700 if private else 0o777, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not private or (info.st_uid == os.getuid() and not info.st_mode & 0o077)


def _write(folder: Path, name: str, data: bytes, mode: int = 0o644) -> None:
    """Write ``folder/name`` atomically: a new temporary file beside it, renamed over it (a symbolic link of
    that name is replaced, never followed)."""
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, folder / name)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


# ------------------------------------------------------------------------------------------------------------
# Entries
# ------------------------------------------------------------------------------------------------------------
def _signed(fields: dict[str, object], secret: bytes) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=True)
    return hmac.new(secret, payload.encode(), hashlib.sha256).hexdigest()


def _read(place: Path) -> dict[str, object] | None:
    try:
        fd = os.open(place, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(64 * 1024 * 1024)
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return loaded if isinstance(loaded, dict) else None


def load(
    inputs: str,
    path: str,
    name: str,
    line: int,
    wrt: Sequence[str] | None,
    with_value: bool,
    mode: str = "grad",
    variant: str = "",
) -> Entry | None:
    """The entry made for exactly these inputs, signed with this user's secret, whose other files still read
    the same; None otherwise (the caller generates, and :func:`save` replaces the entry)."""
    secret = _secret()
    if secret is None:
        return None
    for place in _places(path, name, line, wrt, with_value, mode, variant):
        fields = _read(place)
        if fields is None:
            continue
        signature = fields.pop("signature", None)
        if not isinstance(signature, str) or not hmac.compare_digest(signature, _signed(fields, secret)):
            continue  # not made by this user's s2sad: never used, whatever it says
        if fields.get("format") != _FORMAT or fields.get("key") != inputs:
            continue
        try:
            entry = Entry(
                str(fields["text"]),
                tuple(str(w) for w in fields["wrt"]),  # type: ignore[attr-defined]
                tuple((str(p), str(h)) for p, h in fields["helpers"]),  # type: ignore[attr-defined]
                str(fields["function"]),
                tuple((str(p), str(h)) for p, h in fields["reads"]),  # type: ignore[attr-defined]
            )
        except (KeyError, TypeError, ValueError):
            continue
        if all(_still(p, h) for p, h in entry.reads):
            stats["hits"] += 1
            return entry
    stats["misses"] += 1
    return None


def _still(path: str, wanted: str) -> bool:
    """The file ``path`` still has the text it had (as s2sad reads it)."""
    from .diagnostics import S2sadError
    from .source import read_source

    try:
        return digest(read_source(path)) == wanted
    except (S2sadError, OSError):
        return False


def save(
    inputs: str,
    path: str,
    name: str,
    line: int,
    wrt: Sequence[str] | None,
    with_value: bool,
    entry: Entry,
    mode: str = "grad",
    variant: str = "",
) -> None:
    """Store ``entry`` in the first place that can hold it; a cache that cannot be written is no error."""
    secret = _secret()
    if secret is None:
        return
    fields: dict[str, object] = {
        "format": _FORMAT,
        "key": inputs,
        "text": entry.text,
        "wrt": list(entry.wrt),
        "helpers": [list(h) for h in entry.helpers],
        "function": entry.function,
        "reads": [list(r) for r in entry.reads],
    }
    fields["signature"] = _signed(fields, secret)
    data = json.dumps(fields, sort_keys=True, ensure_ascii=True).encode()
    places = _places(path, name, line, wrt, with_value, mode, variant)
    for i, place in enumerate(places):
        if not _usable_folder(place.parent, private=i == len(places) - 1):
            continue
        try:
            _write(place.parent, place.name, data)
        except OSError:
            continue
        stats["written"] += 1
        return
