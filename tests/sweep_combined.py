"""Offline sweep of programs combining helpers returning several values, loops with break/continue/while and
early returns (in helpers too), fixed-point-free checkpointed loops and tuple states (see
``tests/combined_programs.py``), each checked in every mode; the suite runs a seeded slice
(``tests/test_soundness_combined.py``).

    PYTHONPATH=$PWD:$PWD/tests python tests/sweep_combined.py [programs] [first seed] [--specialise]

Prints each program that is neither right nor refused with a located diagnostic, and a tally. With
``--specialise``: the random NumPy programs of ``tests/shape_programs.py`` through ``s2sad.grad(f,
specialise=True)`` instead, each called at six points (s a float, an np.float64 or a 0-d array; x and M of
sizes with 1s among them): one module per signature, each called at several sizes.
"""

from __future__ import annotations

import collections
import sys

import shape_programs
from combined_programs import points, program, specialised
from shape_programs import check


def main(argv: list[str]) -> int:
    special = "--specialise" in argv
    argv = [a for a in argv if a != "--specialise"]
    count = int(argv[0]) if argv else 200
    first = int(argv[1]) if len(argv) > 1 else 0
    tally: collections.Counter[str] = collections.Counter()
    for seed in range(first, first + count):
        if special:
            numpy_program = shape_programs.program(seed)
            source, verdict, detail = numpy_program.source, "", ""
            verdict = specialised(source, shape_programs.points(numpy_program, seed))
            verdict, _, detail = verdict.partition("\n")
        else:
            p = program(seed)
            result = check(p.source, points(p, seed), p.modes)
            source, verdict, detail = p.source, result.verdict, result.detail
        tally[verdict.split("\n")[0][:60]] += 1
        if verdict.startswith("BUG"):
            print(f"--- seed {seed}: {verdict}\n{source}\n{detail[:4000]}\n", flush=True)
    for verdict, n in tally.most_common():
        print(f"{n:6d}  {verdict}")
    return 1 if any(v.startswith("BUG") for v in tally) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
