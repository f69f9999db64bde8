"""The expression parser shared by the ARM and createUiDefinition rules."""

from __future__ import annotations

import pytest

from ccm_azure.validate import expressions as ex


def test_nested_calls_members_and_indexes() -> None:
    node = ex.parse(
        "[reference(resourceId('Microsoft.Network/networkInterfaces', "
        "variables('nic')), '2025-07-01').ipConfigurations[0].properties.privateIP]"
    )
    assert isinstance(node, ex.Member)
    assert ex.referenced(node, "variables") == {"nic"}
    assert [c.name for c in ex.calls(node, "RESOURCEID")] == ["resourceId"]


def test_quotes_numbers_and_literals() -> None:
    node = ex.parse("[concat('it''s', -1, 2.5, true, null)]")
    assert node == ex.Call(
        "concat",
        (
            ex.Literal("it's"),
            ex.Literal(-1),
            ex.Literal(2.5),
            ex.Literal(True),
            ex.Literal(None),
        ),
    )


def test_lambdas() -> None:
    node = ex.parse("[map(steps('s').grid, (row) => row.key)]")
    assert isinstance(node, ex.Call)
    assert node.args[1] == ex.Lambda(("row",), ex.Member(ex.Name("row"), "key"))
    arm = ex.parse("[filter(parameters('l'), lambda('x', not(empty(x))))]")
    assert ex.referenced(arm, "parameters") == {"l"}


def test_parenthesised_expression_is_not_a_lambda() -> None:
    assert ex.parse("[(1)]") == ex.Literal(1)


@pytest.mark.parametrize(
    "text",
    ["[concat('a'", "[f(1,)]", "['open]", "[a.]", "[f(1) g]", "[]", "plain"],
)
def test_malformed(text: str) -> None:
    with pytest.raises(ex.ExpressionSyntaxError):
        ex.parse(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("[x()]", True), ("[[x()]", False), ("text", False), (3, False), ("[a] ", True)],
)
def test_is_expression(value: object, expected: bool) -> None:
    assert ex.is_expression(value) is expected
