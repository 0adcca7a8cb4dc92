"""Single-line edits of tests/data/model30.py and how many lines of the generated gradient each one changes."""

from __future__ import annotations

import ast
import difflib
import re
from pathlib import Path

from s2sad import generate

SOURCE = (Path(__file__).resolve().parent / "data" / "model30.py").read_text()

#: name -> (old line, new line, identifiers the edit may add or remove in the output)
EDITS: dict[str, tuple[str, str, str]] = {
    "change a constant": ("    reg = 0.01 * (w * w + b * b)", "    reg = 0.02 * (w * w + b * b)", r"0p0[12]"),
    "change an operator": ("    err = out - y", "    err = out + y", r"out_(minus|plus)_y"),
    "insert a statement": (
        "    loss = err * err",
        "    loss = err * err\n    loss = loss * 0.5",
        r"^loss(_1)?(_bar)?$|0p5",
    ),
    "rename a local variable": ("smooth", "softplus", r"smooth|softplus"),  # its definition and its use
    "add a parameter": ("def model(w, b, x, y, steps):", "def model(w, b, x, y, steps, unused=1.0):", r"unused"),
}


def changed_lines(before: str, after: str) -> int:
    """Lines changed, as a reviewer counts them: a replaced line counts once."""
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def identifiers(text: str) -> set[str]:
    return {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}


def measure() -> dict[str, tuple[int, set[str]]]:
    """For each edit: the changed lines, and the identifiers it added or removed that it had no reason to."""
    base = generate(SOURCE, "tests/data/model30.py", "model")
    out: dict[str, tuple[int, set[str]]] = {}
    for name, (old, new, allowed) in EDITS.items():
        edited_source = re.sub(rf"\b{old}\b", new, SOURCE) if old.isidentifier() else SOURCE.replace(old, new)
        assert edited_source != SOURCE and (old.isidentifier() or SOURCE.count(old) == 1), name
        edited = generate(edited_source, "tests/data/model30.py", "model")
        moved = identifiers(base) ^ identifiers(edited)
        unrelated = {n for n in moved if not re.search(allowed, n)}
        out[name] = (changed_lines(base, edited), unrelated)
    return out


if __name__ == "__main__":
    for name, (lines, unrelated) in measure().items():
        print(f"{name:28} {lines:3} lines changed  {sorted(unrelated) or ''}")
