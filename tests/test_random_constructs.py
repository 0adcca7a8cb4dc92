"""A seeded slice of the random programs with issue 13's later constructs (tests/sweep_programs.py runs as many
as asked): multi-value helpers, tuples passed to helpers, 'is None' defaults, generators, zip and enumerate
comprehensions, writes into list elements, and scalar programs in a module without NumPy."""

from __future__ import annotations

import pytest

from soundness import verdict
from sweep_programs import program_case


@pytest.mark.parametrize("seed", range(30))
def test_random_construct_program(seed: int, tmp_path) -> None:
    verdict(program_case(seed), tmp_path)
