"""The command line: ``s2sad grad``, ``jvp``, ``vjp``, ``jacobian`` (one per row of :data:`s2sad.modes.MODES`),
``sync``, ``check``, ``explain`` and ``gradcheck``.

Only ``gradcheck`` runs the user's code (it must evaluate the function); the others parse it. Exit status:
0 success; 1 a check found a generated file stale or missing, or a gradient check failed; 2 bad input
(diagnostics on stderr, nothing written); 3 an internal error: any exception s2sad did not anticipate is
reported in one line ("please report"); ``S2SAD_DEBUG=1`` adds the traceback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import traceback
import unicodedata
from collections.abc import Sequence
from typing import NoReturn
from pathlib import Path

from . import __version__, files, point
from .api import explain, generate
from .pipeline import regenerate_command
from .config import rules_from
from .diagnostics import Diagnostic, InternalError, S2sadError, render
from .gradcheck import UserCodeError, run_gradcheck
from .modes import DEFAULT, MODES
from .project import Result, Target, diff, find_config, load_targets, run, split_target
from .source import read_source

__all__ = ["main"]

EXIT_OK, EXIT_STALE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
#: Where internal errors are reported (set to the issue tracker's URL where s2sad is hosted).
REPORT_TO = "the s2sad issue tracker"

_CONFIG_HELP = """\
targets come from pyproject.toml:

  [tool.s2sad.targets]
  "src/model.py::loss" = "src/model_grad.py"
  "src/model.py::energy" = { output = "src/energy_grad.py", wrt = ["x", "y"] }
  "src/camera.py::project" = { output = "src/camera_jacobian.py", mode = "jacobian" }

mode is grad (the default), jvp, vjp or jacobian; paths are relative to the folder of pyproject.toml."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2sad",
        description="Source-to-source reverse-mode automatic differentiation for Python: "
        "readable gradient modules you can commit and review.",
        epilog="s2sad reads your files; it never imports or runs them. 'COMMAND --help' for details.",
    )
    parser.add_argument("--version", action="version", version=f"s2sad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for mode in MODES.values():  # grad, jvp, vjp, jacobian: one parser each, from the table of modes
        sub = commands.add_parser(
            mode.name,
            help=mode.summary,
            description=mode.description,
            epilog=f"example: s2sad {mode.name} examples/domke.py::f -o examples/domke_{mode.name}.py",
        )
        sub.add_argument("target", metavar="PATH::NAME", help="the file and the name of a top-level function")
        sub.add_argument("-o", "--output", metavar="OUT", help="write the module here (atomically) instead of stdout")
        sub.add_argument("--wrt", metavar="X,Y", help=mode.wrt_help)
        sub.add_argument(
            "--check",
            action="store_true",
            help="write nothing; exit 1 and print a diff if OUT is missing or differs from what would be generated",
        )
    explain = commands.add_parser(
        "explain",
        help="print the function as constraints, its Lagrangian and the multiplier equations",
        description="Print the function as equality constraints, its Lagrangian, and the equations for the "
        "Lagrange multipliers (the adjoints) that the reverse pass solves by back-substitution. With --at, "
        "also the numeric linear system at that point, solved, beside the generated gradient.",
        epilog="without --at nothing is run; with --at s2sad evaluates the constraints itself (the IR, with the "
        "math module) and runs the generated gradient, never your file.",
    )
    explain.add_argument("target", metavar="PATH::NAME")
    explain.add_argument("--at", metavar="X=0.5,Y=2", help="a point: a number for each parameter")
    explain.add_argument("--wrt", metavar="X,Y", help="the parameters to differentiate")
    explain.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    check = commands.add_parser(
        "gradcheck",
        help="compare the generated gradient with finite differences (runs your code)",
        description="Compare the generated gradient with central finite differences along random directions "
        "and along each parameter; exit 1 on a mismatch. THIS RUNS YOUR CODE: the file is imported to "
        "evaluate the function.",
        epilog="--at values are numbers, pi, e, + - * / ** and parentheses, and randn, rand, zeros, ones with "
        "integer sizes (NumPy arrays when NumPy is installed, e.g. W=randn(3,4)); s2sad parses them itself, "
        "nothing is evaluated as Python. Parameters without a value get a reproducible random number in "
        "[0.5, 1.5) (--seed), or their default.",
    )
    check.add_argument("target", metavar="PATH::NAME")
    check.add_argument("--at", metavar="X=0.5,W=randn(3,4)", help="values for the parameters")
    check.add_argument("--wrt", metavar="X,Y", help="the parameters to differentiate")
    check.add_argument("--seed", type=int, default=0, help="seed for the point and the directions (default 0)")
    check.add_argument("--directions", type=int, default=3, help="random directions to test (default 3)")
    check.add_argument(
        "--mode",
        choices=tuple(MODES),
        default=DEFAULT,
        help=f"the module to check (default {DEFAULT}); hvp adds a table of symmetry rows, u·(H v) against v·(H u)",
    )
    for name, summary in (
        ("sync", "regenerate every target listed in pyproject.toml"),
        ("check", "exit 1 and print a diff for each generated file that is stale or missing"),
    ):
        sub = commands.add_parser(
            name,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=_CONFIG_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("--config", metavar="PYPROJECT", help="the pyproject.toml to use (default: the nearest one)")
    return parser


def _report(diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        print(render(d), file=sys.stderr)
    if len(diagnostics) > 1:
        print(f"found {len(diagnostics)} errors", file=sys.stderr)


def _show_stale(results: list[Result], hint: str | None = None) -> int:
    """Print a diff for each stale or missing output; the exit status of a check."""
    stale = [r for r in results if not r.fresh]
    for r in stale:
        sys.stdout.write(diff(r))
        state = f"stale ({r.unusable})" if r.unusable else "missing" if r.committed is None else "stale"
        print(
            f"{r.target.output}: {state}; run: {hint or regenerate_command(r.target.label, r.target.wrt, r.target.output)}",
            file=sys.stderr,
        )
    return EXIT_STALE if stale else EXIT_OK


def _wrt(text: str | None) -> tuple[str, ...] | None:
    """``--wrt x,y``: names NFKC-normalised, as Python normalises identifiers in source (``𝐱`` is ``x``)."""
    if text is None:
        return None
    return tuple(unicodedata.normalize("NFKC", w.strip()) for w in text.split(",") if w.strip())


def _safe_path(path: str, what: str) -> None:
    """A path that goes into a generated header: no control characters or line separators."""
    ch = files.unsafe_character(path)
    if ch is not None:
        raise S2sadError(
            [Diagnostic(files.shown(path), None, f"the {what} contains the unsafe character {ch!r}", "bad-path")]
        )


def _grad(args: argparse.Namespace) -> int:
    path, name = split_target(args.target)
    _safe_path(path, "source path")
    if args.output is not None:
        _safe_path(args.output, "output path")
    if args.check and not args.output:
        raise S2sadError([Diagnostic(args.target, None, "--check needs -o OUT", "bad-arguments")])
    with files.recording() as inputs:
        text = generate(read_source(path), path, name, wrt=_wrt(args.wrt), output=args.output, mode=args.command)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    problem = files.check_output(args.output, inputs, compare=args.check)
    if problem is not None:  # --check reads OUT only where it would write it: never through a symlink
        raise S2sadError([Diagnostic(files.shown(args.output), None, f"cannot write here: it {problem}", "bad-output")])
    if args.check:
        committed, unusable = _committed(args.output)
        hint = regenerate_command(args.target, _wrt(args.wrt), args.output, mode=args.command)
        return _show_stale(
            [Result(Target(path, name, args.output, _wrt(args.wrt), args.command), text, committed, (), unusable)],
            hint,
        )
    files.write_atomically(args.output, text)
    return EXIT_OK


def _committed(output: str) -> tuple[str | None, str | None]:
    """The text of a committed output for ``--check`` (None when missing), and why it cannot be compared."""
    if not os.path.lexists(output):
        return None, None
    try:
        data = files.read_bytes(output)
    except S2sadError as err:
        return None, err.diagnostics[0].message
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        return data.decode("utf-8", "replace"), "is not UTF-8"


def _project(args: argparse.Namespace) -> int:
    config = Path(args.config) if args.config else find_config(Path.cwd())
    root = config.parent
    targets = load_targets(config)
    rules_from(config)  # a bad rule is an error even when no target uses it
    results = run(root, targets, config, for_sync=args.command == "sync")
    failed = [r for r in results if r.diagnostics]
    for r in failed:
        _report(r.diagnostics)
    if args.command == "check":
        status = _show_stale([r for r in results if r.generated is not None], hint="s2sad sync")
        fresh = sum(r.fresh for r in results)
        print(f"s2sad: {fresh} of {len(results)} generated files are up to date", file=sys.stderr)
        return EXIT_USAGE if failed else status
    if failed:
        print(f"s2sad: {len(failed)} target(s) failed; nothing was written", file=sys.stderr)
        return EXIT_USAGE
    for r in results:  # every target generated and every output checked: now write
        if not r.fresh:
            assert r.generated is not None
            files.write_atomically(root / r.target.output, r.generated)
            print(f"wrote {r.target.output}", file=sys.stderr)
    return EXIT_OK


def _split_assignments(text: str) -> dict[str, str]:
    """``x=0.5,W=randn(3,4)`` -> {"x": "0.5", "W": "randn(3,4)"}: commas inside brackets do not split."""
    parts: list[str] = []
    depth, current = 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in parts)):
        name, sep, value = part.partition("=")
        if not sep or not name.strip().isidentifier():
            raise S2sadError([Diagnostic("--at", None, f"'{part}' is not NAME=VALUE", "bad-point")])
        out[unicodedata.normalize("NFKC", name.strip())] = value.strip()
    return out


def _explain(args: argparse.Namespace) -> int:
    path, name = split_target(args.target)
    at: dict[str, float] | None = None
    if args.at is not None:
        at = {key: point.number(key, value) for key, value in _split_assignments(args.at).items()}
    sys.stdout.write(explain(read_source(path), path, name, wrt=_wrt(args.wrt), at=at, fmt=args.format))
    return EXIT_OK


def _gradcheck(args: argparse.Namespace) -> int:
    path, name = split_target(args.target)
    source = read_source(path)
    at = _split_assignments(args.at or "")
    result = run_gradcheck(source, path, name, at, _wrt(args.wrt), args.seed, args.directions, mode=args.mode)
    print(result.report())
    return EXIT_OK if result.ok else EXIT_STALE


def entry() -> NoReturn:
    """The ``s2sad`` command. After a generating command, which runs no user code, the process ends without
    freeing the objects the generation made (about 0.2 s at 10,000 statements; mypy exits so for the same
    reason): every file s2sad writes is closed when its command returns, s2sad registers no exit handlers, and
    the standard streams are flushed here. Other commands (``gradcheck`` runs the user's code, which may rely
    on exit handlers) exit as usual."""
    argv = sys.argv[1:]
    code = main(argv)
    if not argv or argv[0] not in MODES:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: let Python report it as it always does
        sys.exit(code)
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # One generation allocates millions of objects (trees, IR) and next to no reference cycles: the cyclic
    # collector's passes over them find nothing, at ~6% of the time of a long program. It is paused for the
    # generating commands, which run no user code, and resumed after.
    paused = args.command in MODES and gc.isenabled()
    if paused:
        gc.disable()
    try:
        return _command(args)
    finally:
        if paused:
            gc.enable()


def _command(args: argparse.Namespace) -> int:
    commands = {**{m: _grad for m in MODES}, "explain": _explain, "gradcheck": _gradcheck}
    try:
        return commands.get(args.command, _project)(args)
    except S2sadError as err:
        _report(err.diagnostics)
        return EXIT_USAGE
    except UserCodeError as err:  # gradcheck ran the user's file, and it raised
        print(
            f"s2sad {args.command}: running {files.escape(args.target)} raised {files.escape(str(err))}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("s2sad: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # InternalError, and anything else s2sad did not anticipate
        return _internal(err)


def _internal(err: BaseException) -> int:
    """An exception s2sad did not anticipate: a bug of s2sad's own, reported in one line."""
    if isinstance(err, InternalError):
        message = str(err).splitlines()[0].removeprefix("internal error: ")
    else:
        message = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}".rstrip(": ")
    message = files.escape(message)
    print(f"s2sad: internal error: {message}; please report it at {REPORT_TO} with the input", file=sys.stderr)
    if os.environ.get("S2SAD_DEBUG"):
        traceback.print_exception(err, file=sys.stderr)
    else:
        print("s2sad: set S2SAD_DEBUG=1 to show the traceback", file=sys.stderr)
    return EXIT_INTERNAL
