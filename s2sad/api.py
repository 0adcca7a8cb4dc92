"""The pipeline and the Python API: ``grad``, ``value_and_grad``, ``grad_source`` and ``@gradient``.

:func:`generate` runs the stages in order: frontend -> ssa -> analysis -> reverse -> emit. The API works on
live functions by parsing the file they come from (never re-executing it; :mod:`live` proves the file is still
the code they run, :mod:`limits` refuses what the stages cannot hold), compiles the generated module in a
namespace of its own, and registers its text with :mod:`linecache`, so tracebacks through generated code show
its lines and ``inspect.getsource`` works on the result. The code a reviewer reads is the code that runs.
"""

from __future__ import annotations

import contextlib
import gc
import linecache
import shlex
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeVar, overload

from pathlib import Path

from . import __version__, analysis, config, emit, ir, names, report, reverse, rules, ssa
from . import cache as disk_cache
from . import fixed_point, lagrangian, limits, live, saving, sharing, values
from . import modes as _modes
from .diagnostics import Diagnostic, S2sadError
from .source import read_source
from .source import reads as source_reads

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


def _user_rules(path: str) -> dict[tuple[str, int], rules.Rule]:
    """``[tool.s2sad.rules]`` of the project the source file belongs to, if any."""
    return config.rules_from(config.nearest(Path(path).resolve().parent))


def regenerate_command(target: str, wrt: Sequence[str] | None, output: str | None, mode: str = "grad") -> str:
    """The command a generated module's header gives, and that stale-file messages repeat: every argument
    shell-quoted where it needs it (``'$(touch x).py::f'``), so that pasting it runs s2sad and nothing else."""
    command = f"s2sad {mode} {shlex.quote(target)}"
    if wrt:
        command += f" --wrt {shlex.quote(','.join(wrt))}"
    if output is not None:
        command += f" -o {shlex.quote(output)}"
    return command


def _analysed(
    source: str, path: str, name: str, wrt: Sequence[str] | None, line: int | None
) -> tuple[ir.Function, tuple[str, ...], analysis.Activity]:
    """The stages explain shares with generate, for a function without helpers."""
    user_rules = _user_rules(path)  # a bad [tool.s2sad.rules] is reported first, whatever the function calls
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


class Generated(NamedTuple):
    """What the pipeline produces for one target."""

    text: str  #: the module
    wrt: tuple[str, ...]  #: the parameters differentiated, in the order the gradients are returned
    helpers: tuple[tuple[str, str], ...]  #: (file, name as defined there) of each helper read
    function: str  #: the name of the gradient function in the module


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


def gradient_pipeline(
    source: str, path: str, name: str, wrt: Sequence[str] | None, line: int | None, output: str | None
) -> Generated:
    """``grad``'s row of :data:`s2sad.modes.MODES`: the gradient of a scalar function."""
    return _pipeline(source, path, name, wrt, False, line, output)


def vjp_pipeline(
    source: str, path: str, name: str, wrt: Sequence[str] | None, line: int | None, output: str | None
) -> Generated:
    """``vjp``'s row: the reverse pass seeded with the parameter ``out_bar`` instead of 1 (any result)."""
    return _pipeline(source, path, name, wrt, False, line, output, seeded=True)


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


class Parts(NamedTuple):
    """A mode's functions before they are emitted, for a module that combines them (a Jacobian's)."""

    chosen: tuple[str, ...]  #: the parameters differentiated, in the order the results are returned
    functions: list[tuple[ir.Function, str]]  #: the entry function and its docstring first, then its helpers'
    table: dict[tuple[str, int], rules.Rule]  #: the rules the functions were built with (the helpers' too)


def _pipeline(
    source: str,
    path: str,
    name: str,
    wrt: Sequence[str] | None,
    with_value: bool,
    line: int | None,
    output: str | None,
    *,
    seeded: bool = False,
) -> Generated:
    lowered = _lowered(source, path, name, line, tuple_result=seeded)
    program, module_names, main, _ = lowered
    chosen, functions, _ = _reverse_parts(lowered, wrt, with_value, seeded)
    (grad_fn, doc), others = functions[0], functions[1:]
    verbatim = [(o.text, o.imports) for o in program.opaque]
    target = f"{path}::{name}"
    wrt_text = f" with respect to {', '.join(chosen)}"
    if seeded:
        wrt_text = f", vector-Jacobian product,{wrt_text}"
    mode = "vjp" if seeded else "grad"
    command = regenerate_command(target, chosen if wrt is not None else None, output, mode)
    header = [f"Generated by s2sad {__version__} from {target}{wrt_text}. Do not edit.", f"Regenerate with: {command}"]
    for fn in [grad_fn] + [o for o, _ in others]:
        limits.check_blocks(fn, fn.path)
    text = emit.emit(grad_fn, header, doc, others, verbatim, module_names)
    return Generated(text, chosen, tuple(program.read), grad_fn.name)


class ReverseProgram(NamedTuple):
    """The gradient program in IR, before emit (:mod:`s2sad.hvp_pipeline` differentiates it again)."""

    program: Any  #: what the frontend read
    names: names.ModuleNames
    main: ir.Function  #: the target, in SSA form
    chosen: tuple[str, ...]
    gradient: ir.Function
    others: list[tuple[ir.Function, str]]  #: the helpers' functions the gradient calls, with docstrings
    values: values.Values  #: what s2sad.values knows of the target's names


def _reverse_program(
    source: str, path: str, name: str, wrt: Sequence[str] | None, with_value: bool, line: int | None
) -> ReverseProgram:
    """The stages up to the gradient program in IR: frontend, SSA, analyses, recording and reverse."""
    lowered = _lowered(source, path, name, line)
    chosen, functions, _ = _reverse_parts(lowered, wrt, with_value, False)
    known = values.program(lowered.main, lowered.helpers)[lowered.main.name]
    (gradient, _), others = functions[0], functions[1:]
    return ReverseProgram(lowered.program, lowered.names, lowered.main, chosen, gradient, others, known)


def _reverse_parts(lowered: Lowered, wrt: Sequence[str] | None, with_value: bool, seeded: bool) -> Parts:
    """Reverse mode's functions: the gradient (``seeded``: the vector-Jacobian product) and its helpers'."""
    program, module_names, main, helpers = lowered
    table = dict(program.rules)
    drawing: set[str] = set()  # helpers that draw random numbers, themselves or through their callees
    with rules.extended(table):
        for h in helpers:  # a helper's rule needs its callees' rules
            table[(h.name, len(h.params))] = analysis.helper_rule(h)
            if analysis.draws(h, frozenset(drawing)):
                drawing.add(h.name)
        chosen = _choose_wrt(main, wrt)
        entries = _entries(main, chosen)  # a dictionary parameter is differentiated entry by entry
        act = analysis.activity(main, entries)
        found = _problems(main, act)  # every problem of the target and its helpers, in one run
        # Each helper's adjoint returns what its callers need: callers are analysed before their callees.
        analysed: list[tuple[ir.Function, analysis.Activity]] = [(main, act)]
        helper_wrt: dict[str, tuple[str, ...]] = {}
        for h in reversed(helpers):
            needed: set[str] = set()
            for caller, caller_act in analysed:
                needed |= analysis.call_sites(caller, caller_act, h.name)
            helper_wrt[h.name] = tuple(p.name for p in h.params if p.name in needed)
            h_act = analysis.activity(h, helper_wrt[h.name])
            found += _problems(h, h_act, reruns=bool(helper_wrt[h.name]), drawing=frozenset(drawing))
            found += fixed_point.check_helper(h)
            analysed.append((h, h_act))
        found += fixed_point.check(main, act, frozenset(drawing))
        if found:
            raise S2sadError(found)
        helper_wrt = {k: v for k, v in helper_wrt.items() if v}
        known = values.program(main, helpers)
        splits = saving.split_helpers(analysed[:0:-1], helper_wrt, module_names, known)  # callees first
        fixed = fixed_point.prepare(main, act, helper_wrt, module_names, saving.how(splits), known[main.name])
        grad_fn = reverse.gradient(
            main,
            entries,
            act,
            with_value=with_value,
            helpers=helper_wrt,
            names=module_names,
            saving=saving.how(splits),
            values=known[main.name],
            fixed_points=fixed,
            seeded=seeded,
        )
        steps = [pair for fp in fixed.values() for pair in fp.functions()]
        others = steps + _helper_functions(
            grad_fn, [h for h, _ in analysed[1:]], splits, helper_wrt, module_names, [s for s, _ in steps]
        )
    name = main.name
    returns = "the gradient" if len(chosen) == 1 else f"the gradients ({', '.join(chosen)})"
    if with_value:
        returns = f"'{name}' and {returns}"
    of = f"of '{name}'"
    if seeded:
        of = f"of '{name}' weighted by '{grad_fn.params[-1].name}' (its vector-Jacobian product)"
    doc = f"Return {returns} {of} by reverse-mode differentiation.{_looked_through(main)}"
    return Parts(chosen, [(grad_fn, doc), *others], table)


def _helper_functions(
    grad_fn: ir.Function,
    helpers: Sequence[ir.Function],
    splits: dict[str, saving.Split],
    helper_wrt: dict[str, tuple[str, ...]],
    module_names: names.ModuleNames,
    steps: Sequence[ir.Function] = (),
) -> list[tuple[ir.Function, str]]:
    """Each helper's functions the gradient reaches (callers first): the helper itself, ``forward_h`` (the
    helper and what its adjoint reads) and ``adjoint_h``."""
    functions: list[tuple[ir.Function, str]] = []
    for h in helpers:
        functions.append(
            (
                reverse.primal(h, module_names),
                f"The helper '{h.name}', for the forward passes that call it.{_looked_through(h)}",
            )
        )
        sp = splits.get(h.name)
        if sp is None:
            continue
        if sp.forward is not None:
            doc = f"The helper '{h.name}' and the values its adjoint reads, for the forward passes that call it."
            functions.append((sp.forward, doc))
        returns = ", ".join(_returned_names(sp.adjoint, helper_wrt[h.name]))
        given = "its saved values and " if sp.forward is not None else ""
        doc = f"Adjoints ({returns}) of the helper '{h.name}', given {given}the adjoint of its result."
        functions.append((sp.adjoint, doc))
    reached = saving.reached(grad_fn, [f for f, _ in functions])
    for step in steps:  # the adjoint steps of fixed-point loops call helpers too (see s2sad.fixed_point)
        reached |= saving.reached(step, [f for f, _ in functions])
    return [(f, doc) for f, doc in functions if f.name in reached]


class Lowered(NamedTuple):
    """What every mode starts from (see :func:`_lowered`)."""

    program: Any  #: the frontend's Program: rules, copied helpers, files read
    names: names.ModuleNames  #: the generated module's names
    main: ir.Function  #: the target, in SSA form
    helpers: list[ir.Function]  #: the helpers it calls, in SSA form, callees first


def _lowered(source: str, path: str, name: str, line: int | None, *, tuple_result: bool = False) -> Lowered:
    """The stages both modes share: the program read (the user's rules of the project too), numbers checked,
    the module's names, and the target and its helpers in SSA form (helpers callees first). ``tuple_result``:
    the target may return a tuple (a VJP's or a Jacobian's)."""
    from . import frontend  # LibCST is imported when a function is parsed, not with s2sad

    program = frontend.parse_program(source, path, name, line, rules=_user_rules(path), tuple_result=tuple_result)
    limits.check_numbers([program.main, *program.helpers])
    module_names = names.ModuleNames.of([program.main, *program.helpers], [(o.name, o.text) for o in program.opaque])
    main = sharing.share(ssa.to_ssa(program.main, module_names))
    helpers = [sharing.share(ssa.to_ssa(h, module_names)) for h in program.helpers]
    return Lowered(program, module_names, main, helpers)


def _problems(
    fn: ir.Function, act: analysis.Activity, *, reruns: bool = False, drawing: frozenset[str] = frozenset()
) -> list[Diagnostic]:
    """What :func:`analysis.check` finds in ``fn``."""
    try:
        analysis.check(fn, act, reruns=reruns, drawing=drawing)
    except S2sadError as err:
        return list(err.diagnostics)
    return []


def _looked_through(fn: ir.Function) -> str:
    """The note in a docstring that the function's decorators were looked through (see frontend.decorators)."""
    if not fn.decorators:
        return ""
    return f" Looked through (computes the same): {', '.join(f'@{d}' for d in fn.decorators)}."


def _returned_names(fn: ir.Function, wrt: Sequence[str]) -> list[str]:
    """The names of the adjoints an adjoint function returns (``x_bar``, or the fresh name it got)."""
    ret = fn.body[-1]
    values = ret.values if isinstance(ret, ir.Return) else ()
    return [v.name if isinstance(v, ir.Var) else f"{p}_bar" for p, v in zip(wrt, values)]


def _asked(wrt: Sequence[str] | str | None) -> tuple[str, ...] | None:
    """The parameters asked for, in the order asked for. A string names one parameter, never its characters.
    Names are NFKC-normalised, as Python normalises identifiers in source (``𝐱`` is ``x``)."""
    if wrt is None:
        return None
    names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    for w in names:
        if not isinstance(w, str):
            raise TypeError(f"wrt names parameters: expected strings, got {type(w).__name__}")
    return tuple(unicodedata.normalize("NFKC", w) for w in names)


def _entries(fn: ir.Function, chosen: Sequence[str]) -> tuple[str, ...]:
    """``chosen`` with each dictionary parameter replaced by the parameters of its entries."""
    bundles = {p.name: tuple(e for _, e in es) for p, es in fn.bundles}
    return tuple(e for c in chosen for e in bundles.get(c, (c,)))


def _choose_wrt(fn: ir.Function, wrt: Sequence[str] | str | None) -> tuple[str, ...]:
    """The parameters to differentiate, in the order the gradients are returned: the order asked for (as JAX's
    ``argnums`` and ``torch.autograd.grad``), or parameter order by default."""
    owner = {e: p.name for p, es in fn.bundles for _, e in es}  # an entry of a dictionary parameter
    names = list(dict.fromkeys(owner.get(p.name, p.name) for p in fn.params))
    asked = _asked(wrt)
    assert fn.origin is not None
    if asked is None:
        chosen = tuple(dict.fromkeys(owner.get(p, p) for p in analysis.default_wrt(fn)))
        if not chosen:
            raise S2sadError(
                [
                    ir.diagnostic(
                        fn.path,
                        fn.origin,
                        f"the result of '{fn.name}' does not depend differentiably on any parameter",
                        "nothing-to-differentiate",
                        "the gradient would be zero; check that the return value uses the parameters",
                    )
                ]
            )
        return chosen
    unknown = [w for w in asked if w not in names]
    if unknown or not asked:
        listing = ", ".join(f"'{n}'" for n in names) or "none"
        raise S2sadError(
            [
                ir.diagnostic(
                    fn.path,
                    fn.origin,
                    f"'{unknown[0]}' is not a parameter of '{fn.name}'" if unknown else "'wrt' is empty",
                    "unknown-parameter",
                    f"parameters: {listing}",
                )
            ]
        )
    repeated = sorted({w for w in asked if asked.count(w) > 1}, key=asked.index)
    if repeated:
        raise S2sadError(
            [
                ir.diagnostic(
                    fn.path,
                    fn.origin,
                    f"'{repeated[0]}' is named more than once in 'wrt'",
                    "duplicate-parameter",
                    "name each parameter once; the gradients are returned in the order given",
                )
            ]
        )
    return asked


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
) -> tuple[Generated, str, int]:
    """The module for a live function, from a file that still says what ``f`` runs; the file and line of ``f``.
    ``loading``: ``f``'s module may still be running (see :func:`live.check_program`). ``cached``: from the
    on-disk cache when it holds this very generation (see :mod:`s2sad.cache`); the checks run either way."""
    source, path, name, line = live.source_of(f)
    f = live.unwrap_cache(f)
    if cached:
        generated = _generate_cached(source, path, name, wrt, with_value, line, mode)
    else:
        generated = _generate(source, path, name, wrt=wrt, with_value=with_value, line=line, mode=mode)
    # the helpers, constants and defaults too must be what f runs: same file, same text; another file, as read
    texts = [(p, h, source if p == path else read_source(p)) for p, h in generated.helpers]
    live.check_program(f, source, texts, loading=loading)
    return generated, path, line


def _generate_cached(
    source: str, path: str, name: str, wrt: Sequence[str] | None, with_value: bool, line: int, mode: str = "grad"
) -> Generated:
    """:func:`_generate`, or the entry the cache holds for exactly these inputs (the mode among them)."""
    digest = disk_cache.key(source, path, name, line, wrt, with_value, mode)
    entry = disk_cache.load(digest, path, name, line, wrt, with_value, mode)
    if entry is not None:
        return Generated(entry.text, entry.wrt, entry.helpers, entry.function)
    reads: list[tuple[str, str]] = []
    token = source_reads.set(reads)
    try:
        generated = _generate(source, path, name, wrt=wrt, with_value=with_value, line=line, mode=mode)
    finally:
        source_reads.reset(token)
    others = tuple(dict.fromkeys((p, disk_cache.digest(t)) for p, t in reads if p != path))
    entry = disk_cache.Entry(generated.text, generated.wrt, generated.helpers, generated.function, others)
    disk_cache.save(digest, path, name, line, wrt, with_value, entry, mode)
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


def grad(f: Callable[..., Any], wrt: Sequence[str] | str | None = None) -> Callable[..., Any]:
    """The gradient of ``f``: one value when one parameter is differentiated, else a tuple in the order of
    ``wrt`` (default: every parameter the result depends on, in parameter order). ``wrt="x"`` names one
    parameter."""
    return _build(f, wrt, with_value=False)[0]


def value_and_grad(f: Callable[..., Any], wrt: Sequence[str] | None = None) -> Callable[..., Any]:
    """A function returning ``(f(...), gradient)`` from one forward pass."""
    return _build(f, wrt, with_value=True)[0]


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
    *, wrt: Sequence[str] | None = None, cache: bool | None = None, modes: Sequence[str] = ("grad",)
) -> Callable[[F], F]: ...
def gradient(
    f: Any = None, *, wrt: Sequence[str] | None = None, cache: bool | None = None, modes: Sequence[str] = ("grad",)
) -> Any:
    """Decorator: generate the gradient once, now, and attach it as ``f.grad``; ``f`` itself is unchanged (it
    is not wrapped). The module may still be running: names its file binds below ``f`` are not bound yet.
    ``modes=("grad", "jvp", "vjp", "jacobian")`` attaches each mode's function as ``f.<mode>`` (and its text as
    ``f.<mode>_source``); leave ``"grad"`` out for a function whose result is not a number.

    The module is kept in an on-disk cache (see :mod:`s2sad.cache`), so the next import does not generate it
    again; ``cache=False`` (or ``S2SAD_CACHE=0`` in the environment) turns that off."""
    use_cache = disk_cache.enabled(cache)
    asked = (modes,) if isinstance(modes, str) else tuple(modes)
    unknown = [m for m in asked if _modes.get(m) is None]
    if unknown:
        raise ValueError(f"unknown mode {unknown[0]!r}: expected some of {', '.join(_modes.MODES)}")

    def attach(fn: F) -> F:
        for mode in asked:
            compiled, text = _build(fn, wrt, with_value=False, loading=True, cached=use_cache, mode=mode)
            setattr(fn, mode, compiled)
            setattr(fn, f"{mode}_source", text)
        return fn

    return attach if f is None else attach(f)
