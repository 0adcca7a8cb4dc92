"""s2sad: source-to-source reverse-mode automatic differentiation for Python.

Pipeline (one module per stage, data flowing one way): ``frontend`` (LibCST -> IR) -> ``ssa`` -> ``analysis``
-> ``reverse`` (adjoints from the ``rules`` table) -> ``emit`` (IR -> source -> black) -> ``api`` / ``cli``.
"""

__version__ = "0.1.0"

from .api import explain, generate, grad, grad_source, gradient, rule, value_and_grad  # noqa: E402
from .diagnostics import InternalError, S2sadError  # noqa: E402
from .gradcheck import GradCheck, gradcheck  # noqa: E402
from .transforms import jacobian, jacobian_source, jvp, jvp_source, vjp, vjp_source  # noqa: E402


def __getattr__(name: str) -> object:
    """``s2sad.hvp``, ``s2sad.hvp_source`` and ``s2sad.check_hvp``: the Hessian-vector product's pipeline
    (forward over reverse) is imported when first asked for, not by every ``s2sad grad``."""
    if name in ("check_hvp", "hvp", "hvp_source"):
        from . import hvp_pipeline

        return getattr(hvp_pipeline, name)
    raise AttributeError(f"module 's2sad' has no attribute {name!r}")


__all__ = [
    "__version__",
    "generate",
    "grad",
    "grad_source",
    "gradient",
    "rule",
    "value_and_grad",
    "jvp",
    "jvp_source",
    "vjp",
    "vjp_source",
    "jacobian",
    "jacobian_source",
    "hvp",
    "hvp_source",
    "check_hvp",
    "explain",
    "gradcheck",
    "GradCheck",
    "S2sadError",
    "InternalError",
]
