"""The modes s2sad generates, in one table: per mode its pipeline, its function's name prefix, its CLI verb
and its check.

``grad`` is the gradient of a scalar function (reverse mode, seeded with 1); ``jvp`` the Jacobian-vector
product (forward mode, :mod:`s2sad.forward_pipeline`); ``vjp`` the vector-Jacobian product (reverse mode
seeded with ``out_bar``); ``jacobian`` the whole Jacobian from forward or reverse sweeps
(:mod:`s2sad.jacobians`); ``hvp`` the Hessian-vector product (forward mode over the reverse-mode gradient,
:mod:`s2sad.hvp_pipeline`). The command line (``s2sad <verb>``), the Python API (``s2sad.<verb>``, the
decorator's ``modes``), the project's ``[tool.s2sad.targets]`` (``mode = "..."``) and ``gradcheck --mode`` all
read this table, so a new mode is one row. A pipeline and a check are named ``"module:function"`` and
imported when used: ``import s2sad`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .pipeline import Generated

__all__ = ["Mode", "MODES", "DEFAULT", "get"]


@dataclass(frozen=True)
class Mode:
    """One row of the table."""

    name: str  #: the CLI verb, the API function, the ``mode`` of a target, ``gradcheck --mode``
    prefix: str  #: the generated function's name: ``<prefix><f>``
    pipeline: str  #: ``module:function`` with the signature of :func:`s2sad.forward_pipeline.pipeline`
    check: str  #: ``module:function`` checking it against finite differences (see :mod:`s2sad.gradcheck`)
    summary: str  #: the CLI's one-line help
    description: str  #: the CLI's description: the generated function's signature and result
    wrt_help: str = "the parameters to differentiate, comma-separated (default: all that the result depends on)"

    def generate(self, *args: Any) -> Generated:
        """Run this mode's pipeline: ``(source, path, name, wrt, line, output)``."""
        result: Generated = _resolve(self.pipeline)(*args)
        return result

    def checker(self) -> Callable[..., Any]:
        return _resolve(self.check)


def _resolve(spec: str) -> Callable[..., Any]:
    module, _, function = spec.partition(":")
    found: Callable[..., Any] = getattr(importlib.import_module(module), function)
    return found


MODES: dict[str, Mode] = {
    m.name: m
    for m in (
        Mode(
            "grad",
            "grad_",
            "s2sad.pipeline:gradient_pipeline",
            "s2sad.gradcheck:check",
            "print or write the gradient module of one function",
            "Generate the reverse-mode gradient of a function as a readable Python module.",
        ),
        Mode(
            "jvp",
            "jvp_",
            "s2sad.forward_pipeline:pipeline",
            "s2sad.gradcheck:check_jvp",
            "print or write the forward-mode (Jacobian-vector product) module of one function",
            "Generate the forward-mode derivative of a function as a readable Python module: "
            "jvp_f(<f's parameters>, <p>_dot ...) returns (value, value_dot).",
            "the parameters that get a tangent, comma-separated (default: all that the result depends on)",
        ),
        Mode(
            "vjp",
            "vjp_",
            "s2sad.pipeline:vjp_pipeline",
            "s2sad.gradcheck:check_vjp",
            "print or write the reverse-mode (vector-Jacobian product) module of one function",
            "Generate the vector-Jacobian product of a function (scalar, array or tuple result) as a readable "
            "Python module: vjp_f(<f's parameters>, out_bar) returns the gradients of the dot product of "
            "out_bar and the result, in the gradient's form.",
        ),
        Mode(
            "jacobian",
            "jacobian_",
            "s2sad.jacobians:pipeline",
            "s2sad.gradcheck:check_jacobian",
            "print or write the Jacobian module of one function",
            "Generate the Jacobian of a function as a readable Python module: jacobian_f(<f's parameters>) "
            "returns, per differentiated parameter, an array of shape result.shape + parameter.shape, from "
            "forward or reverse sweeps (whichever are fewer).",
        ),
        Mode(
            "hvp",
            "hvp_",
            "s2sad.hvp_pipeline:generate_hvp",
            "s2sad.gradcheck:check_hvp",
            "print or write the Hessian-vector product module of one function (forward over reverse mode)",
            "Generate the Hessian-vector product of a function as a readable Python module, by forward mode over "
            "its reverse-mode gradient: hvp_f(<f's parameters>, <p>_dot ...) returns H·v in the gradient's form.",
            "the parameters differentiated (twice), comma-separated (default: all that the result depends on)",
        ),
    )
}

#: the mode of a target that names none
DEFAULT = "grad"


def get(name: str) -> Mode | None:
    """The mode called ``name``, or None."""
    return MODES.get(name)
