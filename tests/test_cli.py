"""The command line: output, -o, --check, and every diagnostic: exit 2, the
``path:line:col: error: message [code]`` form with the source line and a caret, no traceback, nothing written."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from s2sad.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIRST_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+) \[(?P<code>[a-z-]+)\]$")


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def write(tmp_path, text, name="f.py"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_prints_the_gradient_module(capsys):
    status, out, err = run(capsys, "grad", str(ROOT / "examples/domke.py") + "::f")
    assert status == 0 and err == ""
    assert "def grad_f(x):" in out and "from math import cos, exp" in out


def test_output_file_and_check(capsys, tmp_path):
    src = write(tmp_path, "def f(x):\n    return x * x\n")
    out_file = tmp_path / "f_grad.py"
    assert run(capsys, "grad", f"{src}::f", "-o", str(out_file))[0] == 0
    assert "def grad_f(x):" in out_file.read_text()
    assert run(capsys, "grad", f"{src}::f", "-o", str(out_file), "--check")[0] == 0
    src.write_text("def f(x):\n    return x * x * x\n")
    status, out, err = run(capsys, "grad", f"{src}::f", "-o", str(out_file), "--check")
    assert status == 1 and "stale" in err and out.startswith("---")
    missing = tmp_path / "missing.py"
    status, _, err = run(capsys, "grad", f"{src}::f", "-o", str(missing), "--check")
    assert status == 1 and "missing" in err and not missing.exists()


def test_wrt_option(capsys, tmp_path):
    src = write(tmp_path, "def f(x, y):\n    return x * y\n")
    status, out, _ = run(capsys, "grad", f"{src}::f", "--wrt", "y")
    assert status == 0 and "def grad_f(x, y):" in out and "return y_bar" in out
    assert "--wrt y" in out  # the regenerate command in the header repeats it


def test_bom_and_crlf_files_work(capsys, tmp_path):
    path = tmp_path / "crlf.py"
    path.write_bytes(b"\xef\xbb\xbfimport math\r\n\r\ndef f(x):\r\n    y = math.sin(x)\r\n    return y * x\r\n")
    status, out, err = run(capsys, "grad", f"{path}::f")
    assert status == 0, err
    assert "\r" not in out


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("s2sad ")
    with pytest.raises(SystemExit):
        main(["grad", "--help"])
    assert "PATH::NAME" in capsys.readouterr().out


# ---- diagnostics ---------------------------------------------------------------------------------------------
BAD = {
    "try": (
        "def f(x):\n    try:\n        y = x\n    except Exception:\n        y = 0.0\n    return y\n",
        2,
        "unsupported-syntax",
    ),
    "with": ("def f(x):\n    with open('a') as fh:\n        y = x\n    return y\n", 2, "unsupported-syntax"),
    "yield": ("def f(x):\n    y = yield x\n    return y\n", 2, "unsupported-syntax"),
    "lambda": ("def f(x):\n    return (lambda t: t)(x)\n", 2, "unsupported-syntax"),  # a name binds one: issue 13
    "recursion": ("def f(x):\n    return f(x - 1.0) * x\n", 2, "recursion"),
    "global": ("def f(x):\n    global y\n    y = x\n    return x\n", 2, "unsupported-syntax"),
    "nonlocal": ("def f(x):\n    nonlocal y\n    return x\n", 2, "syntax-error"),  # CPython rejects it
    "attribute": ("def f(x):\n    x.a = 1.0\n    return x\n", 2, "unsupported-syntax"),
    "subscript": ("def f(x):\n    x[0] = 1.0\n    return x\n", 2, "unsupported-syntax"),
    "star_args": ("def f(*xs):\n    return 1.0\n", 1, "unsupported-syntax"),
    "kwargs": ("def f(x, **kw):\n    return x\n", 1, "unsupported-syntax"),
    "unknown_call": ("import os\n\n\ndef f(x):\n    return os.getpid() * x\n", 5, "no-rule"),
    "undefined": ("def f(x):\n    return foo(x)\n", 2, "undefined-name"),
    "int_of_x": ("def f(x):\n    return int(x) * x\n", 2, "discrete-on-differentiated"),
    "round_of_x": ("def f(x):\n    return round(x) + x\n", 2, "discrete-on-differentiated"),
    "no_return": ("def f(x):\n    y = x\n", 1, "no-return"),
    "tuple_return": ("def f(x):\n    return x, x\n", 2, "non-scalar-return"),
    "early_return_may_fall_off": ("def f(x):\n    if x > 0:\n        return x\n", 1, "no-return"),
    "for_else": (
        "def f(x):\n    for i in range(3):\n        break\n    else:\n        x = 1.0\n    return x\n",
        4,
        "unsupported-syntax",
    ),
    "while_else": (
        "def f(x):\n    while x < 3:\n        break\n    else:\n        x = 1.0\n    return x\n",
        4,
        "unsupported-syntax",
    ),
    "loop_target_tuple": (
        "def f(xs):\n    for p in zip(xs, xs):\n        continue\n    return 1.0\n",
        2,
        "unsupported-loop",
    ),
    "for_unpack_rows": ("def f(x):\n    for (a, b), c in x:\n        x = a\n    return x\n", 2, "unsupported-loop"),
    "range_of_x": (
        "def f(x):\n    s = 0.0\n    for i in range(int(x)):\n        s = s + i\n    return s * x\n",
        3,
        None,
    ),
    "range_depends": (
        "def f(x, n):\n    m = n * x\n    for i in range(m):\n        x = x * 2\n    return x\n",
        3,
        "loop-depends-on-input",
    ),
    "string": ("def f(x):\n    s = 'a'\n    return x\n", 2, "unsupported-syntax"),
    "decorated": ("def deco(fn):\n    return fn\n\n\n@deco\ndef f(x):\n    return x\n", 5, "unsupported-decorator"),
    "undefined_after_branch": ("def f(x):\n    if x > 0:\n        y = x\n    return y\n", 4, "possibly-undefined"),
    "global_read": ("import os\nK = os.sep\n\n\ndef f(x):\n    return K * x\n", 6, "unsupported-global"),
    "async_target": ("async def f(x):\n    return x * x\n", 1, "unsupported-syntax"),  # was exit 3
    "async_helper": ("async def h(x):\n    return x\n\n\ndef f(x):\n    return h(x) * x\n", 1, "unsupported-syntax"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_diagnostic(capsys, tmp_path, name):
    text, line, code = BAD[name]
    src = write(tmp_path, text)
    existing = tmp_path / "out.py"
    existing.write_text("# committed earlier\n")
    status, out, err = run(capsys, "grad", f"{src}::f", "-o", str(existing))
    assert status == 2, err
    assert out == "" and "Traceback" not in err
    assert existing.read_text() == "# committed earlier\n"  # nothing written
    first = FIRST_LINE.match(err.splitlines()[0])
    assert first, err
    assert first["path"] == str(src) and int(first["line"]) == line, err
    if code:
        assert first["code"] == code, err
    lines = err.splitlines()
    assert lines[1].startswith(f"{line} | ") and "^" in lines[2], err


def test_all_problems_are_reported_sorted(capsys, tmp_path):
    src = write(tmp_path, "def f(x):\n    a = foo(x)\n    b = 'text'\n    c = {x: 1}\n    return a + b + c\n")
    status, _, err = run(capsys, "grad", f"{src}::f")
    lines = [m for m in map(FIRST_LINE.match, err.splitlines()) if m]
    assert status == 2 and [int(m["line"]) for m in lines] == [2, 3, 4]
    assert "found 3 errors" in err


@pytest.mark.parametrize(
    "setup, target, code",
    [
        (None, "missing.py::f", "file-not-found"),
        ("def g(x):\n    return x\n\n\ndef h(x):\n    return x\n", "f.py::f", "function-not-found"),
        ("", "f.py::f", "function-not-found"),
        (b"\x00\x01binary", "f.py::f", "not-python"),
        (b"\xff\xfe\x00x", "f.py::f", "not-python"),
        ("def f(x)\n    return x\n", "f.py::f", "syntax-error"),
        ("def f(x):\n    return x\n", "f.py", "bad-target"),
    ],
)
def test_file_level_diagnostics(capsys, tmp_path, setup, target, code):
    if isinstance(setup, bytes):
        (tmp_path / "f.py").write_bytes(setup)
    elif setup is not None:
        write(tmp_path, setup)
    status, out, err = run(capsys, "grad", str(tmp_path / target))
    assert status == 2 and out == "" and "Traceback" not in err
    assert f"[{code}]" in err.splitlines()[0], err
    if code == "function-not-found":
        assert "functions defined here:" in err
        assert ("'g', 'h'" in err) if setup else ("none" in err)
    if code == "syntax-error":
        assert FIRST_LINE.match(err.splitlines()[0])["line"] == "1"


def test_the_cli_never_executes_the_users_file(tmp_path):
    marker = tmp_path / "executed"
    src = write(tmp_path, f"open({str(marker)!r}, 'w').close()\nimport math\n\n\ndef f(x):\n    return math.exp(x)\n")
    result = subprocess.run(
        [sys.executable, "-m", "s2sad", "grad", f"{src}::f"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "def grad_f(x):" in result.stdout
    assert not marker.exists()


def test_console_shim_and_no_traceback_in_a_real_process(tmp_path):
    src = write(
        tmp_path, "def f(x):\n    while True:\n        try:\n            pass\n        finally:\n            pass\n"
    )
    result = subprocess.run([sys.executable, "cli.py", "grad", f"{src}::f"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "error:" in result.stderr


def test_output_is_written_atomically(capsys, tmp_path):
    src = write(tmp_path, "def f(x):\n    return x * x\n")
    out_file = tmp_path / "g.py"
    run(capsys, "grad", f"{src}::f", "-o", str(out_file))
    assert sorted(os.listdir(tmp_path)) == ["f.py", "g.py"]  # no temporary file left behind
