"""The 'network' b1 = 2a, b2 = 3a + b1, c = 4 b1 + 5 b2: the partial dc/db1 is 4, the total is 9; dc/da = 33."""


def c(a):
    b1 = 2 * a
    b2 = 3 * a + b1
    return 4 * b1 + 5 * b2
