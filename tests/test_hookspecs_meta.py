"""Meta-tests: every hookspec is documented, in its docstring and in
docs/plugins.md, and has a test that shows Agnozys calling it."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from agnozys import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "docs" / "plugins.md").read_text()
FIRSTRESULT = "Stops at the first non-None result."


def specs() -> list[tuple[str, Any]]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [
        (name, func)
        for name, func in vars(hookspecs).items()
        if name.startswith("agnozys_") and hasattr(func, marker)
    ]


SPECS = specs()


def test_hookspecs_are_found() -> None:
    assert len(SPECS) >= 13


def test_hookspec_names_carry_the_project_prefix() -> None:
    for name, func in vars(hookspecs).items():
        if hasattr(func, f"{hookspecs.PROJECT}_spec"):
            assert name.startswith("agnozys_"), name


@pytest.mark.parametrize(("name", "func"), SPECS, ids=[n for n, _ in SPECS])
def test_hookspec_docstring_says_when_each_argument_and_the_return(
    name: str, func: Any
) -> None:
    doc = inspect.getdoc(func) or ""
    assert doc.startswith("Called "), f"{name}: docstring must open 'Called ...'"
    for parameter in inspect.signature(func).parameters:
        assert f":param {parameter}:" in doc, f"{name}: no :param {parameter}:"
    assert ":return:" in doc, f"{name}: say what it returns"
    firstresult = getattr(func, f"{hookspecs.PROJECT}_spec")["firstresult"]
    assert (FIRSTRESULT in doc) == firstresult, (
        f"{name}: firstresult hooks, and only they, end with {FIRSTRESULT!r}"
    )


@pytest.mark.parametrize(("name", "func"), SPECS, ids=[n for n, _ in SPECS])
def test_hookspec_is_documented_in_docs_plugins(name: str, func: Any) -> None:
    arguments = ", ".join(inspect.signature(func).parameters)
    heading = f"### `{name}({arguments})`"
    assert heading in DOCS, f"docs/plugins.md lacks the heading {heading}"
    section = DOCS.split(heading, 1)[1].split("\n### ", 1)[0]
    assert "**When:**" in section, f"docs/plugins.md: say when {name} is called"


@pytest.mark.parametrize(("name", "func"), SPECS, ids=[n for n, _ in SPECS])
def test_hookspec_has_a_test(name: str, func: Any) -> None:
    from tests import test_plugins

    tests = test_plugins.HOOK_TESTS.get(name)
    assert tests, f"{name}: add the test that exercises it to HOOK_TESTS"
    for test in tests:
        assert test.__name__.startswith("test_")
        assert getattr(test_plugins, test.__name__) is test


def test_hook_tests_name_only_real_hooks() -> None:
    from tests import test_plugins

    assert set(test_plugins.HOOK_TESTS) == {name for name, _ in SPECS}
