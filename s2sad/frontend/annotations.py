"""Parameter annotations: what they say of a parameter's value, for :mod:`s2sad.values` (see
:attr:`s2sad.ir.Param.annotation`). Names resolve through the module's bindings like any other: a rebound
``float`` is not the builtin, and an annotation s2sad does not read says nothing."""

from __future__ import annotations

import libcst as cst

from .expressions import _Expressions


class _Annotations(_Expressions):
    def annotation(self, node: cst.BaseExpression) -> str | None:
        """What a parameter's annotation says of its value (see :attr:`ir.Param.annotation`): ``float``,
        ``int``, ``bool``, ``np.ndarray``, ``Annotated[np.ndarray, "n m"]`` and jaxtyping's
        ``Float[np.ndarray, "n m"]``, each name resolved through the module's bindings (a rebound ``float``
        is not the builtin); anything else says nothing."""
        qualified = self._annotation_name(node)
        if qualified in ("builtins.float", "builtins.int", "builtins.bool"):
            return qualified.split(".")[1]
        if qualified == "numpy.ndarray":
            return "ndarray"
        if not isinstance(node, cst.Subscript) or len(node.slice) != 2:
            return None
        outer = self._annotation_name(node.value)
        if outer not in ("typing.Annotated", "typing_extensions.Annotated") and not (
            outer is not None and outer.startswith("jaxtyping.")
        ):
            return None
        first, second = (e.slice for e in node.slice)
        if not isinstance(first, cst.Index) or not isinstance(second, cst.Index):
            return None
        if self._annotation_name(first.value) != "numpy.ndarray":
            return None
        dims = second.value
        if not isinstance(dims, cst.SimpleString) or "\\" in dims.value or dims.prefix.lower() not in ("", "r"):
            self.error(
                dims,
                "the shape of an array annotation must be a string of dimensions",
                "bad-annotation",
                "write the dimensions as a string of names and numbers, e.g. 'Annotated[np.ndarray, \"n m\"]'",
            )
            return None
        return "ndarray:" + " ".join(dims.evaluated_value.split())

    def _annotation_name(self, node: cst.BaseExpression) -> str | None:
        """The qualified name an annotation's name or ``module.attr`` refers to, at module level."""
        if isinstance(node, cst.Attribute):
            base = self._annotation_name(node.value)
            return f"{base}.{node.attr.value}" if base is not None else None
        if isinstance(node, cst.Name):
            return self._meaning(node).qualname
        return None
