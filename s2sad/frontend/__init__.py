"""Frontend: source text -> IR, with diagnostics. The only package that imports LibCST.

It guarantees: the file is read as UTF-8 (a BOM and CRLF line endings are fine), CPython accepts it (its
``SyntaxError`` is reported as is), the named function exists, every name the function calls is resolved
through the module's own imports to a qualified name with a rule (or to a helper of the user's, lowered too),
and every construct outside the supported subset is reported, all of them, with positions. The result is
three-address IR in the user's names: nested expressions are flattened into named intermediates whose names
start with ``ir.TEMP`` (the SSA stage gives every definition its final name). Nothing here executes the
user's code.

What a name refers to is decided in one place, :mod:`s2sad.bindings` (Python's scoping rules over CPython's
own tree); a name without exactly one binding is refused. Identifiers are read NFKC-normalised, as Python
reads them, and lines are counted as CPython's tokenizer counts them.

Modules, each depending only on those before it: ``syntax`` (tables, node helpers), ``names`` (the function's
scope, the generated module's namespace), ``expressions``, ``lowering`` (statements, the function),
``program`` (helpers and the user's rules).
"""

from ..source import function_names, read_source
from .opaque import Opaque
from .program import Program, parse_function, parse_program

__all__ = ["read_source", "parse_function", "parse_program", "Program", "Opaque", "function_names"]
