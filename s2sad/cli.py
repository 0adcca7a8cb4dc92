"""The command line: ``s2sad grad``, ``s2sad sync`` and ``s2sad check``.

None of them imports or runs the user's code: they parse it. Exit status: 0 success; 1 a check found a
generated file stale or missing; 2 bad input (diagnostics on stderr, nothing written); 3 an internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .api import generate
from .diagnostics import Diagnostic, InternalError, S2sadError, render
from .frontend import read_source
from .project import Result, Target, diff, find_config, load_targets, run, split_target, write_atomically

__all__ = ["main"]

EXIT_OK, EXIT_STALE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

_CONFIG_HELP = """\
targets come from pyproject.toml:

  [tool.s2sad.targets]
  "src/model.py::loss" = "src/model_grad.py"
  "src/model.py::energy" = { output = "src/energy_grad.py", wrt = ["x", "y"] }

paths are relative to the folder of pyproject.toml."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2sad",
        description="Source-to-source reverse-mode automatic differentiation for Python: "
        "readable gradient modules you can commit and review.",
        epilog="s2sad reads your files; it never imports or runs them. 'COMMAND --help' for details.",
    )
    parser.add_argument("--version", action="version", version=f"s2sad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    grad = commands.add_parser(
        "grad",
        help="print or write the gradient module of one function",
        description="Generate the reverse-mode gradient of a function as a readable Python module.",
        epilog="example: s2sad grad examples/domke.py::f -o examples/domke_grad.py",
    )
    grad.add_argument("target", metavar="PATH::NAME", help="the file and the name of a top-level function")
    grad.add_argument("-o", "--output", metavar="OUT", help="write the module here (atomically) instead of stdout")
    grad.add_argument(
        "--wrt",
        metavar="X,Y",
        help="the parameters to differentiate, comma-separated (default: all that the result depends on)",
    )
    grad.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and print a diff if OUT is missing or differs from what would be generated",
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


def _regenerate(t: Target) -> str:
    wrt = f" --wrt {','.join(t.wrt)}" if t.wrt else ""
    return f"s2sad grad {t.label}{wrt} -o {t.output}"


def _show_stale(results: list[Result], hint: str | None = None) -> int:
    """Print a diff for each stale or missing output; the exit status of a check."""
    stale = [r for r in results if not r.fresh]
    for r in stale:
        sys.stdout.write(diff(r))
        state = "missing" if r.committed is None else "stale"
        print(f"{r.target.output}: {state}; run: {hint or _regenerate(r.target)}", file=sys.stderr)
    return EXIT_STALE if stale else EXIT_OK


def _grad(args: argparse.Namespace) -> int:
    path, name = split_target(args.target)
    wrt = tuple(w.strip() for w in args.wrt.split(",") if w.strip()) if args.wrt is not None else None
    if args.check and not args.output:
        raise S2sadError([Diagnostic(args.target, None, "--check needs -o OUT", "bad-arguments")])
    text = generate(read_source(path), path, name, wrt=wrt, output=args.output)
    if args.check:
        committed = Path(args.output).read_text(encoding="utf-8") if Path(args.output).exists() else None
        return _show_stale([Result(Target(path, name, args.output, wrt), text, committed)])
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _project(args: argparse.Namespace) -> int:
    config = Path(args.config) if args.config else find_config(Path.cwd())
    root = config.parent
    results = run(root, load_targets(config))
    failed = [r for r in results if r.generated is None]
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
    for r in results:
        if not r.fresh:
            assert r.generated is not None
            write_atomically(root / r.target.output, r.generated)
            print(f"wrote {r.target.output}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _grad(args) if args.command == "grad" else _project(args)
    except S2sadError as err:
        _report(err.diagnostics)
        return EXIT_USAGE
    except InternalError as err:
        print(f"s2sad: {err}", file=sys.stderr)
        return EXIT_INTERNAL
