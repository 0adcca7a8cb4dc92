"""How long s2sad takes to generate a gradient module (frontend to black), median of 30 runs.

Run: python bench/generation.py
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from s2sad import generate  # noqa: E402

CASES = [
    ("examples/domke.py", "f"),
    ("examples/network.py", "c"),
    ("examples/loop.py", "g"),
    ("tests/catalogue.py", "several_statements"),
]


def main() -> None:
    print("| function | lines | generation (median of 30) |")
    print("|---|---|---|")
    for path, name in CASES:
        source = (ROOT / path).read_text()
        times = []
        for _ in range(30):
            start = time.perf_counter()
            generate(source, path, name)
            times.append(time.perf_counter() - start)
        print(
            f"| `{path}::{name}` | {len(source.splitlines())} in the file | {statistics.median(times) * 1e3:.0f} ms |"
        )


if __name__ == "__main__":
    main()
