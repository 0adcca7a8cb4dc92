"""The modules s2sad generated during this test session.

``tests/conftest.py`` fills it by wrapping ``s2sad.emit.emit``, the one function every generated module passes
through; ``tests/test_generated_modules.py`` checks every entry at the end of the session. Each text maps to the
test that generated it first and the modules the user's own rules (``[tool.s2sad.rules]``) name: a function
with a user rule is called from the generated module, so its module is imported there.
"""

MODULES: dict[str, tuple[str, frozenset[str]]] = {}
