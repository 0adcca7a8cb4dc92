"""The derivative rule table: one entry per primitive, keyed by ``(qualified name, number of arguments)``.

The entries live by family in :mod:`s2sad.rules_scalar` (operators, builtins, ``math``),
:mod:`s2sad.rules_numpy`, :mod:`s2sad.rules_special` (``scipy.special``) and :mod:`s2sad.rules_linalg`; how one
line reads (``vjp("math.sin(x)", x="g * math.cos(x)")``) and is checked is :mod:`s2sad.rule_templates`. This
module merges them into :data:`RULES`, checks that every function a template calls is known, and answers
lookups (with the user's rules of one generation on top: :func:`extended`) and the messages of calls without
a rule. ``tests/test_rules.py`` and ``tests/test_library_rules.py`` check every entry against central finite
differences by iterating the table, so adding a primitive is one line.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections import ChainMap
from collections.abc import Iterator, Mapping

from .ir import IFEXP, BoolOp, Call, Expr, LibraryCall
from .rule_templates import OPERATOR_SYMBOLS, Rule, TemplateError, discrete, nondiff, parse_template, vjp, zero
from .rules_linalg import LINALG
from .rules_numpy import NUMPY, NUMPY_REDUCTIONS, NUMPY_SHAPES, NUMPY_UFUNCS, TUPLES
from .rules_scalar import BUILTINS, MATH, OPERATORS
from .rules_special import SCIPY_SPECIAL

__all__ = [
    "Rule",
    "RULES",
    "lookup",
    "parse_template",
    "OPERATOR_SYMBOLS",
    "TemplateError",
    "extended",
    "library_message",
    "FAMILIES",
    "vjp",
    "nondiff",
    "zero",
    "discrete",
]


def _table(*groups: list[Rule]) -> dict[tuple[str, int], Rule]:
    table: dict[tuple[str, int], Rule] = {}
    for rule in (r for group in groups for r in group):
        key = (rule.fn, len(rule.params))
        if key in table:
            raise TemplateError(f"duplicate rule for {rule.fn} with {len(rule.params)} arguments")
        table[key] = rule
    for rule in table.values():  # every function a template calls must itself be known, so it can be emitted
        for template in rule.adjoints.values():
            for fn in _called(template):
                if fn.startswith(("math.", "numpy.")) and not any(k[0] == fn for k in table) and fn not in _PLAIN:
                    raise TemplateError(f"rule {rule.fn} calls {fn}, which the table does not know")
    return table


def _called(e: Expr) -> set[str]:
    if isinstance(e, Call):
        return {e.fn}.union(*(_called(a) for a in e.args)) if e.fn != IFEXP else set().union(*map(_called, e.args))
    if isinstance(e, BoolOp):
        return set().union(*(_called(v) for v in e.values))
    return set()


#: NumPy functions the templates call that are not primitives of differentiated programs themselves.
_PLAIN = {"numpy.expand_dims", "numpy.broadcast_to", "numpy.logical_and", "numpy.ravel", "numpy.take"}

#: The table by family, as the README lists it (:mod:`s2sad.rule_list` writes that list from here).
FAMILIES: dict[str, list[Rule]] = {
    "operators": OPERATORS,
    "builtins": BUILTINS,
    "math": MATH,
    "numpy": NUMPY,
    "numpy ufuncs": NUMPY_UFUNCS,
    "numpy reductions": NUMPY_REDUCTIONS,
    "numpy shapes": NUMPY_SHAPES,
    "scipy.special": SCIPY_SPECIAL,
    "linear algebra": LINALG,
}

#: ``(qualified name, number of arguments) -> Rule``
RULES: dict[tuple[str, int], Rule] = _table(*FAMILIES.values(), TUPLES)

#: Module-level constants a program may read (they carry no derivative).
CONSTANTS = frozenset(
    {"math.pi", "math.e", "math.tau", "math.inf", "math.nan", "numpy.pi", "numpy.e", "numpy.inf", "numpy.newaxis"}
    | {"numpy.nan"}
)


def _short(fn: str) -> str:
    return fn.split(".")[-1]


def family_summary(library: str) -> str:
    """The families of rules for ``library`` (``numpy``, ``scipy``, ``math``), a few names each, for a
    message: ``NumPy (sin cos exp ... 73 functions); scipy.special (expit gammaln ...)``."""
    parts: list[str] = []
    for family, rules in FAMILIES.items():
        names = list(dict.fromkeys(_short(r.fn) for r in rules if r.fn.split(".")[0] == library))
        if names:
            shown = " ".join(names[:8]) + (f" ... {len(names)} in all" if len(names) > 8 else "")
            parts.append(f"{family} ({shown})")
    return "; ".join(parts)


def _form(rule: Rule) -> str:
    """How a message shows a rule's call: ``numpy.cross(a, b)``; ``numpy.concatenate([x0, x1, ...], axis)``."""
    if not rule.elements:
        return f"{rule.fn}({', '.join(rule.params)})"
    rest = "".join(f", {p}" for p in rule.params[rule.elements :])
    return f"{rule.fn}([x0, x1, ...]{rest}) of a list or tuple display of 1 to 16 arrays"


def library_message(call: Call | LibraryCall) -> tuple[str, str]:
    """The message and help of a library call that receives a differentiated value without a rule for it:
    the rule exists but not for these arguments (which keywords it knows), or there is no rule at all."""
    fn = call.fn
    keywords = [k for k, _ in call.keywords] if isinstance(call, LibraryCall) else []
    library = fn.split(".")[0]
    where = "give it a rule in [tool.s2sad.rules] (see the README), or pass it values that do not depend on the "
    where += "differentiated parameters (see --wrt)"
    rules = [r for (name, _), r in sorted(RULES.items()) if name == fn]
    if rules:
        known = list(dict.fromkeys(p for r in rules for p in r.params[r.elements :]))
        unknown = [k for k in keywords if k not in known]
        forms = " or ".join(dict.fromkeys(map(_form, rules)))
        if unknown:
            return (
                f"the derivative rule for '{fn}' does not know the keyword '{unknown[0]}' (it knows "
                f"{', '.join(repr(k) for k in known)})",
                f"the rule covers {forms}; leave '{unknown[0]}' out on differentiated values, or {where}",
            )
        return (f"the derivative rule for '{fn}' does not cover these arguments: it covers {forms}", where)
    libraries = ("numpy", "scipy") if library in ("numpy", "scipy") else (library,)
    families = "; ".join(x for x in map(family_summary, libraries) if x)
    listing = f"s2sad has rules for {families}" if families else f"s2sad has no rules for {library}"
    return (f"no derivative rule for '{fn}', and its argument depends on a differentiated value", f"{listing}; {where}")


# ----------------------------------------------------------------------------------------------------------
# The user's rules: from ``@s2sad.rule`` on a helper, from ``[tool.s2sad.rules]``, and the helpers themselves
# ----------------------------------------------------------------------------------------------------------
#: Rules in force for the generation under way, on top of :data:`RULES` (see :func:`extended`).
_EXTRA: contextvars.ContextVar[Mapping[tuple[str, int], Rule]] = contextvars.ContextVar("s2sad_rules", default={})


@contextlib.contextmanager
def extended(extra: Mapping[tuple[str, int], Rule]) -> Iterator[None]:
    """Make ``extra`` rules visible to :func:`lookup` inside the block (one generation: the user's rules and
    helpers apply to it only). A dict passed in stays live: rules added to it later are visible too."""
    token = _EXTRA.set(ChainMap(dict(extra) if not isinstance(extra, dict) else extra, dict(_EXTRA.get())))
    try:
        yield
    finally:
        _EXTRA.reset(token)


def built_in(fn: str) -> bool:
    """Whether the rule table has a rule for ``fn`` (a project's rules may not replace one)."""
    return any(name == fn for name, _ in RULES)


def lookup(fn: str, nargs: int) -> Rule | None:
    key, extra = (fn, nargs), _EXTRA.get()
    for table in extra.maps if isinstance(extra, ChainMap) else (extra,):  # ChainMap.get looks twice
        if key in table:
            return table[key] or RULES.get(key)
    return RULES.get(key)


def known_arities(fn: str) -> list[int]:
    extra = [n for (name, n) in _EXTRA.get() if name == fn]
    return sorted({*_arities().get(fn, ()), *extra})


_ARITIES: dict[str, list[int]] = {}  #: the table's arities by function, for a table of _ARITIES_OF keys
_ARITIES_OF = -1


def _arities() -> dict[str, list[int]]:
    """:data:`RULES`'s arities by name (a call is looked up for each call the frontend lowers), made again if
    keys were added (tests replace rules)."""
    global _ARITIES_OF
    if _ARITIES_OF != len(RULES):
        _ARITIES.clear()
        for name, n in RULES:
            _ARITIES.setdefault(name, []).append(n)
        _ARITIES_OF = len(RULES)
    return _ARITIES
