"""The command line: ``s2sad grad PATH::NAME [-o OUT] [--wrt x,y] [--check]``.

``grad`` only parses the user's file; it never imports or runs it. Exit status: 0 success, 1 a ``--check``
found the output stale, 2 bad input (diagnostics on stderr, nothing written), 3 an internal error.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import tempfile
from collections.abc import Sequence

from . import __version__
from .api import generate
from .diagnostics import Diagnostic, InternalError, S2sadError, render
from .frontend import read_source

__all__ = ["main"]

EXIT_OK, EXIT_STALE, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="s2sad",
        description="Source-to-source reverse-mode automatic differentiation for Python.",
        epilog="s2sad reads your file; it never imports or runs it.",
    )
    parser.add_argument("--version", action="version", version=f"s2sad {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    grad = commands.add_parser(
        "grad",
        help="print or write the gradient module of a function",
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
        help="do not write: exit 1 and print a diff if OUT is missing or differs from what would be generated",
    )
    return parser


def _command(args: argparse.Namespace, path: str, name: str) -> str:
    parts = ["s2sad grad", f"{path}::{name}"]
    if args.wrt:
        parts.append(f"--wrt {args.wrt}")
    if args.output:
        parts.append(f"-o {args.output}")
    return " ".join(parts)


def _split_target(target: str) -> tuple[str, str]:
    path, sep, name = target.rpartition("::")
    if not sep or not path or not name.isidentifier():
        raise S2sadError(
            [
                Diagnostic(
                    target,
                    None,
                    "the target must be PATH::NAME",
                    "bad-target",
                    "for example: s2sad grad examples/domke.py::f",
                )
            ]
        )
    return path, name


def write_atomically(path: str, text: str) -> None:
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


def _grad(args: argparse.Namespace) -> int:
    path, name = _split_target(args.target)
    wrt = [w.strip() for w in args.wrt.split(",") if w.strip()] if args.wrt is not None else None
    source = read_source(path)
    text = generate(source, path, name, wrt=wrt, command=_command(args, path, name))
    if args.check:
        if not args.output:
            raise S2sadError([Diagnostic(args.target, None, "--check needs -o OUT", "bad-arguments")])
        try:
            with open(args.output, encoding="utf-8") as fh:
                current = fh.read()
        except FileNotFoundError:
            print(f"{args.output}: missing; run: {_command(args, path, name)}", file=sys.stderr)
            return EXIT_STALE
        if current == text:
            return EXIT_OK
        diff = difflib.unified_diff(
            current.splitlines(True), text.splitlines(True), f"{args.output} (committed)", f"{args.output} (generated)"
        )
        sys.stdout.writelines(diff)
        print(f"{args.output}: stale; run: {_command(args, path, name)}", file=sys.stderr)
        return EXIT_STALE
    if args.output:
        write_atomically(args.output, text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "grad":
            return _grad(args)
        raise AssertionError(args.command)
    except S2sadError as err:
        for d in err.diagnostics:
            print(render(d), file=sys.stderr)
        count = len(err.diagnostics)
        if count > 1:
            print(f"found {count} errors", file=sys.stderr)
        return EXIT_USAGE
    except InternalError as err:
        print(f"s2sad: {err}", file=sys.stderr)
        return EXIT_INTERNAL
