"""The README's list of derivative rules is the one the table gives (issue 14, item 4)."""

from pathlib import Path

import pytest

from s2sad.rule_list import BEGIN, END, markdown
from s2sad.rules import FAMILIES
from s2sad.rules_linalg import TUPLE_RESULTS


def test_the_readme_rule_list_is_generated_from_the_table():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    if BEGIN not in readme or END not in readme:
        pytest.skip("README.md has no rules:begin/rules:end markers yet (paste `python -m s2sad.rule_list` in)")
    start = readme.index(BEGIN)
    listed = readme[start : readme.index(END, start) + len(END)] + "\n"
    assert listed == markdown(), "README's rule list is stale: paste the output of `python -m s2sad.rule_list`"


def test_every_rule_of_the_table_is_listed():
    text = markdown()
    for rules in FAMILIES.values():
        for rule in rules:
            if rule.fn.startswith("numpy.array"):
                continue
            fn = next((f for f, parts in TUPLE_RESULTS.items() if rule.fn in parts), rule.fn)  # eigh's values
            short = fn.rpartition(".")[2]
            assert short in text or rule.fn.startswith("operator."), rule.fn
