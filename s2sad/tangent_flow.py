"""Which names of a gradient program carry a tangent, for forward mode over it (:mod:`s2sad.over_reverse`):
those a differentiated parameter reaches through differentiable arguments (*varied*) and whose tangent reaches a
returned value (*useful*), computed by name over a whole function (a loop's names, a branch's), and the
positions at which a function passes tangents to the functions it calls."""

from __future__ import annotations

from collections.abc import Mapping

from . import ir
from .analysis import reach, rule_of
from .tangents import support_positions

__all__ = ["Flow", "sources", "saved_cut"]


def sources(e: ir.Expr, functions: Mapping[str, ir.Function]) -> set[str]:
    """The names whose tangents flow into the tangent of ``e`` (a superset where no rule says: the builder
    refuses those)."""
    if isinstance(e, ir.Var):
        return {e.name}
    if isinstance(e, ir.LibraryCall):
        return {n for a in e.operands() for n in sources(a, functions)}
    if not isinstance(e, ir.Call):
        return set()  # a constant, a global, an 'and', a slice: no tangent
    if e.fn in functions or e.fn in (ir.TUPLE, ir.IFEXP):
        args = e.args[1:] if e.fn == ir.IFEXP else e.args
        return {n for a in args for n in sources(a, functions)}
    rule = rule_of(e)
    if rule is not None:
        return {n for p, a in zip(rule.params, e.args) if p in rule.adjoints for n in sources(a, functions)}
    positions = support_positions(e.fn, e.args)
    shape_only = positions[1] if positions is not None else set()
    return {n for i, a in enumerate(e.args) if i not in shape_only for n in sources(a, functions)}


class Flow:
    """Varied and useful names of one function of a gradient program, by name over the whole body."""

    def __init__(
        self,
        fn: ir.Function,
        seeds: frozenset[str],
        functions: Mapping[str, ir.Function],
        cut: Mapping[str, frozenset[str]] = {},
    ) -> None:
        self.fn, self.functions, self.cut = fn, functions, cut
        edges: list[tuple[set[str], set[str]]] = []
        returned: set[str] = set()
        for s in ir.walk(fn.body):
            if isinstance(s, (ir.Assign, ir.Accumulate)):
                value = s.value
                if isinstance(s, ir.Accumulate) and isinstance(value, ir.Call) and value.fn in (ir.INDEXED, ir.ADD_AT):
                    value = value.args[1]
                edges.append(({s.target}, sources(value, functions)))
                if isinstance(value, ir.Call) and value.fn == ir.APPEND and isinstance(value.args[0], ir.Var):
                    # appended in place: the list appended to is the new one
                    edges.append(({value.args[0].name}, sources(value, functions)))
            elif isinstance(s, ir.Unpack):
                dead = cut.get(s.value.name, frozenset()) if isinstance(s.value, ir.Var) else frozenset()
                edges.append(({t for t in s.targets if t not in dead}, sources(s.value, functions)))
            elif isinstance(s, ir.Push):
                edges.append(({s.stack}, {s.name}))
            elif isinstance(s, ir.Pop):
                edges.append(({s.name}, {s.stack}))
            elif isinstance(s, ir.For):  # records read by iteration (s2sad.records): a pop each
                edges += [({name}, {stack}) for name, stack in s.stacks]
            elif isinstance(s, ir.Return):
                returned |= {n for v in s.values for n in sources(v, functions)}
        self.edges = edges
        varied = reach(set(seeds), edges)  # what the seeds flow into
        useful = reach(set(returned), [(sources, targets) for targets, sources in edges])  # what flows out
        self.active = frozenset(varied & useful)

    def calls(self, wanted: dict[str, set[int]]) -> None:
        """Add the positions at which this function passes a tangent to each function it calls."""
        for s in ir.walk(self.fn.body):
            value = s.value if isinstance(s, (ir.Assign, ir.Unpack)) else None
            if isinstance(value, ir.Call) and value.fn in self.functions:
                for i, a in enumerate(value.args):
                    if sources(a, self.functions) & self.active:
                        wanted.setdefault(value.fn, set()).add(i)


def saved_cut(
    pairs: list[tuple[str, str]], functions: Mapping[str, ir.Function], flows: Mapping[str, Flow]
) -> dict[str, dict[str, frozenset[str]]]:
    """Per adjoint function, the names it unpacks from its saved values that carry no tangent: those the
    forward function saved without one. The flow is by name, so an adjoint that receives a tangent for its
    saved values would give one to each of them, yet ``forward_h`` computes tangents only for those its own
    parameters reach (``i_stack`` of a loop's counter has none: its tangent is no list to pop from)."""
    out: dict[str, dict[str, frozenset[str]]] = {}
    for forward, adjoint in pairs:
        f, a = functions.get(forward), functions.get(adjoint)
        if f is None or a is None or not a.params:
            continue
        ret = next((s for s in f.body if isinstance(s, ir.Return)), None)
        saved = ret.values[-1] if ret is not None and ret.values else None
        if not isinstance(saved, ir.Call) or saved.fn != ir.TUPLE:
            continue
        param = a.params[0].name
        unpack = next((s for s in a.body if isinstance(s, ir.Unpack) and s.value == ir.Var(param)), None)
        if unpack is None or len(unpack.targets) != len(saved.args):
            continue
        flow = flows.get(forward)
        live = flow.active if flow is not None else frozenset()
        dead = frozenset(t for t, item in zip(unpack.targets, saved.args) if not sources(item, functions) & live)
        if dead:
            out[adjoint] = {param: dead}
    return out
