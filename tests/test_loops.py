"""The background texts' loop, and facts about how loops and branches are reversed."""

import s2sad
from catalogue import background_loop, trip_count_from_len


def test_background_loop_gradients_are_exact():
    # for _ in range(3): x = x + c   =>   df/dc = 3, df/dx = 1
    assert s2sad.grad(background_loop)(0.5, 2.0) == (1.0, 3.0)


def test_len_of_a_list_parameter_is_a_trip_count_not_an_input():
    df = s2sad.grad(trip_count_from_len)
    assert abs(df(0.7, [0.0] * 3) - 1.1**3) < 1e-12
    assert "def grad_trip_count_from_len(x, xs):" in s2sad.grad_source(trip_count_from_len)


def test_zero_trips_leave_the_input_adjoint_untouched():
    def scaled(x, n):
        for i in range(n):
            x = x * 3.0
        return x * 2.0

    df = s2sad.grad(scaled)
    assert df(1.0, 0) == 2.0 and df(1.0, 2) == 18.0
