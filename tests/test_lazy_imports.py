"""``import s2sad``, ``s2sad --help`` and a hit in ``@s2sad.gradient``'s cache import neither black nor LibCST
(about a fifth of a second together); generating a module imports both."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_CHECK = "import sys; {code}; print(sorted(m for m in ('black', 'libcst') if m in sys.modules))"


def _imported(code: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", _CHECK.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(cwd or ROOT)]), **(env or {})},
    )
    return out.stdout.strip().splitlines()[-1]


def test_importing_s2sad_imports_neither_black_nor_libcst() -> None:
    assert _imported("import s2sad; import s2sad.cli") == "[]"


def test_help_imports_neither() -> None:
    code = "import s2sad.cli\ntry:\n    s2sad.cli.main(['--help'])\nexcept SystemExit:\n    pass"
    assert _imported(f"exec({code!r})") == "[]"


def test_generating_imports_both() -> None:
    assert (
        _imported("import s2sad; s2sad.generate('def f(x):\\n    return x * x\\n', 'f.py', 'f')")
        == "['black', 'libcst']"
    )


def test_a_cache_hit_imports_neither(tmp_path: Path) -> None:
    folder = tmp_path / "src"  # the folder's listing is part of the key: the caches live elsewhere
    folder.mkdir()
    (folder / "decorated.py").write_text(
        "import math\n\nimport s2sad\n\n\n@s2sad.gradient\ndef f(x, y):\n    return math.sin(x) * y\n"
    )
    env = {"S2SAD_CACHE": "1", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    first = _imported("import decorated; decorated.f(0.5, 2.0)", folder, env)
    second = _imported("import decorated; decorated.f(0.5, 2.0)", folder, env)
    assert first == "['black', 'libcst']"
    assert second == "[]"
