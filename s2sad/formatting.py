"""Formatting the generated module with black, without making black read the lines it would leave alone.

Black formats each logical line on its own (given its indentation) and decides blank lines from the kinds of
the lines around them. Most lines of a generated function are one-line assignments black writes exactly as
``ast.unparse`` does (``c_1 = sin(b_1)``, ``a_bar += d_bar * 0.5``) and comments copied from the user's lines;
at 10,000 statements black spends seconds confirming that. So the emitter hands over each function body's
lines, and every run of such lines (two or more, one indentation, starting and ending with an assignment) is
held out: black formats the module with one short assignment in the run's place, and the run is put back
where black left that line. The result is byte-identical to black's on the whole text: a line is held out only
when black would print it unchanged (see :func:`stable`), and the test suite checks every module it generates
against black itself (``VERIFY``, set by ``tests/conftest.py``). Anything unexpected falls back to black on the
whole text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["format_module", "stable", "VERIFY"]

#: Tests set this: every module is formatted both ways and must be the same (else an AssertionError).
VERIFY = False
_LINE_LENGTH = 88  #: black's default (tests/test_formatting.py checks it)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
#: ``a = ...``, ``a, b = ...``, ``a += ...``, ``a -= ...`` and ``stack.append(a)``, all on one line
_STATEMENT = re.compile(rf"(?:{_NAME}(?:, {_NAME})* (?:=|\+=|-=) (?!\()|{_NAME}\.append\({_NAME}\)$)")
#: what may follow: names, plain numbers, calls, subscripts, attributes and binary operators spaced as
#: ast.unparse and black both space them (no strings, slices, lambdas, dictionaries, stars or backslashes)
_CHARACTERS = re.compile(r"[A-Za-z0-9_.,()\[\] +\-*/@%<>=!]*")
#: what black writes differently or may: powers (hugged), trailing commas (magic), unpacking, unary chains
#: and spacing ast.unparse never writes (black's): doubled, trailing, inside brackets, before a call or a dot
_AVOID = re.compile(r"\*\*|,[)\]]|[(\[,] ?\*|[-+] ?[-+](?![ =])|[-+][-+]|  | $|[(\[] | [)\],]|\w [(\[]| \.|\. ")
#: _AVOID's alternatives that are not plain text, each looked for only where the text holds its characters:
#: :func:`_avoided` is ``_AVOID.search`` (the test suite checks it), a third of its time on generated lines
_STAR = re.compile(r"[(\[,] ?\*")
_SIGNS = re.compile(r"[-+] ?[-+](?![ =])|[-+][-+]")
_SPACED = re.compile(r"\w [(\[]")
_NUMBER = re.compile(r"(?<![\w.])\d[\w.]*(?:(?<=[eE])[+-]\d+)?")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-\d+)?")
_KEYWORDS = frozenset({"import", "from", "return", "del", "assert", "raise", "global", "nonlocal", "print"})
#: a comment black leaves alone: '# ' and text, no trailing space, nothing black reads as a directive
_COMMENT = re.compile(r"# \S(?:.*\S)?")
_DIRECTIVE = re.compile(r"fmt|yapf|type\s*:", re.IGNORECASE)


def stable(line: str) -> bool:
    """Whether ``line`` (one logical line, with its indentation) is an assignment black prints unchanged."""
    code = line.lstrip(" ")
    if len(line) > _LINE_LENGTH or not line.isascii() or not _STATEMENT.match(code):
        return False
    if code.split(" ", 1)[0].split(",")[0] in _KEYWORDS or not _CHARACTERS.fullmatch(code):
        return False
    if _avoided(code) or code.count("(") != code.count(")") or code.count("[") != code.count("]"):
        return False
    return all(_PLAIN_NUMBER.fullmatch(n) for n in _NUMBER.findall(code))


def _avoided(code: str) -> bool:
    """Whether ``_AVOID`` finds something in ``code`` (one line, no newline)."""
    return (
        "**" in code
        or ",)" in code
        or ",]" in code
        or "  " in code
        or code.endswith(" ")
        or "( " in code
        or "[ " in code
        or " )" in code
        or " ]" in code
        or " ," in code
        or " ." in code
        or ". " in code
        or ("*" in code and _STAR.search(code) is not None)
        or (("+" in code or "-" in code) and _SIGNS.search(code) is not None)
        or ((" (" in code or " [" in code) and _SPACED.search(code) is not None)
    )


def _comment(line: str) -> bool:
    code = line.lstrip(" ")
    return bool(_COMMENT.fullmatch(code)) and not _DIRECTIVE.search(code)


def hold_out(body: Sequence[str], held: list[list[str]], prefix: str) -> list[str]:
    """``body`` (one function's lines, each one logical line) with every run of stable lines replaced by one
    placeholder assignment ``{prefix}{k} = 0``; the runs are appended to ``held`` (``k`` is the index)."""
    out: list[str] = []
    k = 0
    while k < len(body):
        line = body[k]
        if not stable(line):
            out.append(line)
            k += 1
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        end = k + 1
        last = k  # the run ends with an assignment: a comment before a dedent is black's to place
        while end < len(body) and body[end][: len(indent) + 1].lstrip(" ") and body[end].startswith(indent):
            if stable(body[end]):
                last = end
            elif not _comment(body[end]):
                break
            end += 1
        if last == k:
            out.append(line)
            k += 1
            continue
        out.append(f"{indent}{prefix}{len(held)} = 0")
        held.append(list(body[k : last + 1]))
        k = last + 1
    return out


def placeholder_prefix(text: str) -> str:
    """A name prefix that appears nowhere in ``text``."""
    prefix = "_s2sad_held_"
    while prefix in text:
        prefix += "_"
    return prefix


def _black(text: str) -> str:
    import black  # imported when a module is generated, not with s2sad (the cache's hits need no black)

    return black.format_str(text, mode=black.Mode())


def format_module(text: str, held: Sequence[Sequence[str]] = (), prefix: str = "") -> str:
    """Black's formatting of ``text`` with the ``held`` runs in their placeholders' places."""
    if not held:
        return _black(text)
    whole = _put_back(text, held, prefix)
    formatted = _put_back(_black(text), held, prefix) if whole is not None else None
    if formatted is None:  # a placeholder black moved or changed: black on everything
        return _black(whole if whole is not None else text)
    if VERIFY:
        expected = _black(whole)
        assert formatted == expected, "holding stable lines out of black changed its output"
    return formatted


def _put_back(text: str, held: Sequence[Sequence[str]], prefix: str) -> str | None:
    """``text`` with each placeholder line replaced by its run; None unless each is found once, as written."""
    lines = text.split("\n")
    out: list[str] = []
    found = 0
    for line in lines:
        code = line.lstrip(" ")
        if code.startswith(prefix):
            number = code[len(prefix) :].split(" ", 1)[0]
            if not number.isdigit() or int(number) != found or code != f"{prefix}{number} = 0":
                return None
            run = held[found]
            if not run[0].startswith(line[: len(line) - len(code)]) or run[0][len(line) - len(code)] == " ":
                return None  # black re-indented the placeholder: not the run's indentation
            out.extend(run)
            found += 1
        else:
            out.append(line)
    return "\n".join(out) if found == len(held) else None
