"""The Python API: ``generate``, ``grad``, ``value_and_grad``, ``grad_source``, ``explain`` and ``@gradient``.

:func:`generate` runs a mode's pipeline (:mod:`s2sad.modes`; the gradient's stages are in :mod:`s2sad.pipeline`:
frontend -> ssa -> analysis -> reverse -> emit). The API works on
live functions by parsing the file they come from (never re-executing it; :mod:`live` proves the file is still
the code they run, :mod:`limits` refuses what the stages cannot hold), compiles the generated module in a
namespace of its own, and registers its text with :mod:`linecache`, so tracebacks through generated code show
its lines and ``inspect.getsource`` works on the result. The code a reviewer reads is the code that runs.
"""

from __future__ import annotations

import contextlib
import gc
import linecache
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

from . import analysis, ir, rules, ssa
from . import limits, live, signatures, values
from . import modes as _modes
from .diagnostics import S2sadError
from . import pipeline
from .pipeline import Generated, _choose_wrt, _pipeline
from .source import read_source
from .source import reads as source_reads

if TYPE_CHECKING:  # the on-disk cache and explain's modules are imported when used: not by 's2sad grad'
    from . import report

__all__ = [
    "generate",
    "grad",
    "value_and_grad",
    "grad_source",
    "gradient",
    "rule",
    "explain",
    "compile_gradient",
]

F = TypeVar("F", bound=Callable[..., Any])


def generate(
    source: str,
    path: str,
    name: str,
    *,
    wrt: Sequence[str] | None = None,
    with_value: bool = False,
    line: int | None = None,
    output: str | None = None,
    mode: str = "grad",
) -> str:
    """The gradient module for function ``name`` of ``source`` (read from ``path``), as text; ``mode="jvp"``:
    its forward-mode module (see :mod:`s2sad.forward`).

    ``output`` is where the module will be written; the header's regenerate command names it. The header is
    the same whichever way the module is produced (``s2sad grad -o``, ``s2sad sync``), so the bytes are too.
    """
    return _generate(source, path, name, wrt=wrt, with_value=with_value, line=line, output=output, mode=mode).text


def _analysed(
    source: str, path: str, name: str, wrt: Sequence[str] | None, line: int | None
) -> tuple[ir.Function, tuple[str, ...], analysis.Activity]:
    """The stages explain shares with generate, for a function without helpers."""
    user_rules = pipeline._user_rules(path)  # a bad [tool.s2sad.rules] is reported first, whatever the function calls
    limits.check_source(source, path, name, line)
    with limits.guard(source, path, name, line):
        from . import frontend  # LibCST is imported when a function is parsed, not with s2sad

        parsed = frontend.parse_function(source, path, name, line)
        limits.check_numbers([parsed])
        fn = ssa.to_ssa(parsed)
        with rules.extended(user_rules):
            chosen = _choose_wrt(fn, wrt)
            act = analysis.activity(fn, chosen)
            analysis.check(fn, act)
    return fn, chosen, act


def _generate(
    source: str,
    path: str,
    name: str,
    *,
    wrt: Sequence[str] | None,
    with_value: bool = False,
    line: int | None = None,
    output: str | None = None,
    mode: str = "grad",
) -> Generated:
    """The whole pipeline, for the function and every helper it reaches. Input too deep for the stages is
    refused first; a ``RecursionError`` that still escapes one is reported the same way (nothing is written)."""
    with _collection_paused():
        limits.check_source(source, path, name, line)
        with limits.guard(source, path, name, line):
            if mode == "grad":
                return _pipeline(source, path, name, wrt, with_value, line, output)
            found = _modes.get(mode)
            if found is None:
                raise ValueError(f"unknown mode {mode!r}: expected one of {', '.join(_modes.MODES)}")
            return found.generate(source, path, name, wrt, line, output)  # a pipeline imported when used


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the stages run. They build many objects that live until the
    module is written (LibCST's tree, the IR, black's tree), and each collection walks all of them again:
    about a third of the time for a 10,000-statement function. The stages' garbage is collected afterwards;
    a collector the caller had turned off stays off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ------------------------------------------------------------------------------------------------------------
# Live functions
# ------------------------------------------------------------------------------------------------------------
def _compile(source: str, label: str, fname: str) -> Callable[..., Any]:
    filename = f"<s2sad {label}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {"__name__": f"s2sad_generated.{fname}"}
    exec(compile(source, filename, "exec", dont_inherit=True), namespace)
    result: Callable[..., Any] = namespace[fname]
    return result


def grad_source(f: Callable[..., Any], wrt: Sequence[str] | None = None, *, with_value: bool = False) -> str:
    """The text of the gradient module s2sad generates for ``f``."""
    return _generate_live(f, wrt, with_value)[0].text


def _generate_live(
    f: Callable[..., Any],
    wrt: Sequence[str] | None,
    with_value: bool,
    loading: bool = False,
    cached: bool = False,
    mode: str = "grad",
    given: Mapping[str, values.Value] | None = None,
) -> tuple[Generated, str, int]:
    """The module for a live function, from a file that still says what ``f`` runs; the file and line of ``f``.
    ``loading``: ``f``'s module may still be running (see :func:`live.check_program`). ``cached``: from the
    on-disk cache when it holds this very generation (see :mod:`s2sad.cache`); the checks run either way.
    ``given``: the values of the arguments the module is specialised to (see :mod:`s2sad.dispatch`)."""
    source, path, name, line = live.source_of(f)
    f = live.unwrap_cache(f)
    with signatures.giving(name, given or {}):
        if cached:
            generated = _generate_cached(source, path, name, wrt, with_value, line, mode, given or {})
        else:
            generated = _specialised(
                _generate(source, path, name, wrt=wrt, with_value=with_value, line=line, mode=mode), given or {}
            )
    # the helpers, constants and defaults too must be what f runs: same file, same text; another file, as read
    texts = [(p, h, source if p == path else read_source(p)) for p, h in generated.helpers]
    live.check_program(f, source, texts, loading=loading)
    return generated, path, line


def _specialised(generated: Generated, given: Mapping[str, values.Value]) -> Generated:
    """The module with a line in its header saying what it is specialised to (nothing for the generic one)."""
    if not given:
        return generated
    lines = generated.text.splitlines(True)
    at = next((i for i, text in enumerate(lines) if not text.startswith("#")), len(lines))
    note = textwrap.wrap(
        f"Specialised to calls passing {signatures.describe(given)}; the command above writes the generic module.",
        width=100,
    )
    lines[at:at] = [f"# {n}\n" for n in note]
    return generated._replace(text="".join(lines))


def _generate_cached(
    source: str,
    path: str,
    name: str,
    wrt: Sequence[str] | None,
    with_value: bool,
    line: int,
    mode: str = "grad",
    given: Mapping[str, values.Value] = {},
) -> Generated:
    """:func:`_generate`, or the entry the cache holds for exactly these inputs (the mode and the signature
    among them)."""
    from . import cache as disk_cache

    variant = signatures.describe(given)
    digest = disk_cache.key(source, path, name, line, wrt, with_value, mode, variant)
    entry = disk_cache.load(digest, path, name, line, wrt, with_value, mode, variant)
    if entry is not None:
        return Generated(entry.text, entry.wrt, entry.helpers, entry.function)
    reads: list[tuple[str, str]] = []
    token = source_reads.set(reads)
    try:
        generated = _generate(source, path, name, wrt=wrt, with_value=with_value, line=line, mode=mode)
    finally:
        source_reads.reset(token)
    generated = _specialised(generated, given)
    others = tuple(dict.fromkeys((p, disk_cache.digest(t)) for p, t in reads if p != path))
    entry = disk_cache.Entry(generated.text, generated.wrt, generated.helpers, generated.function, others)
    disk_cache.save(digest, path, name, line, wrt, with_value, entry, mode, variant)
    return generated


def _build(
    f: Callable[..., Any],
    wrt: Sequence[str] | None,
    with_value: bool,
    loading: bool = False,
    cached: bool = False,
    mode: str = "grad",
) -> tuple[Callable[..., Any], str]:
    generated, path, line = _generate_live(f, wrt, with_value, loading, cached, mode)
    fname = generated.function
    compiled = _compile(generated.text, f"{fname} from {path}:{line}", fname)
    setattr(compiled, "__s2sad_wrt__", list(generated.wrt))
    return compiled, generated.text


def compile_gradient(source: str, path: str, name: str, wrt: Sequence[str] | None = None) -> Callable[..., Any]:
    """Generate and compile the gradient of function ``name`` of ``source``, without a live function."""
    generated = _generate(source, path, name, wrt=wrt)
    compiled = _compile(generated.text, f"{generated.function} from {path}", generated.function)
    setattr(compiled, "__s2sad_wrt__", list(generated.wrt))
    return compiled


def explain(
    source: str,
    path: str,
    name: str,
    *,
    wrt: Sequence[str] | None = None,
    at: dict[str, float] | None = None,
    fmt: report.Format = "text",
) -> str:
    """The function as constraints, its Lagrangian and multiplier equations; with ``at``, the numeric system
    solved by back-substitution beside the generated gradient. Only the IR is interpreted: the user's file is
    never run."""
    from . import lagrangian, report

    fn, chosen, act = _analysed(source, path, name, wrt, None)
    ex = lagrangian.explain(fn, chosen, act)
    if at is None:
        return report.render(ex, fmt)
    if not values.array_free(fn):
        assert fn.origin is not None
        raise S2sadError(
            [
                ir.diagnostic(
                    fn.path,
                    fn.origin,
                    "explain --at evaluates scalar functions; this one uses NumPy",
                    "unsupported-point",
                    "run explain without --at for the equations, and gradcheck for numbers",
                )
            ]
        )
    point = _complete_point(fn, at)
    text = _generate(source, path, name, wrt=chosen).text
    foreign = lagrangian.foreign_import(text)
    if foreign is not None:  # importing a module of the user's would run it
        assert fn.origin is not None
        raise S2sadError(
            [
                ir.diagnostic(
                    fn.path,
                    fn.origin,
                    f"explain --at would have to import '{foreign}'; it runs only arithmetic and the math module",
                    "unsupported-point",
                    "run explain without --at for the equations, and gradcheck (which runs your code) for numbers",
                )
            ]
        )
    df = _compile(text, f"grad_{name} from {path}", f"grad_{name}")  # arithmetic and math only
    try:
        got = df(*(point[p.name] for p in fn.params))
        gradient = dict(zip(chosen, [got] if len(chosen) == 1 else got))
        check = report.Check({k: float(v) for k, v in gradient.items()})
        if not ex.straight:
            return report.render(ex, fmt, None, check)
        constants = {c.name: lagrangian.constant_value(c.text) for c in fn.constants}
        return report.render(ex, fmt, lagrangian.solve(ex, point, constants), check)
    except (ArithmeticError, ValueError) as err:  # the point is outside the function's domain
        assert fn.origin is not None
        raise S2sadError(
            [ir.diagnostic(fn.path, fn.origin, f"at this point: {type(err).__name__}: {err}", "bad-point")]
        ) from None


def _complete_point(fn: ir.Function, at: dict[str, float]) -> dict[str, float]:
    point: dict[str, float] = {}
    missing = []
    for p in fn.params:
        if p.name in at:
            point[p.name] = at[p.name]
        elif isinstance(p.default, ir.Const) and isinstance(p.default.value, (int, float)):
            point[p.name] = p.default.value
        else:
            missing.append(p.name)
    unknown = sorted(set(at) - {p.name for p in fn.params})
    if missing or unknown:
        assert fn.origin is not None
        message = (
            f"no value for {', '.join(repr(m) for m in missing)}" if missing else f"'{unknown[0]}' is not a parameter"
        )
        raise S2sadError(
            [ir.diagnostic(fn.path, fn.origin, message, "bad-point", "give every parameter a value: --at x=0.5,y=2")]
        )
    return point


def grad(
    f: Callable[..., Any], wrt: Sequence[str] | str | None = None, *, specialise: bool = False
) -> Callable[..., Any]:
    """The gradient of ``f``: one value when one parameter is differentiated, else a tuple in the order of
    ``wrt`` (default: every parameter the result depends on, in parameter order). ``wrt="x"`` names one
    parameter. ``specialise=True``: a module per signature of the arguments, generated on the first call
    with it (see :mod:`s2sad.dispatch`)."""
    return _built(f, wrt, False, "grad", specialise)


def value_and_grad(
    f: Callable[..., Any], wrt: Sequence[str] | None = None, *, specialise: bool = False
) -> Callable[..., Any]:
    """A function returning ``(f(...), gradient)`` from one forward pass (``specialise``: as for :func:`grad`)."""
    return _built(f, wrt, True, "grad", specialise)


def _built(
    f: Callable[..., Any], wrt: Sequence[str] | str | None, with_value: bool, mode: str, specialise: bool
) -> Callable[..., Any]:
    """The function of one mode, generated now, or (``specialise``) per signature on each new one."""
    if specialise:
        from .dispatch import Specialised  # imports NumPy: only when asked for

        live.source_of(f)  # a function s2sad cannot read is refused now, not at its first call
        return Specialised(f, wrt, mode, with_value=with_value)
    return _build(f, wrt, with_value=with_value, mode=mode)[0]


def rule(**templates: str) -> Callable[[F], F]:
    """``@s2sad.rule(x="g * out * (1 - out)")``: the derivative of a helper, written by you, in the rule
    table's format (``g`` the incoming adjoint, ``ans`` or ``out`` the result, and the arguments). s2sad reads
    it from the source and does not look into the helper; at run time the decorator changes nothing."""

    def keep(fn: F) -> F:
        setattr(fn, "__s2sad_rule__", dict(templates))
        return fn

    return keep


@overload
def gradient(f: F) -> F: ...
@overload
def gradient(
    *,
    wrt: Sequence[str] | None = None,
    cache: bool | None = None,
    modes: Sequence[str] = ("grad",),
    specialise: bool = False,
) -> Callable[[F], F]: ...
def gradient(
    f: Any = None,
    *,
    wrt: Sequence[str] | None = None,
    cache: bool | None = None,
    modes: Sequence[str] = ("grad",),
    specialise: bool = False,
) -> Any:
    """Decorator: generate the gradient once, now, and attach it as ``f.grad``; ``f`` itself is unchanged (it
    is not wrapped). The module may still be running: names its file binds below ``f`` are not bound yet.
    ``modes=("grad", "jvp", "vjp", "jacobian")`` attaches each mode's function as ``f.<mode>`` (and its text as
    ``f.<mode>_source``); leave ``"grad"`` out for a function whose result is not a number.

    The module is kept in an on-disk cache (see :mod:`s2sad.cache`), so the next import does not generate it
    again; ``cache=False`` (or ``S2SAD_CACHE=0`` in the environment) turns that off.

    ``specialise=True``: nothing is generated now; ``f.<mode>`` generates a module per signature of its
    arguments, on the first call with each (see :mod:`s2sad.dispatch`), cached in memory and on disk as above;
    ``f.<mode>.source(*args)`` is the text of the module those arguments are passed to."""
    from . import cache as disk_cache

    use_cache = disk_cache.enabled(cache)
    asked = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in asked if _modes.get(m) is None]
    if unknown:
        raise ValueError(f"unknown mode {unknown[0]!r}: expected some of {', '.join(_modes.MODES)}")

    def attach(fn: F) -> F:
        if specialise:
            from .dispatch import Specialised  # imports NumPy: only when asked for

            live.source_of(fn)  # a function s2sad cannot read is refused now, not at its first call
            for mode in asked:
                setattr(fn, mode, Specialised(fn, wrt, mode, cached=use_cache))
            return fn
        for mode in asked:
            compiled, text = _build(fn, wrt, with_value=False, loading=True, cached=use_cache, mode=mode)
            setattr(fn, mode, compiled)
            setattr(fn, f"{mode}_source", text)
        return fn

    return attach if f is None else attach(f)
