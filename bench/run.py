"""Every benchmark of issue 12 in one command: the scalar programs, then the NumPy programs.

Run: python bench/run.py   (2-3 minutes; prints Markdown for bench/README.md). Options as for scalars.py
(--runs, --rounds, --target, --keep DIR, --no-tangent, --only CASES, --s2sad DIR: measure another
checkout, e.g. a branch's worktree, with this harness). Tangent's column needs its interpreter: once,
``bash bench/tangent_venv.sh`` (or TANGENT_PYTHON=/path/to/python3.7-with-tangent). Generation time is
bench/generation.py's.
"""

from __future__ import annotations

import common  # noqa: F401  (one thread, before NumPy)
import arrays
import harness
import scalars
from harness import Workspace


def main() -> None:
    opts = scalars.options(__doc__.splitlines()[0]).parse_args()
    harness.jax_setup()
    ws = Workspace(opts.keep)
    try:
        keys = scalars.only(opts)
        scalar_cases, array_cases = scalars.build(ws, keys), arrays.build(ws, keys)
        keys = [c.key for c in scalar_cases + array_cases if c.tangent]
        harness.check_all(scalar_cases + array_cases)
        times = harness.measure(scalar_cases + array_cases, opts.runs, opts.rounds, opts.target)
        tangent = None if opts.no_tangent else harness.measure_tangent(keys, opts.runs, opts.rounds, opts.target)
        print(harness.header(tangent) + "\n")
        if scalar_cases:
            print("### Scalar programs\n\n" + harness.table(scalar_cases, times, tangent) + "\n")
        if array_cases:
            print("### NumPy programs\n\n" + harness.table(array_cases, times, tangent))
    finally:
        ws.close()


if __name__ == "__main__":
    main()
