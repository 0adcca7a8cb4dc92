"""Trust boundaries (issue 11): s2sad run over a hostile repository, as pre-commit and CI run it.

Every finding of the issue is one row here. Each builds a hostile project in a temporary folder beside an
``outside`` folder, runs the command in-process, and asserts the exit status, the diagnostic's code (and where
it applies its location), that no marker file was created (nothing ran), that nothing outside the project was
written, and that existing files are byte-identical with their modes kept.
"""

from __future__ import annotations

import ast
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import s2sad
from s2sad import emit, files
from s2sad.cli import main

MODEL = "import math\n\n\ndef f(x):\n    return math.exp(x) * x\n\n\ndef g(x):\n    return x * x * x\n"
LOCATED = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): error: .* \[(?P<code>[a-z-]+)\]$", re.M)


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, out, err


def snapshot(folder: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every entry under ``folder``: its kind, its bytes (or a symlink's target) and its mode."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            info = p.lstat()
            if stat.S_ISLNK(info.st_mode):
                state[str(p)] = ("link", os.readlink(p), 0)
            elif stat.S_ISREG(info.st_mode):
                state[str(p)] = ("file", p.read_bytes(), stat.S_IMODE(info.st_mode))
            else:
                state[str(p)] = (stat.filemode(info.st_mode)[0], b"", stat.S_IMODE(info.st_mode))
    return state


@pytest.fixture
def world(tmp_path, monkeypatch):
    """``proj/`` (a project with src/model.py) and ``outside/`` (with a secret) side by side."""
    proj, outside = tmp_path / "proj", tmp_path / "outside"
    (proj / "src").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.py").write_text("SECRET = 'hunter2'\n\n\ndef f(x):\n    return x * x\n")
    (proj / "src" / "model.py").write_text(MODEL)
    monkeypatch.chdir(proj)
    return proj, outside


def configure(proj: Path, targets: str, extra: str = "") -> None:
    (proj / "pyproject.toml").write_text(f"[project]\nname = 'demo'\n\n[tool.s2sad.targets]\n{targets}\n{extra}")


def codes(err: str) -> set[str]:
    return set(re.findall(r"\[([a-z-]+)\]$", err, re.M))


# ------------------------------------------------------------------------------------------------------------
# 2. Rule templates are restricted expressions
# ------------------------------------------------------------------------------------------------------------
def _chars(text: str) -> str:
    return "+".join(f"builtins.chr({ord(c)})" for c in text)


HOSTILE_TEMPLATES = {
    "exec-chr": "g * builtins.exec({code})",
    "eval": "builtins.eval({code})",
    "getattr": "getattr(x, 1)",
    "import": "__import__(x)",
    "dunder-attribute": "x.__class__",
    "attribute-of-value": "x.real * g",
    "module-dunder": "math.__loader__",
    "numpy-io": "numpy.load(x)",
    "numpy-random": "numpy.random.seed(1)",
    "operator-attrgetter": "operator.attrgetter(x)",
    "lambda": "(lambda: x)()",
    "comprehension": "[x for x in g]",
    "string": "'abc'",
    "subscript-by-value": "g[x]",
    "open": "builtins.open(x)",
}


@pytest.mark.parametrize("name", HOSTILE_TEMPLATES)
def test_hostile_rule_template_is_refused_at_load_time(world, capsys, name):
    proj, outside = world
    marker = proj / "MARKER"
    code = _chars(f"open({str(marker)!r}, 'w').close()")
    template = HOSTILE_TEMPLATES[name].format(code=code).replace('"', '\\"')
    (proj / "src" / "lib.py").write_text("def h(x):\n    return x\n")
    (proj / "src" / "model.py").write_text("from lib import h\n\n\ndef f(x):\n    return h(x) * x\n")
    configure(
        proj, '"src/model.py::f" = "src/model_grad.py"', f'[tool.s2sad.rules]\n"lib.h" = {{ x = "{template}" }}\n'
    )
    before = snapshot(outside)
    for argv in (["sync"], ["check"], ["explain", "src/model.py::f", "--at", "x=0.5"]):
        status, out, err = run(capsys, *argv)
        assert status == 2, (argv, err)
        first = LOCATED.search(err)
        assert first and first["code"] == "bad-rule", err
        assert first["path"].endswith("pyproject.toml") and first["line"] == "7", err  # the rule's line
        assert int(first["col"]) > 10  # at the template's key, not the line start
    assert not marker.exists() and not (proj / "src" / "model_grad.py").exists()
    assert snapshot(outside) == before


@pytest.mark.parametrize("template", ["g * builtins.exec(x)", "x.__class__", "numpy.load(x)"])
def test_hostile_template_in_a_decorator_is_refused_at_the_decorator(world, capsys, template):
    proj, _ = world
    (proj / "src" / "model.py").write_text(
        f'import s2sad\n\n\n@s2sad.rule(x="{template}")\ndef h(x):\n    return x\n\n\ndef f(x):\n    return h(x) * x\n'
    )
    status, _, err = run(capsys, "grad", "src/model.py::f")
    first = LOCATED.search(err)
    assert status == 2 and first and first["code"] == "bad-rule" and first["line"] == "4", err


@pytest.mark.parametrize("param", ["g", "out", "ans"])
def test_rule_parameter_named_like_a_template_variable_is_refused(world, capsys, param):
    proj, _ = world
    (proj / "src" / "model.py").write_text(
        f'import s2sad\n\n\n@s2sad.rule(x="g * {param}")\ndef h(x, {param}):\n    return x * {param}\n\n\n'
        f"def f(x):\n    return h(x, 2.0) * x\n"
    )
    status, _, err = run(capsys, "grad", "src/model.py::f")
    assert status == 2 and "[bad-rule]" in err and "template variable" in err, err
    configure(proj, "", f'[tool.s2sad.rules]\n"lib.h" = {{ args = ["x", "{param}"], x = "g" }}\n')
    (proj / "src" / "model.py").write_text("from lib import h\n\n\ndef f(x):\n    return h(x, 1.0) * x\n")
    status, _, err = run(capsys, "grad", "src/model.py::f")
    first = LOCATED.search(err)
    assert status == 2 and "template variable" in err and (first["line"], first["col"]) == ("7", "13"), err


def test_allowed_templates_still_work(world, capsys):
    proj, _ = world
    (proj / "src" / "lib.py").write_text("def h(x):\n    return x\n")
    (proj / "src" / "model.py").write_text("from lib import h\n\n\ndef f(x):\n    return h(x) * x\n")
    rule = '"lib.h" = { x = "g * math.exp(-x) * numpy.tanh(x) + g * out * (1 - ans) * max(x, 0.5) + math.pi" }'
    configure(proj, '"src/model.py::f" = "src/model_grad.py"', f"[tool.s2sad.rules]\n{rule}\n")
    assert run(capsys, "sync")[0] == 0


# ------------------------------------------------------------------------------------------------------------
# 3. Paths stay inside the project; sources are bounded regular files
# ------------------------------------------------------------------------------------------------------------
ESCAPES = {
    "output-relative": ('"src/model.py::f" = "../outside/sitecustomize.py"', "outside-project"),
    "output-absolute": ('"src/model.py::f" = "{outside}/sitecustomize.py"', "bad-path"),
    "output-symlinked-folder": ('"src/model.py::f" = "src/link/sitecustomize.py"', "outside-project"),
    "source-relative": ('"../outside/secret.py::f" = "src/s_grad.py"', "outside-project"),
    "source-absolute": ('"{outside}/secret.py::f" = "src/s_grad.py"', "bad-path"),
    "source-proc": ('"/proc/self/environ::f" = "src/s_grad.py"', "bad-path"),
    "source-symlink": ('"src/secret_link.py::f" = "src/s_grad.py"', "outside-project"),
    "source-dev-zero-link": ('"src/zero.py::f" = "src/z_grad.py"', "outside-project"),
    "output-dot": ('"src/model.py::f" = "."', "bad-path"),
    "output-empty": ('"src/model.py::f" = ""', "bad-path"),
}


@pytest.mark.parametrize("name", ESCAPES)
@pytest.mark.parametrize("command", ["sync", "check"])
def test_paths_that_escape_the_project_are_refused(world, capsys, name, command):
    proj, outside = world
    (proj / "src" / "link").symlink_to(outside, target_is_directory=True)
    (proj / "src" / "secret_link.py").symlink_to(outside / "secret.py")
    (proj / "src" / "zero.py").symlink_to("/dev/zero")
    entry, code = ESCAPES[name]
    configure(proj, entry.replace("{outside}", str(outside)))
    before, inside = snapshot(outside), snapshot(proj)
    status, out, err = run(capsys, command)
    assert status == 2 and code in codes(err), err
    assert "hunter2" not in out + err
    assert snapshot(outside) == before and snapshot(proj) == inside


@pytest.mark.parametrize("kind", ["fifo", "large", "directory"])
def test_sources_are_bounded_regular_files(world, capsys, kind):
    proj, _ = world
    source = proj / "src" / "special.py"
    if kind == "fifo":
        os.mkfifo(source)  # reading it would block forever
    elif kind == "large":
        source.write_text("X = 1\n" * (files.MAX_BYTES // 6 + 10))
    else:
        source.mkdir()
    configure(proj, '"src/special.py::f" = "src/special_grad.py"')
    status, _, err = run(capsys, "sync")
    assert status == 2 and codes(err) & {"not-a-regular-file", "file-too-large", "file-not-found"}, err
    status, _, err = run(capsys, "grad", "src/special.py::f")
    assert status == 2 and codes(err) & {"not-a-regular-file", "file-too-large", "file-not-found"}, err
    assert not (proj / "src" / "special_grad.py").exists()


def test_grad_of_a_device_is_refused(capsys):
    status, _, err = run(capsys, "grad", "/dev/zero::f")
    assert status == 2 and "[not-a-regular-file]" in err


# ------------------------------------------------------------------------------------------------------------
# 4. Header injection: nothing from outside becomes code
# ------------------------------------------------------------------------------------------------------------
def test_a_newline_in_a_source_path_is_refused(world, capsys):
    proj, _ = world
    evil = "src/m\nimport os; os.system('touch MARKER')\n.py"
    (proj / evil).write_text(MODEL)
    configure(proj, f'"{evil.encode("unicode_escape").decode()}::f" = "src/evil_grad.py"')
    status, _, err = run(capsys, "sync")
    assert status == 2 and "[bad-path]" in err and "\\n" in err
    status, _, err = run(capsys, "grad", f"{evil}::f")
    assert status == 2 and "[bad-path]" in err
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", "src/out\nimport os.py")
    assert status == 2 and "[bad-path]" in err
    assert not (proj / "MARKER").exists() and sorted(os.listdir(proj / "src")) == sorted(["model.py", evil[4:]])


LINE_BREAKERS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\u202e"]


@pytest.mark.parametrize("breaker", LINE_BREAKERS, ids=[repr(b) for b in LINE_BREAKERS])
def test_generated_headers_and_comments_are_inert(breaker):
    """emit is safe by itself: whatever a path or a quoted line holds, it stays inside its comment."""
    path = f"m{breaker}import os{breaker}os.system('touch MARKER'){breaker}.py"
    text = s2sad.generate(MODEL, path, "f")
    tree = ast.parse(text)
    assert [type(s).__name__ for s in tree.body] == ["Import", "FunctionDef"]
    assert "os.system" in text.splitlines()[0]  # escaped, inside the first comment line
    assert all(ch not in text for ch in breaker if ch != "\n")
    assert len(text.splitlines()) == len(text.split("\n")) - 1  # no line break but "\n" (str.splitlines agrees)
    assert emit.format_source(text) == text
    assert all(ch not in emit.inert(f"x{breaker}y") for ch in breaker)


@pytest.mark.parametrize("breaker", LINE_BREAKERS, ids=[repr(b) for b in LINE_BREAKERS])
def test_a_quoted_source_line_cannot_leave_its_comment(breaker):
    """The reverse pass quotes each source statement in a comment; whatever the frontend hands over, the
    comment stays one line for Python, black and str.splitlines alike."""
    from s2sad import ir

    out: list[str] = []
    emit._statement(ir.Comment(f"y = x * x  # a{breaker}import os{breaker}os.system('x')"), None, 1, out)
    module = "def f(x):\n" + "\n".join(out) + "\n    return x\n"
    assert all(ch not in module for ch in breaker if ch != "\n") and len(module.splitlines()) == 3
    tree = ast.parse(emit.format_source(module))
    assert [type(s).__name__ for s in tree.body] == ["FunctionDef"] and len(tree.body[0].body) == 1


@pytest.mark.parametrize("breaker", ["\u202e", "\u2066"])
def test_a_bidi_control_in_a_trailing_comment_is_escaped_in_the_output(breaker):
    text = s2sad.generate(f"def f(x):\n    y = x * x  # a{breaker}b\n    return y * x\n", "m.py", "f")
    assert breaker not in text and f"# a\\u{ord(breaker):04x}b" in text


# ------------------------------------------------------------------------------------------------------------
# 5. Destructive writes
# ------------------------------------------------------------------------------------------------------------
def test_grad_output_to_dev_null_is_refused(world, capsys):
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", "/dev/null")
    assert status == 2 and "[bad-output]" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("kind", ["symlink", "read-only", "fifo", "directory", "source", "missing-folder"])
def test_grad_output_that_must_not_be_written(world, capsys, kind):
    proj, outside = world
    out = proj / "src" / "out.py"
    if kind == "symlink":
        out.symlink_to(outside / "secret.py")
    elif kind == "read-only":
        out.write_text("# keep\n")
        out.chmod(0o444)
    elif kind == "fifo":
        os.mkfifo(out)
    elif kind == "directory":
        out.mkdir()
    elif kind == "source":
        out = proj / "src" / "model.py"
    else:
        out = proj / "src" / "nope" / "out.py"
    before, outside_before = snapshot(proj), snapshot(outside)
    if kind == "read-only" and os.access(out, os.W_OK):
        pytest.skip("running as root: a read-only file is writable")
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", out)
    assert status == 2 and "[bad-output]" in err, err
    assert snapshot(proj) == before and snapshot(outside) == outside_before


def test_grad_output_keeps_the_mode_of_an_existing_file_and_new_files_follow_the_umask(world, capsys):
    proj, _ = world
    existing = proj / "src" / "old.py"
    existing.write_text("# old\n")
    existing.chmod(0o640)
    assert run(capsys, "grad", "src/model.py::f", "-o", existing)[0] == 0
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640 and "def grad_f" in existing.read_text()
    previous = os.umask(0o027)
    try:
        assert run(capsys, "grad", "src/model.py::f", "-o", "src/new.py")[0] == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((proj / "src" / "new.py").stat().st_mode) == 0o640  # 0666 & ~027


def test_sync_never_overwrites_an_input(world, capsys):
    proj, _ = world
    (proj / "src" / "other.py").write_text("def g(x):\n    return x * x\n")
    configure(proj, '"src/model.py::f" = "src/other.py"\n"src/other.py::g" = "src/g_grad.py"')
    before = snapshot(proj)
    status, _, err = run(capsys, "sync")
    assert status == 2 and "[bad-output]" in err and "input" in err
    assert snapshot(proj) == before
    configure(proj, '"src/model.py::f" = "pyproject.toml"')
    before = snapshot(proj)
    assert run(capsys, "sync")[0] == 2 and snapshot(proj) == before
    os.link(proj / "src" / "model.py", proj / "src" / "f_grad.py")  # a hard link to the source is the source
    configure(proj, '"src/model.py::f" = "src/f_grad.py"')
    before = snapshot(proj)
    status, _, err = run(capsys, "sync")
    assert status == 2 and "input" in err and snapshot(proj) == before
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", "src/f_grad.py")
    assert status == 2 and "input" in err and snapshot(proj) == before


def test_two_targets_with_one_output_are_a_config_diagnostic(world, capsys):
    proj, _ = world
    configure(proj, '"src/model.py::f" = "src/grad.py"\n"src/model.py::g" = "src/./grad.py"')
    for command in ("sync", "check"):
        status, _, err = run(capsys, command)
        first = LOCATED.search(err)
        assert status == 2 and first["code"] == "duplicate-output" and first["line"] in ("6", "7"), err
    assert not (proj / "src" / "grad.py").exists()


@pytest.mark.parametrize("problem", ["missing-folder", "failing-target", "symlink-output"])
def test_sync_is_all_or_nothing(world, capsys, problem):
    proj, outside = world
    second = "src/g_grad.py"
    if problem == "missing-folder":
        second = "src/missing/g_grad.py"
    elif problem == "failing-target":
        (proj / "src" / "model.py").write_text(MODEL.replace("return x * x * x", "return foo(x)"))
    else:
        (proj / "src" / "g_grad.py").symlink_to(outside / "secret.py")
    configure(proj, f'"src/model.py::f" = "src/f_grad.py"\n"src/model.py::g" = "{second}"')
    before, outside_before = snapshot(proj), snapshot(outside)
    status, _, err = run(capsys, "sync")
    assert status == 2 and "nothing was written" in err, err
    assert snapshot(proj) == before and snapshot(outside) == outside_before


@pytest.mark.parametrize("committed", ["latin-1", "directory"])
def test_an_unusable_committed_output_is_stale(world, capsys, committed):
    proj, _ = world
    configure(proj, '"src/model.py::f" = "src/f_grad.py"')
    out = proj / "src" / "f_grad.py"
    if committed == "latin-1":
        out.write_bytes("# caf\xe9\n".encode("latin-1"))
    else:
        out.mkdir()
        (out / "keep").write_text("x")
    status, _, err = run(capsys, "check")
    assert status == 1 and "stale" in err, err
    if committed == "latin-1":  # sync repairs a regular file
        assert run(capsys, "sync")[0] == 0 and run(capsys, "check")[0] == 0
    else:  # s2sad never deletes a folder: sync says so, and leaves it alone
        status, _, err = run(capsys, "sync")
        assert status == 2 and "is a directory" in err and (out / "keep").read_text() == "x"


# ------------------------------------------------------------------------------------------------------------
# 6. --at is a small grammar, never Python
# ------------------------------------------------------------------------------------------------------------
AT_ESCAPES = [
    "randn.__globals__['__builtins__']['__import__']('os').system('touch {marker}')",
    "().__class__.__base__.__subclasses__()",
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w')",
    "[1 for _ in ()]",
    "'text'",
    "zeros(100000, 100000)",
    "randn(n)",
    "9 ** 9 ** 9 ** 9",
]


@pytest.mark.parametrize("value", AT_ESCAPES)
@pytest.mark.parametrize("command", ["gradcheck", "explain"])
def test_at_values_outside_the_grammar_are_refused(world, capsys, value, command):
    proj, _ = world
    marker = proj / "MARKER"
    ran = proj / "RAN"
    (proj / "src" / "model.py").write_text(f"open({str(ran)!r}, 'w').close()\n" + MODEL)
    status, out, err = run(capsys, command, "src/model.py::f", "--at", "x=" + value.format(marker=marker))
    assert status == 2 and "[bad-point]" in err, err
    assert not marker.exists() and not ran.exists()  # gradcheck refuses before running the file


def test_at_values_inside_the_grammar_work(world, capsys):
    status, out, err = run(capsys, "gradcheck", "src/model.py::f", "--at", "x=-(1 + 2) * pi / 4 ** 2 + e")
    assert status == 0, err
    status, out, err = run(capsys, "explain", "src/model.py::g", "--at", "x=2 ** 0.5")
    assert status == 0 and "1.41421" in out, err


# ------------------------------------------------------------------------------------------------------------
# 7. Configuration robustness
# ------------------------------------------------------------------------------------------------------------
def test_a_broken_parent_pyproject_that_does_not_concern_s2sad_is_ignored(world, capsys):
    proj, _ = world
    (proj / "pyproject.toml").write_text("[project\nname = 'broken'\n")
    status, out, _ = run(capsys, "grad", "src/model.py::f")
    assert status == 0 and "def grad_f" in out


@pytest.mark.parametrize(
    "text, line",
    [
        ('[tool.s2sad.targets]\n"src/model.py::f" = \n', "2"),
        ('[tool.s2sad.rules]\n"lib.h" = { x = "g" \n', "2"),
        ('[tool.s2sad.rules]\n"lib.h" = { args = [1], x = "g" }\n', "2"),
        ("[tool.s2sad.targets]\n" + "a = " + "[" * 5000 + "]" * 5000 + "\n", None),
        (b"[tool.s2sad.targets]\n# caf\xe9\n", None),
    ],
    ids=["invalid-toml", "unterminated-table", "args-not-names", "nested-5000", "not-utf8"],
)
def test_bad_configuration_is_a_located_diagnostic(world, capsys, text, line):
    proj, _ = world
    if isinstance(text, bytes):
        (proj / "pyproject.toml").write_bytes(text)
    else:
        (proj / "pyproject.toml").write_text(text)
    for argv in (["check"], ["grad", "src/model.py::f"]):
        status, _, err = run(capsys, *argv)
        assert status == 2 and codes(err) & {"bad-config", "bad-rule"}, err
        if line is not None:
            assert LOCATED.search(err)["line"] == line, err


def test_check_from_a_subfolder_reads_helpers_relative_to_the_project(world, capsys, monkeypatch):
    proj, _ = world
    (proj / "src" / "lib.py").write_text("def h(x):\n    return x * x\n")
    (proj / "src" / "model.py").write_text("from lib import h\n\n\ndef f(x):\n    return h(x) * x\n")
    configure(proj, '"src/model.py::f" = "src/f_grad.py"')
    assert run(capsys, "sync")[0] == 0
    monkeypatch.chdir(proj / "src")
    assert run(capsys, "check")[0] == 0
    assert run(capsys, "check", "--config", "../pyproject.toml")[0] == 0
    assert os.getcwd() == str(proj / "src")


def test_explain_at_runs_no_module_but_math():
    from s2sad import lagrangian

    assert lagrangian.foreign_import("import math\nfrom math import exp\n") is None
    assert lagrangian.foreign_import("import math\nfrom mylib import scaled\n") == "mylib"
    assert lagrangian.foreign_import("import numpy as np\n") == "numpy"


def test_an_unreadable_config_given_explicitly_is_a_diagnostic(world, capsys):
    proj, _ = world
    os.mkfifo(proj / "fifo.toml")
    status, _, err = run(capsys, "check", "--config", proj / "fifo.toml")
    assert status == 2 and "[not-a-regular-file]" in err


# ------------------------------------------------------------------------------------------------------------
# Exit statuses: an exception s2sad did not anticipate is exit 3, "please report", no traceback
# ------------------------------------------------------------------------------------------------------------
def test_unanticipated_exception_is_exit_3(world, capsys, monkeypatch):
    import s2sad.cli

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(s2sad.cli, "generate", broken)
    status, out, err = run(capsys, "grad", "src/model.py::f")
    assert status == 3 and "internal error: KeyError" in err and "please report" in err
    monkeypatch.setenv("S2SAD_DEBUG", "1")
    assert main(["grad", "src/model.py::f"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_user_code_raising_in_gradcheck_is_the_users_problem(world, capsys):
    proj, _ = world
    (proj / "src" / "model.py").write_text("raise SystemExit(7)\n" + MODEL)
    status, _, err = run(capsys, "gradcheck", "src/model.py::f")
    assert status == 2 and "raised SystemExit" in err


def test_no_traceback_in_a_real_process(world):
    proj, _ = world
    (proj / "pyproject.toml").write_text("[tool.s2sad.targets]\na = " + "[" * 5000 + "]" * 5000 + "\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    result = subprocess.run([sys.executable, "-m", "s2sad", "check"], cwd=proj, capture_output=True, text=True, env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "[bad-config]" in result.stderr


# ------------------------------------------------------------------------------------------------------------
# Second adversarial round (issue 11): the configuration as input, --check, rule templates, paths, --at
# ------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["/proc/self/environ", "outside"])
@pytest.mark.parametrize("command", ["check", "sync", "grad"])
def test_a_symlinked_configuration_outside_its_folder_is_not_read(world, capsys, monkeypatch, target, command):
    proj, outside = world
    monkeypatch.setenv("S2SAD_SECRET_TOKEN", "hunter2")
    (outside / "pyproject.toml").write_text("[tool.s2sad.targets]\nSECRET = hunter2 'not toml'\n")
    (proj / "pyproject.toml").symlink_to(outside / "pyproject.toml" if target == "outside" else target)
    argv = ["grad", "src/model.py::f"] if command == "grad" else [command]
    status, out, err = run(capsys, *argv)
    assert "hunter2" not in out + err
    if command != "grad":
        assert status == 2 and codes(err) & {"bad-config", "outside-project"}, err


def test_a_quoted_source_line_is_bounded_and_escaped():
    from s2sad.diagnostics import Diagnostic, Span, render

    text = render(Diagnostic("p", Span(1, 3, 1, 4), "m", "c", None, "a = " + "x" * 100000 + "\x1b[2J"))
    assert max(len(line) for line in text.splitlines()) < 300 and "\x1b" not in text


def test_grad_check_never_reads_a_symlinked_output(world, capsys):
    proj, outside = world
    (proj / "src" / "out.py").symlink_to(outside / "secret.py")
    status, out, err = run(capsys, "grad", "src/model.py::f", "-o", "src/out.py", "--check")
    assert status == 2 and "[bad-output]" in err and "hunter2" not in out + err, out + err


def test_grad_check_compares_a_read_only_output(world, capsys, monkeypatch):
    assert run(capsys, "grad", "src/model.py::f", "-o", "src/out.py")[0] == 0
    monkeypatch.setattr(files.os, "access", lambda *args, **kwargs: False)  # as if read-only (root writes anyway)
    assert run(capsys, "grad", "src/model.py::f", "-o", "src/out.py", "--check")[0] == 0
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", "src/out.py")
    assert status == 2 and "read-only" in err


@pytest.mark.parametrize("name", ["operator.mul", "math.sin", "numpy.exp"])
def test_a_user_rule_cannot_replace_a_built_in_rule(world, capsys, name):
    proj, _ = world
    configure(proj, '"src/model.py::f" = "src/f_grad.py"', f'[tool.s2sad.rules]\n"{name}" = {{ a = "g", b = "g" }}\n')
    status, _, err = run(capsys, "check")
    first = LOCATED.search(err)
    assert status == 2 and first and first["code"] == "bad-rule" and first["line"] == "7", err
    assert "built-in rule" in err


BAD_TEMPLATES = {
    "ifexp-one": "s2sad.ifexp(g)",
    "ifexp-four": "s2sad.ifexp(g, x, 1, 2)",
    "s2sad-helper": "s2sad.scatter(g, x)",
    "getitem-one": "operator.getitem(g)",
    "getitem-three": "operator.getitem(x, 1, 2)",
    "pow-one": "operator.pow(g)",
    "add-three": "operator.add(g, x, 100)",
    "not-two": "operator.not_(g, x)",
    "sin-two": "math.sin(g, x)",
    "subscript-g": "g[0]",
    "subscript-number": "g * 2.0[0]",
    "subscript-ans": "ans[0] * g",
    "ufunc-method": "numpy.multiply.outer(g, x)",
    "nested-module": "numpy.random.rand(x)",
    "not-a-function": "numpy.nosuchthing(x)",
}


@pytest.mark.parametrize("name", BAD_TEMPLATES)
def test_a_template_call_must_fit_its_function(world, capsys, name):
    proj, _ = world
    (proj / "src" / "lib.py").write_text("def h(x):\n    return x\n")
    (proj / "src" / "model.py").write_text("from lib import h\n\n\ndef f(x):\n    return h(x) * x\n")
    template = BAD_TEMPLATES[name]
    configure(proj, '"src/model.py::f" = "src/f_grad.py"', f'[tool.s2sad.rules]\n"lib.h" = {{ x = "{template}" }}\n')
    for argv in (["check"], ["grad", "src/model.py::f"]):
        status, _, err = run(capsys, *argv)
        first = LOCATED.search(err)
        assert status == 2 and first and first["code"] == "bad-rule" and first["line"] == "7", (argv, err)
    assert not (proj / "src" / "f_grad.py").exists()


def test_templates_that_index_a_parameter_still_work(world, capsys):
    proj, _ = world
    (proj / "src" / "lib.py").write_text("def h(x, k):\n    return x\n")
    (proj / "src" / "model.py").write_text("from lib import h\n\n\ndef f(x):\n    return h(x, (2.0, 3.0)) * x\n")
    rule = '"lib.h" = { args = ["x", "k"], x = "g * k[0] * operator.add(x, 1) * numpy.tanh(x)" }'
    configure(proj, '"src/model.py::f" = "src/f_grad.py"', f"[tool.s2sad.rules]\n{rule}\n")
    status, _, err = run(capsys, "sync")
    assert status == 0, err


UNSAFE_NAMES = ["\udcffm.py", "m\u200b.py", "m\ufeff.py", "m\u2060.py", "m\U000e0041.py", "m\u3164.py", "\u115fm.py"]


@pytest.mark.parametrize("name", UNSAFE_NAMES, ids=[repr(n) for n in UNSAFE_NAMES])
def test_an_unsafe_character_in_a_path_is_refused(world, capsys, name):
    proj, _ = world
    status, _, err = run(capsys, "grad", f"{name}::f")
    assert status == 2 and "[bad-path]" in err, err
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", name)
    assert status == 2 and "[bad-path]" in err, err
    configure(proj, f'"src/model.py::f" = "{name.encode("unicode_escape", "surrogatepass").decode()}"')
    if "\udcff" not in name:
        status, _, err = run(capsys, "sync")
        assert status == 2 and "[bad-path]" in err, err


@pytest.mark.parametrize("folder", ["/proc/self", "/sys/kernel"])
def test_an_unwritable_output_folder_is_a_diagnostic(world, capsys, folder):
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", f"{folder}/new.py")
    assert status == 2 and "[bad-output]" in err, err


def test_a_failed_write_leaves_nothing_behind(world, capsys, monkeypatch):
    proj, _ = world

    def refuse(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", refuse)
    before = snapshot(proj)
    status, _, err = run(capsys, "grad", "src/model.py::f", "-o", "src/new.py")
    assert status == 2 and "[bad-output]" in err and "No space left" in err, err
    assert snapshot(proj) == before


@pytest.mark.parametrize("command", ["explain", "gradcheck"])
@pytest.mark.parametrize("value", ["((((9**64)**64)**64)**64)**64", "(9**64)**64 * (9**64)**64 * (9**64)**64"])
def test_huge_integers_in_at_are_refused(world, capsys, command, value):
    status, _, err = run(capsys, command, "src/model.py::g", "--at", f"x={value}")
    assert status == 2 and "[bad-point]" in err, err


def test_outputs_through_a_symlinked_folder_are_one_output(world, capsys):
    proj, _ = world
    (proj / "self").symlink_to(".", target_is_directory=True)
    configure(proj, '"src/model.py::f" = "o.py"\n"src/model.py::g" = "self/o.py"')
    status, _, err = run(capsys, "sync")
    assert status == 2 and "[duplicate-output]" in err, err
    assert not (proj / "o.py").exists()


def test_an_output_ending_in_a_separator_is_refused(world, capsys):
    proj, _ = world
    configure(proj, '"src/model.py::f" = "sub/"')
    (proj / "sub").mkdir()
    status, _, err = run(capsys, "sync")
    assert status == 2 and "[bad-path]" in err, err
    configure(proj, '"src/model.py::f" = "subfile/"')
    status, _, err = run(capsys, "sync")
    assert status == 2 and "[bad-path]" in err and not (proj / "subfile").exists(), err


def test_the_regenerate_command_is_shell_quoted():
    import shlex

    text = s2sad.generate(MODEL, "$(touch PWNED).py", "f", wrt=["x"], output="o ut.py")
    command = next(line for line in text.splitlines() if "Regenerate with:" in line).split("Regenerate with: ")[1]
    assert shlex.split(command) == ["s2sad", "grad", "$(touch PWNED).py::f", "--wrt", "x", "-o", "o ut.py"]
    plain = s2sad.generate(MODEL, "src/model.py", "f", output="src/model_grad.py")
    assert "# Regenerate with: s2sad grad src/model.py::f -o src/model_grad.py\n" in plain


def test_parameter_names_are_nfkc_normalised(world, capsys):
    status, out, err = run(capsys, "explain", "src/model.py::g", "--at", "\U0001d431=2", "--wrt", "\U0001d431")
    assert status == 0 and "12" in out, err
    status, out, err = run(capsys, "gradcheck", "src/model.py::g", "--at", "\U0001d431=2")
    assert status == 0, err
    assert s2sad.generate(MODEL, "m.py", "g", wrt=["\U0001d431"]) == s2sad.generate(MODEL, "m.py", "g", wrt=["x"])
