"""Offline sweep of programs combining helpers returning several values, loops with break/continue/while and
early returns (in helpers too), fixed-point-free checkpointed loops and tuple states (see
``tests/combined_programs.py``), each checked in every mode; the suite runs a seeded slice
(``tests/test_soundness_combined.py``).

    PYTHONPATH=$PWD:$PWD/tests python tests/sweep_combined.py [programs] [first seed]

Prints each program that is neither right nor refused with a located diagnostic, and a tally.
"""

from __future__ import annotations

import collections
import sys

from combined_programs import points, program
from shape_programs import check


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 200
    first = int(argv[1]) if len(argv) > 1 else 0
    tally: collections.Counter[str] = collections.Counter()
    for seed in range(first, first + count):
        p = program(seed)
        result = check(p.source, points(p, seed), p.modes)
        tally[result.verdict.split("\n")[0][:60]] += 1
        if result.verdict.startswith("BUG"):
            print(f"--- seed {seed}: {result.verdict}\n{p.source}\n{result.detail[:4000]}\n", flush=True)
    for verdict, n in tally.most_common():
        print(f"{n:6d}  {verdict}")
    return 1 if any(v.startswith("BUG") for v in tally) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
