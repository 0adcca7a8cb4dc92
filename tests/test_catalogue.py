"""Every catalogue function: the generated gradient equals central finite differences, and
``value_and_grad`` returns the function's own value."""

import math

import pytest

import s2sad
from catalogue import CASES
from gradcheck import check_against_fd


def _id(case):
    fn, args, _ = case
    return f"{fn.__name__}{args}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_gradient_matches_finite_differences(case):
    fn, args, wrt = case
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    df = s2sad.grad(fn, wrt=[names[i] for i in wrt])
    check_against_fd(fn, df, args, wrt)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_value_and_grad(case):
    fn, args, wrt = case
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    value, g = s2sad.value_and_grad(fn, wrt=[names[i] for i in wrt])(*args)
    assert math.isclose(value, fn(*args), rel_tol=1e-12, abs_tol=1e-12)
    expected = s2sad.grad(fn, wrt=[names[i] for i in wrt])(*args)
    assert g == expected
