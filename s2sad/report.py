"""Render an :class:`~s2sad.explain.Explanation` as text, Markdown or LaTeX."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Literal

from . import ir
from .lagrangian import Constraint, Explanation, Header, Numeric, latex, latex_name, subtrahend, text

__all__ = ["render", "Format", "Check"]

Format = Literal["text", "markdown", "latex"]


@dataclass(frozen=True)
class Check:
    """The generated gradient at the point, to set beside the input multipliers."""

    gradient: dict[str, float]


def render(ex: Explanation, fmt: Format, numeric: Numeric | None = None, check: Check | None = None) -> str:
    r = _Renderer(ex, fmt)
    r.constraints()
    r.lagrangian()
    r.multipliers()
    if numeric is not None:
        r.system(numeric, check)
    elif check is not None:
        r.gradient_only(check)
    return r.finish()


class _Renderer:
    def __init__(self, ex: Explanation, fmt: Format) -> None:
        self.ex = ex
        self.fmt = fmt
        self.out: list[str] = []
        if fmt == "latex":
            self.out += [
                r"\documentclass{article}",
                r"\usepackage{amsmath}",
                r"\usepackage[margin=2cm]{geometry}",
                r"\begin{document}",
                r"\section*{" + _tex_escape(f"{ex.fn.path}::{ex.fn.name}") + " as a constrained problem}",
            ]
        elif fmt == "markdown":
            self.out.append(f"## `{ex.fn.path}::{ex.fn.name}` as a constrained problem")
        else:
            self.out.append(f"{ex.fn.path}::{ex.fn.name} as a constrained problem")

    # ----- helpers ---------------------------------------------------------------------------------------
    def heading(self, title: str) -> None:
        if self.fmt == "text":
            self.out += ["", title]
        elif self.fmt == "markdown":
            self.out += ["", f"### {title}", ""]
        else:
            self.out.append(r"\subsection*{" + _tex_escape(title) + "}")

    def para(self, words: str) -> None:
        if self.fmt == "text":
            self.out += textwrap.wrap(words, width=100, initial_indent="  ", subsequent_indent="  ")
        elif self.fmt == "markdown":
            self.out += [words, ""]
        else:
            self.out += [_tex_escape(words), ""]

    def lam(self, name: str) -> str:
        return f"λ_{name}" if self.fmt == "text" else r"\lambda_{" + latex_name(name) + "}"

    def expr(self, e: ir.Expr, names: dict[str, str] | None = None) -> str:
        return text(e, names) if self.fmt == "text" else latex(e, names)

    def var(self, name: str) -> str:
        return name if self.fmt == "text" else latex_name(name)

    def math_block(self, rows: list[tuple[str, str]]) -> None:
        """Aligned equations ``left = right``."""
        if self.fmt == "text":
            width = max((len(left) for left, _ in rows), default=0)
            self.out += [f"  {left.ljust(width)} = {right}" for left, right in rows]
        else:
            body = " \\\\\n".join(f"{left} &= {right}" for left, right in rows)
            self.out += ["$$", r"\begin{aligned}", body, r"\end{aligned}", "$$", ""]

    # ----- sections ---------------------------------------------------------------------------------------
    def constraints(self) -> None:
        ex = self.ex
        self.heading("The program as constraints")
        loops = (
            ""
            if ex.straight
            else " A loop's body is shown once, not unrolled: x[i] is x in iteration i and x[i-1] its value from "
            "the iteration before (from before the loop, for the first); the system is that of the unrolled loop."
        )
        if ex.fixed:
            loops += (
                " A fixed-point loop is not unrolled either: it iterates until x = g(x, p) holds, so its body is one "
                "cyclic constraint on the converged values x*, whatever the number of iterations."
            )
        self.para("Each statement is an equality constraint z_i = f_i(z_α(i)); the inputs come first." + loops)
        number = 0
        if self.fmt == "text":
            for name in ex.inputs:
                number += 1
                self.out.append(f"  {number:>3}. {name}  (input)")
            for line in ex.lines:
                if isinstance(line, Header):
                    self.out.append("       " + "    " * line.depth + line.text)
                else:
                    number += 1
                    pad = "    " * line.depth
                    tag = "  (output)" if line.name == ex.output else ""
                    self.out.append(
                        f"  {number:>3}. {pad}{line.target} = {self.expr(line.expr, dict(line.index))}{tag}"
                    )
            return
        rows = [(self.var(n), r"\text{input}") for n in ex.inputs]
        for line in ex.lines:
            if isinstance(line, Header):
                rows.append((r"\quad " * line.depth, r"\text{" + _tex_escape(line.text) + "}"))
            else:
                rows.append((r"\quad " * line.depth + self.var(line.target), self.expr(line.expr, dict(line.index))))
        self.math_block(rows)

    def lagrangian(self) -> None:
        ex = self.ex
        self.heading("The Lagrangian")
        terms = []
        for c in ex.constraints:
            names = dict(c.index)
            if self.fmt == "text":
                terms.append(f"λ_{c.target}·({c.target} - {subtrahend(c.expr, names)})")
            else:
                right = subtrahend(c.expr, names, as_latex=True)
                terms.append(f"{self.lam(c.target)} \\left({self.var(c.target)} - {right}\\right)")
        out = ex.output
        if self.fmt == "text":
            self.out.append(f"  L = {out} - " + " - ".join(terms))
        else:
            self.math_block([(r"\mathcal{L}", f"{self.var(out)} - " + " - ".join(terms))])
        self.para(
            "Setting ∂L/∂λ_i = 0 gives back the constraints (the forward pass); setting ∂L/∂z_j = 0 gives one "
            "linear equation per variable, below."
        )

    def multipliers(self) -> None:
        ex = self.ex
        self.heading("Multiplier equations, solved from the output back")
        branches = (
            ""
            if ex.straight
            else (
                " A term from inside a branch counts only when the branch is taken: [condition] is 1 or 0 (a branch "
                "is an indicator function). A value a loop reads but does not change sums a term per iteration (Σ)."
            )
        )
        self.para(
            "λ_j = Σ over the constraints i that read z_j of λ_i · ∂f_i/∂z_j, with λ_output = 1. A variable read "
            "by two constraints sums two terms. Each ∂f_i/∂z_j is local: it comes from the rule table." + branches
        )
        rows: list[tuple[str, str]] = [(self.lam(ex.output), "1")]
        readers = ex.readers()
        order: list[str] = []
        for c in reversed(ex.constraints):  # each variable as its readers display it, from the output back
            order += [shown for shown in readers if shown.split("[")[0].rstrip("*") == c.name and shown not in order]
        order += [n for n in reversed(ex.inputs) if n in readers]
        for shown in order:
            rows.append((self.lam(shown), self._sum(shown, readers[shown])))
        self.math_block(rows)
        if ex.fixed:
            self.para(
                "A fixed-point loop's multipliers are not found by back-substitution: λ_x* appears on both sides of "
                "its equation, λ_x* = x_bar + (∂g/∂x*)^T λ_x* (x_bar: the terms from the constraints after the loop). They "
                "solve the linear system (I - ∂g/∂x*)^T λ_x* = x_bar, the implicit function theorem; the gradient solves "
                "it by fixed-point iteration at x*, and the parameters p read by the loop then take (∂g/∂p)^T λ_x* "
                "once (no sum over iterations)."
            )
        inputs = ", ".join(f"∂{ex.output}/∂{n} = λ_{n}" for n in ex.inputs)
        self.para(f"The gradient is the inputs' multipliers: {inputs}.")

    def _sum(self, name: str, users: list[tuple[Constraint, ir.Expr]]) -> str:
        """Σ λ_i · ∂f_i/∂z_j; a term from a branch carries its condition as an indicator ``[cond]``, and a
        value the loop does not change collects a term from every iteration (``Σ_i``)."""
        terms = []
        for c, partial in users:
            term = self.lam(c.target)
            if not (isinstance(partial, ir.Const) and partial.value == 1):
                shown = self.expr(partial, dict(c.index))
                if isinstance(partial, ir.Call) and partial.fn in ("operator.add", "operator.sub", "operator.neg"):
                    shown = f"({shown})" if self.fmt == "text" else f"\\left({shown}\\right)"
                term = f"{term} · {shown}" if self.fmt == "text" else f"{term} \\cdot {shown}"
            if c.guard:
                guard = c.guard if self.fmt == "text" else r"\text{" + _tex_escape(c.guard) + "}"
                term = f"{term} [{guard}]" if self.fmt == "text" else f"{term} \\, [{guard}]"
            if c.loop and "[" not in name:
                term = f"Σ_{c.loop} {term}" if self.fmt == "text" else f"\\sum_{{{c.loop}}} {term}"
            terms.append(term)
        return " + ".join(terms)

    def system(self, num: Numeric, check: Check | None) -> None:
        ex = self.ex
        self.heading("The linear system at the point")
        point = ", ".join(f"{p} = {_num(num.values[p])}" for p in ex.inputs)
        self.para(
            f"At {point}. Row j reads λ_j - Σ_i ∂f_i/∂z_j · λ_i = [z_j is the output]: unit diagonal, the local "
            "partials (negated) above it, so the matrix is upper-triangular and back-substitution solves it."
        )
        self._matrix(num)
        self.heading("Partial and total derivatives")
        self.para(
            "∂f_i/∂z_j is the local (partial) derivative of one constraint; λ_j is the total derivative of the "
            "output with respect to z_j, every path through the program summed."
        )
        header = ["variable", "value", "local partials ∂f_i/∂z_j", f"λ_j = d{ex.output}/dz_j"]
        body = []
        position = {n: k for k, n in enumerate(num.names)}
        for j, name in enumerate(num.names):
            partials = [f"∂{num.names[i]}/∂{name} = {_num(v)}" for (i, jj), v in sorted(num.partial.items()) if jj == j]
            body.append([name, _num(num.values[name]), ", ".join(partials) or "-", _num(num.multipliers[j])])
        self._table(header, body)
        self.para(f"Residual of the system: max |A λ - e| = {num.residual:.3g}.")
        if check is not None:
            rows = [
                [
                    n,
                    _num(num.multipliers[position[n]]),
                    _num(check.gradient[n]),
                    f"{abs(num.multipliers[position[n]] - check.gradient[n]):.3g}",
                ]
                for n in ex.inputs
            ]
            self.heading("Back-substitution and the generated gradient agree")
            self._table(["input", "λ by back-substitution", "generated gradient", "difference"], rows)

    def gradient_only(self, check: Check) -> None:
        self.heading("The gradient at the point")
        self.para(
            "The numeric system is printed for straight-line functions; this one has loops or branches, whose "
            "system is that of the unrolled program. The generated gradient at the point:"
        )
        self._table(["input", "generated gradient"], [[n, _num(v)] for n, v in check.gradient.items()])

    def _matrix(self, num: Numeric) -> None:
        names = num.names
        if self.fmt == "latex":
            cols = "c" * len(names)
            rows = [" & ".join(_num(v) for v in row) for row in num.matrix]
            lam = r" \\ ".join(r"\lambda_{" + latex_name(n) + "}" for n in names)
            rhs = r" \\ ".join("1" if k == len(names) - 1 else "0" for k in range(len(names)))
            body = " \\\\\n".join(rows)
            self.out += [
                "$$",
                r"\left(\begin{array}{" + cols + "}",
                body,
                r"\end{array}\right)",
                r"\begin{pmatrix}" + lam + r"\end{pmatrix} = \begin{pmatrix}" + rhs + r"\end{pmatrix}",
                "$$",
                "",
            ]
            return
        self._table(["A"] + names, [[n] + [_num(v) for v in row] for n, row in zip(names, num.matrix)])

    def _table(self, header: list[str], rows: list[list[str]]) -> None:
        if self.fmt == "text":
            widths = [max(len(r[k]) for r in [header] + rows) for k in range(len(header))]
            for r in [header] + rows:
                self.out.append(
                    "  " + "  ".join(c.rjust(w) if k else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths)))
                )
        elif self.fmt == "markdown":
            self.out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            self.out += ["| " + " | ".join(r) + " |" for r in rows] + [""]
        else:
            self.out += [
                r"\begin{tabular}{" + "l" * len(header) + "}",
                " & ".join(map(_tex_escape, header)) + r" \\ \hline",
            ]
            self.out += [" & ".join(map(_tex_escape, r)) + r" \\" for r in rows]
            self.out += [r"\end{tabular}", ""]

    def finish(self) -> str:
        if self.fmt == "latex":
            self.out.append(r"\end{document}")
        return "\n".join(self.out).rstrip() + "\n"


def _num(v: float) -> str:
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


_TEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "λ": r"\ensuremath{\lambda}",
    "∂": r"\ensuremath{\partial}",
    "Σ": r"\ensuremath{\Sigma}",
    "α": r"\ensuremath{\alpha}",
    "·": r"\ensuremath{\cdot}",
    "|": r"\ensuremath{|}",
    "<": r"\ensuremath{<}",
    ">": r"\ensuremath{>}",
}


def _tex_escape(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in s)
