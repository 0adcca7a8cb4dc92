"""The hygiene fuzzer: random programs whose identifiers are the names s2sad generates, builtins and imported
names (see ``hygiene_programs.py``), each differentiated and compared with central finite differences.

Seeded; ``S2SAD_HYGIENE_PROGRAMS=3000`` raises the count (the offline sweep: ``python tests/hygiene_programs.py
3000`` prints a summary).
"""

import os

import pytest
from hygiene_programs import check

COUNT = int(os.environ.get("S2SAD_HYGIENE_PROGRAMS", "50"))


@pytest.mark.parametrize("arrays", [False, True], ids=["scalar", "numpy"])
@pytest.mark.parametrize("seed", range(COUNT))
def test_hygiene_program(seed: int, arrays: bool) -> None:
    status, report = check(seed, arrays)
    if status == "skip":
        pytest.skip(report)
    assert status == "ok", report
