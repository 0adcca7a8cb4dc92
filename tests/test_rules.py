"""Every entry of the rule table, checked against central finite differences by iterating the table:
adding a primitive to ``s2sad/rules.py`` adds its test here."""

import math

import pytest

from gradcheck import check_against_fd
from s2sad import S2sadError, generate
from s2sad.rules import RULES, parse_template, TemplateError

_SYNTAX = {
    "operator.add": "{0} + {1}",
    "operator.sub": "{0} - {1}",
    "operator.mul": "{0} * {1}",
    "operator.truediv": "{0} / {1}",
    "operator.pow": "{0} ** {1}",
    "operator.mod": "{0} % {1}",
    "operator.neg": "-{0}",
    "operator.pos": "+{0}",
}
# Points inside each function's domain, away from kinks: defaults are 0.7 and 1.3.
_POINTS = {
    "math.acosh": (1.7,),
    "math.log": (2.5, 3.0),
    "operator.mod": (3.7, 1.3),
    "builtins.max": (1.7, 1.3),
    "builtins.abs": (-0.7,),
    "math.fabs": (-0.7,),
}


def _differentiable_rules():
    """The scalar rules; NumPy's are checked on arrays in tests/test_numpy.py (the families of issue 14, and
    scipy.special's, in tests/test_library_rules.py), a tuple's run-time index (``s2sad.select``) in
    tests/test_soundness_values.py."""
    return [
        r
        for r in RULES.values()
        if r.adjoints
        and not r.fn.startswith(("numpy.", "s2sad.", "scipy."))
        and r.fn != "operator.matmul"
        and r.fn != "operator.getitem"
        and r.fn != "builtins.sum"  # of a list: tests/test_lists.py
    ]


def _source(rule):
    params = [f"a{i}" for i in range(len(rule.params))]
    if rule.fn in _SYNTAX:
        expr = _SYNTAX[rule.fn].format(*params)
    else:
        module, name = rule.fn.rsplit(".", 1)
        expr = f"{name if module == 'builtins' else rule.fn}({', '.join(params)})"
    return f"import math\n\n\ndef f({', '.join(params)}):\n    return {expr}\n"


def _run(source, name):
    namespace = {}
    exec(compile(source, "<rule>", "exec"), namespace)
    return namespace[name]


@pytest.mark.parametrize("rule", _differentiable_rules(), ids=lambda r: f"{r.fn}/{len(r.params)}")
def test_rule_matches_finite_differences(rule):
    source = _source(rule)
    f = _run(source, "f")
    wrt = [f"a{i}" for i, p in enumerate(rule.params) if p in rule.adjoints]
    df = _run(generate(source, "rule.py", "f", wrt=wrt), "grad_f")
    point = _POINTS.get(rule.fn, (0.7, 1.3)[: len(rule.params)])
    if rule.fn == "math.log" and len(rule.params) == 1:
        point = (2.5,)
    indices = [i for i, p in enumerate(rule.params) if p in rule.adjoints]
    check_against_fd(f, df, point, indices)


def test_every_rule_has_a_differentiable_argument_or_is_declared_otherwise():
    for rule in RULES.values():
        assert rule.adjoints or rule.kind in ("nondiff", "discrete"), rule.fn


def test_templates_are_validated_when_parsed():
    with pytest.raises(TemplateError, match="unknown name"):
        parse_template("g * y", frozenset({"g", "x"}))
    with pytest.raises(TemplateError, match="does not parse"):
        parse_template("g *", frozenset({"g"}))
    with pytest.raises(TemplateError, match="qualified"):
        parse_template("g * os.getpid(x)", frozenset({"g", "x"}))


def test_discrete_functions_of_differentiated_values_are_errors():
    source = "def f(x):\n    return int(x) * x\n"
    with pytest.raises(S2sadError) as err:
        generate(source, "d.py", "f")
    assert err.value.diagnostics[0].code == "discrete-on-differentiated"


def test_comparisons_are_fine_in_conditions_and_carry_no_derivative():
    source = "def f(x):\n    y = x * (x > 0)\n    return y\n"
    df = _run(generate(source, "c.py", "f"), "grad_f")
    assert df(2.0) == 1.0 and df(-2.0) == 0.0


def test_kinks_follow_the_documented_choice():
    source = "import math\n\n\ndef f(x, y):\n    return abs(x) + max(x, y) + math.fabs(y)\n"
    df = _run(generate(source, "k.py", "f"), "grad_f")
    assert df(0.0, 0.0) == (1.0, 0.0)  # abs'(0) = 0; a tie in max goes to the first argument
    assert math.isclose(df(-1.0, 2.0)[0], -1.0)


def _parsed_family_entries():  # type: ignore[no-untyped-def]
    """The rules of np.array([...]), s2sad.select and np.concatenate and kin, each adjoint parsed from its
    text as the table once did (rules_numpy fills a template parsed once per family instead)."""
    joined = [
        ("numpy.concatenate", "s2sad.concatenate_adjoint(g, {k}, axis, {xs})", ", axis=0"),
        ("numpy.stack", "numpy.take(g, {k}, axis)", ", axis=0"),
        ("numpy.hstack", "s2sad.hstack_adjoint(g, {k}, {xs})", ""),
        ("numpy.vstack", "s2sad.vstack_adjoint(g, {k}, {xs})", ""),
        ("numpy.column_stack", "s2sad.column_stack_adjoint(g, {k}, {xs})", ""),
    ]
    for n in range(1, 17):
        xs = ", ".join(f"x{k}" for k in range(n))
        allowed = frozenset(f"x{k}" for k in range(n)) | {"g", "ans"}
        yield ("numpy.array", n), {f"x{k}": parse_template(f"g[{k}]", allowed) for k in range(n)}
        select = {f"x{k}": f"g if index == {k} or index == {k - n} else 0.0 * x{k}" for k in range(n)}
        yield ("s2sad.select", n + 1), {p: parse_template(t, allowed | {"index"}) for p, t in select.items()}
        for fn, adjoint, keywords in joined:
            arity = n + (1 if keywords else 0)
            templates = {f"x{k}": adjoint.format(k=k, xs=xs) for k in range(n)}
            yield (fn, arity), {p: parse_template(t, allowed | {"axis"}) for p, t in templates.items()}


def test_family_entries_are_their_templates_parsed() -> None:
    entries = list(_parsed_family_entries())
    assert len(entries) == 16 * 7
    for key, adjoints in entries:
        assert dict(RULES[key].adjoints) == adjoints, key
