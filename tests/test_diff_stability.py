"""A one-line edit of f changes only a few lines of the generated gradient (issue 5's measurement)."""

import statistics

from diffstability import EDITS, measure


def test_single_line_edits_change_few_lines_and_rename_nothing_unrelated():
    results = measure()
    assert set(results) == set(EDITS)
    report = "\n".join(f"{name}: {lines} lines, unrelated {sorted(u)}" for name, (lines, u) in results.items())
    assert statistics.median(lines for lines, _ in results.values()) <= 4, report
    assert all(not unrelated for _, unrelated in results.values()), report
    assert max(lines for lines, _ in results.values()) <= 8, report
