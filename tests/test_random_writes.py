"""A seeded slice of the random write programs (tests/sweep_writes.py runs as many as asked)."""

from __future__ import annotations

import pytest

from soundness import verdict
from sweep_writes import program_case


@pytest.mark.parametrize("seed", range(40))
def test_random_write_program(seed: int, tmp_path) -> None:
    verdict(program_case(seed), tmp_path)
