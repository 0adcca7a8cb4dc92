"""The user's rules: a template from ``[tool.s2sad.rules]`` or ``@s2sad.rule``, checked before it is used.

A user's template is the rule table's own format (:mod:`s2sad.rules`) restricted so that a rule from an
untrusted ``pyproject.toml`` cannot run code: see :func:`user_rule`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Mapping
from typing import Any

from .ir import GETITEM, IFEXP, BoolOp, Call, Const, Expr, Global, Var, substitute
from .rule_templates import _BUILTIN_FUNCTIONS, _brief
from .rules import _PLAIN, CONSTANTS, RULES, Rule, TemplateError, parse_template

__all__ = ["user_rule", "TEMPLATE_VARIABLES"]

#: Template variables: a parameter of a user's rule may not take one of these names (it would be ambiguous).
TEMPLATE_VARIABLES = frozenset({"g", "ans", "out"})

#: Pure numerics a user's template may call besides the functions that have rules (by qualified name).
#: Nothing here reads or writes files, imports, evaluates text or reaches attributes of values.
_PURE = {
    "numpy": """exp exp2 expm1 log log2 log10 log1p sqrt cbrt square sin cos tan arcsin arccos arctan arctan2
        sinh cosh tanh arcsinh arccosh arctanh abs absolute fabs sign heaviside power float_power maximum minimum
        fmax fmin where clip sum prod mean max min cumsum cumprod transpose reshape shape size ndim zeros ones
        zeros_like ones_like full_like eye diag outer dot matmul multiply add subtract divide true_divide negative
        reciprocal logical_and logical_or logical_not isfinite isnan isinf expand_dims broadcast_to squeeze
        atleast_1d hypot sinc tensordot kron trace""",
    "scipy.special": """expit logit log_expit erf erfc erfinv erfcinv gamma gammaln loggamma digamma polygamma
        beta betaln xlogy xlog1py logsumexp softmax log_softmax i0 i1 i0e i1e j0 j1 y0 y1 sinc ndtr log_ndtr
        ndtri expm1 log1p cosm1 entr rel_entr kl_div huber pseudo_huber""",
    "operator": "add sub mul truediv floordiv mod pow neg pos abs matmul lt le gt ge eq ne not_",
}
_PURE_FUNCTIONS = frozenset(f"{module}.{name}" for module, names in _PURE.items() for name in names.split())


def _math_functions() -> frozenset[str]:
    import math

    return frozenset(f"math.{n}" for n in dir(math) if not n.startswith("_") and callable(getattr(math, n)))


_MATH_FUNCTIONS = _math_functions()


def _allowed_function(fn: str) -> bool:
    """A function a user's template may call: one with a rule, or a pure numeric of the rule namespace."""
    if any(part.startswith("_") for part in fn.split(".")):
        return False
    if fn.startswith("builtins."):
        return fn.split(".", 1)[1] in _BUILTIN_FUNCTIONS
    if fn in _MATH_FUNCTIONS or fn in _PURE_FUNCTIONS or fn in _PLAIN:
        return True
    return fn.startswith(("numpy.", "scipy.special.", "operator.")) and any(name == fn for name, _ in RULES)


#: The modules a user's template may call into: a qualified name is exactly ``module.function``.
_CALLABLE_MODULES = ("math", "numpy", "numpy.linalg", "scipy.special", "operator", "builtins")


def _function(fn: str) -> Any:
    """The object ``fn`` names, or None when it cannot be looked up (SciPy is not installed). Imports only the
    modules of :data:`_CALLABLE_MODULES` (the standard library's, and s2sad's optional dependencies)."""
    module, _, attr = fn.rpartition(".")
    try:
        return getattr(importlib.import_module(module), attr, _MISSING)
    except ImportError:
        return None


_MISSING = object()


def _arity_problem(fn: str, n: int) -> str | None:
    """Why ``fn`` cannot be called with ``n`` positional arguments, or None (as far as can be known)."""
    if fn.rpartition(".")[0] not in _CALLABLE_MODULES:
        return f"'{fn}' is not a function of {', '.join(_CALLABLE_MODULES)}"
    obj = _function(fn)
    if obj is _MISSING or (obj is not None and not callable(obj)):
        return f"'{fn}' is not a function"
    if obj is None:
        return None
    nin = getattr(obj, "nin", None)  # a NumPy ufunc
    if isinstance(nin, int) and not isinstance(obj, type):
        return None if n == nin else f"'{fn}' takes {nin} argument{'s' * (nin != 1)}, not {n}"
    try:
        inspect.signature(obj).bind(*range(n))
        return None
    except TypeError:
        return f"'{fn}' does not take {n} argument{'s' * (n != 1)}"
    except ValueError:  # no signature (builtins.max, math.log): the rule table's arities, when it knows some
        arities = sorted({k for name, k in RULES if name == fn})
        if arities and n not in arities:
            return f"'{fn}' takes {' or '.join(map(str, arities))} arguments here, not {n}"
        return None


def _check_allowed(e: Expr, text: str, params: frozenset[str] = frozenset()) -> None:
    """Every call of a user's template is to an allow-listed function with an argument count it accepts,
    every index is a literal integer into a parameter, and every global an allow-listed constant."""
    if isinstance(e, Call):
        if e.fn == GETITEM:
            if len(e.args) != 2 or not isinstance(e.args[1], Const) or not isinstance(e.args[1].value, int):
                raise TemplateError(f"template {_brief(text)}: only a literal integer index is allowed")
            if not (isinstance(e.args[0], Var) and e.args[0].name in params):
                raise TemplateError(f"template {_brief(text)}: only a parameter of the rule may be indexed")
        elif e.fn == IFEXP:
            if len(e.args) != 3:
                raise TemplateError(f"template {_brief(text)}: write a conditional as 'a if c else b'")
        elif not _allowed_function(e.fn):
            raise TemplateError(
                f"template {_brief(text)} calls '{e.fn}', which is not allowed in a rule: use numbers, arithmetic and "
                "functions of math, numpy, scipy.special or operator"
            )
        else:
            problem = _arity_problem(e.fn, len(e.args))
            if problem is not None:
                raise TemplateError(f"template {_brief(text)}: {problem}")
        for a in e.args:
            _check_allowed(a, text, params)
    elif isinstance(e, BoolOp):
        for v in e.values:
            _check_allowed(v, text, params)
    elif isinstance(e, Global):
        if e.qualname not in CONSTANTS:
            raise TemplateError(f"template {_brief(text)} reads '{e.qualname}', which is not a known constant")
    elif isinstance(e, Const):
        if not isinstance(e.value, (int, float)) or isinstance(e.value, bool):
            raise TemplateError(f"template {_brief(text)}: only numbers are allowed as literals")


def user_rule(fn: str, params: tuple[str, ...], templates: Mapping[str, str]) -> Rule:
    """A rule the user wrote, in the table's own format; ``out`` may stand for ``ans`` (the result).

    A template is a restricted expression: the rule's parameters, ``g``, ``ans``/``out``, numeric literals,
    arithmetic, comparisons, conditional expressions, literal integer indexing, and calls to functions of the
    rule namespace that have rules or are pure numerics (math, numpy, scipy.special, operator; ``abs``,
    ``float``, ``min``, ``max``, ``pow``). No other builtins, no attribute access on values, no dunder names,
    no strings, lambdas or comprehensions: a rule from an untrusted ``pyproject.toml`` cannot run code.

    Raises :class:`TemplateError` (with ``argument`` set to the template's argument, when there is one)
    when a template does not parse, names an unknown argument or leaves the allow-list, and when a
    parameter has the name of a template variable."""
    clash = [p for p in params if p in TEMPLATE_VARIABLES]
    if clash:
        raise _located(
            TemplateError(
                f"the parameter '{clash[0]}' of '{fn}' has the name of a template variable "
                "(g: the incoming adjoint; ans, out: the result); rename the parameter"
            ),
            clash[0] if clash[0] in templates else None,
        )
    if len(set(params)) != len(params):
        raise TemplateError(f"'{fn}' lists an argument twice")
    unknown = [p for p in templates if p not in params]
    if unknown:
        raise _located(
            TemplateError(f"the rule names '{unknown[0]}', which is not an argument of '{fn}' ({', '.join(params)})"),
            unknown[0],
        )
    allowed = frozenset(params) | TEMPLATE_VARIABLES
    adjoints: dict[str, Expr] = {}
    for p, t in templates.items():
        try:
            if len(t) > 2000:
                raise TemplateError(f"the template for '{p}' is longer than 2000 characters")
            parsed = parse_template(t, allowed)
            if any(isinstance(n, ast.Name) and n.id == "s2sad" for n in ast.walk(ast.parse(t, mode="eval"))):
                raise TemplateError(f"template {_brief(t)}: s2sad's own helpers cannot be called in a rule")
            _check_allowed(parsed, t, frozenset(params))
        except TemplateError as err:
            raise _located(err, p) from None
        except (RecursionError, MemoryError):
            raise _located(TemplateError(f"the template for '{p}' is nested too deeply"), p) from None
        adjoints[p] = substitute(parsed, {"out": Var("ans")})
    return Rule(fn, params, adjoints, "smooth", "the user's rule")


def _located(err: TemplateError, argument: str | None) -> TemplateError:
    err.argument = argument  # type: ignore[attr-defined]
    return err
