"""createUiDefinition rules and the JavaScript regex reader, one snippet each.

arm-ttk's own cases (test_conformance.py) pin the upstream expectations; these pin what
they leave open: parsed expressions instead of text search, case, sections, object
outputs, grid cells, and regexes that only JavaScript accepts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from ccm_azure.validate import (
    RULES,
    Document,
    Finding,
    Package,
    Settings,
    check,
    jsregex,
)

Json = dict[str, Any]
SCHEMA = (
    "https://schema.management.azure.com/schemas/0.1.2-preview/"
    "CreateUIDefinition.MultiVm.json#"
)


def form(
    *basics: Json, steps: list[Json] | None = None, outputs: Json | None = None
) -> Json:
    parameters: Json = {"basics": list(basics), "steps": steps or []}
    if outputs is not None:
        parameters["outputs"] = outputs
    return {
        "$schema": SCHEMA,
        "handler": "Microsoft.Azure.CreateUIDef",
        "version": "0.1.2-preview",
        "parameters": parameters,
    }


def template(**parameters: Json) -> Json:
    return {"parameters": parameters, "resources": []}


def step(name: str, *elements: Json) -> Json:
    return {"name": name, "label": name, "elements": list(elements)}


def section(name: str, *elements: Json) -> Json:
    return {
        "name": name,
        "type": "Microsoft.Common.Section",
        "elements": list(elements),
    }


def control(name: str, kind: str, **fields: Any) -> Json:
    return {"name": name, "type": kind, "label": name, "toolTip": "Tip.", **fields}


def run(rule_id: str, ui: Json, main: Json | None = None) -> list[Finding]:
    documents = [Document("createUiDefinition.json", ui, "ui")]
    if main is not None:
        documents.append(Document("mainTemplate.json", main, "template", is_main=True))
    return check(Package(documents), Settings(), only=[RULES[rule_id]])


def errors(rule_id: str, ui: Json, main: Json | None = None) -> list[str]:
    """The errors one rule reports: arm-ttk's error id where it has one, else path."""
    return [f.error_id or f.path for f in run(rule_id, ui, main) if f.level == "error"]


def warnings(rule_id: str, ui: Json, main: Json | None = None) -> list[str]:
    return [f.path for f in run(rule_id, ui, main) if f.level == "warning"]


# The JavaScript regex reader


@pytest.mark.parametrize(
    "pattern",
    [
        r"^https?:\/\/[a-z]+$",  # an escaped slash
        r"(?<=a+)b",  # lookbehind of varying width
        r"(?<!-)x$",
        r"[^]",  # any character at all
        r"[]",  # no character
        r"\8",  # the digit 8
        r"\i\q",  # identity escapes
        r"(?<year>\d{4})-\k<year>",
        r"\k",  # a literal k when there are no named groups
        r"a{",  # a literal brace
        r"x{,5}",
        r"]",
        r"\c",  # a backslash and a c
        r"[\c_]",
        r"\u{12}",  # u repeated twelve times, without the u flag
        r"(?=a)*",  # a quantified lookahead, allowed for old pages
        r"(?i:abc)",  # ECMAScript 2025 modifiers
        r"(?<a>x)|(?<a>y)",  # ECMAScript 2025: the same name in two alternatives
        r"[\d-z]",
        "[😀]",
    ],
)
def test_javascript_accepts(pattern: str) -> None:
    assert jsregex.is_valid(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(?i)abc", "invalid group"),  # inline flags of Python and .NET
        (r"(?P<n>a)", "invalid group"),
        (r"(?>a)", "invalid group"),  # atomic group
        (r"a*+", "nothing to repeat"),  # possessive quantifier
        (r"a**", "nothing to repeat"),
        (r"{1}", "nothing to repeat"),
        (r"^*", "nothing to repeat"),
        (r"(?<=a)*", "nothing to repeat"),
        (r"a{3,1}", "numbers out of order in {} quantifier"),
        (r"[z-a]", "range out of order in character class"),
        (r"[\q-a]", "range out of order in character class"),
        (r"(?<a>x)\k<b>", "invalid named reference"),
        (r"(?<a>x)[\k]", "invalid escape"),
        (r"(?<a>x)(?<a>y)", "duplicate group name 'a'"),
        (r"(?<1a>x)", "invalid group name"),
        (r"(?i-i:a)", "invalid group"),
        (r"^hel($", "unterminated group"),
        (r"a)", "unmatched ')'"),
        (r"[a-z", "unterminated character class"),
        ("abc\\", "\\ at end of pattern"),
    ],
)
def test_javascript_refuses(pattern: str, reason: str) -> None:
    with pytest.raises(jsregex.JsRegexError) as caught:
        jsregex.read(pattern)
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("pattern", "counted", "min_length"),
    [
        (r"^[a-z]{3,79}$", True, 3),
        (r"^(?=.{12,})(?=.*\d).*$", True, 12),
        (r"^[a-f0-9]{8}-[a-f0-9]{4}$", True, 13),
        (r"^(a|bc){3}$", True, 3),
        (r"^\d+$", False, 1),
        (r"^.*$", False, 0),
        (r"\{8\}", False, 3),  # escaped braces count nothing
        (r"[{8,}]", False, 1),  # nor do braces in a class
        (r"(?!.{13})x", True, 1),  # a counted maximum is a length limit too
    ],
)
def test_regex_length(pattern: str, counted: bool, min_length: int) -> None:
    assert jsregex.read(pattern) == jsregex.RegexInfo(counted, min_length)


TRICKY = [
    r"\/",
    r"[^]",
    r"[]",
    r"\8",
    r"\18",
    r"(a)\18",
    r"\07",
    r"[\08]",
    r"\c1",
    r"[\c1]",
    r"[\c]",
    r"[a-\d]",
    r"[\1-\0]",
    r"\x1",
    r"\u12",
    r"(?<a\u0041>x)\k<aA>",
    r"(?<$>x)",
    r"a{1,2}{3}",
    r"a???",
    r"(?:)",
    r"(?=)+",
    r"\b+",
    r"x{2}?",
    r"[--a]",
    r"[a--]",
    r"[\b-a]",
    r"(?<=a)+",
    r"(?<a>x)\k",
    r"\k<a>",
    r"(?<é>a)",
    r"a{99999999999}",
    r"(?<a>.)(?<b>.)\k<a>",
    r"[\k]",
    r"\p{L}",
    r"(?",
    r"(?<a",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_regex_reader_agrees_with_node() -> None:
    script = (
        "const ps = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(ps.map(p => {"
        "try { new RegExp(p); return true } catch (e) { return false } })))"
    )
    result = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(TRICKY),
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(result.stdout)
    assert [jsregex.is_valid(p) for p in TRICKY] == expected


# Handler, schema, location


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Microsoft.Azure.CreateUIDef", []),
        ("microsoft.compute.multivm", []),
        (None, ["CreateUIDefinition.Missing.Handler"]),
        ("", ["CreateUIDefinition.Missing.Handler"]),
        ("Microsoft.Compute.Vm", ["CreateUIDefinition.Incorrect.Handler"]),
    ],
)
def test_handler(value: str | None, expected: list[str]) -> None:
    ui = form(outputs={})
    ui.pop("handler")
    if value is not None:
        ui["handler"] = value
    assert errors("ui-handler", ui) == expected


def test_schema_and_version() -> None:
    ui = form()
    assert errors("ui-schema", ui) == []
    ui["version"] = "0.1.2-PREVIEW"
    assert errors("ui-schema", ui) == []
    ui["$schema"] = SCHEMA.replace("0.1.2-preview", "0.0.1-preview")
    ui["version"] = "0.0.1-preview"
    assert errors("ui-schema", ui) == ["CreateUIDef.Incorrect.Schema"]
    del ui["$schema"], ui["version"]
    assert errors("ui-schema", ui) == [
        "CreateUIDef.Must.Have.Schema",
        "CreateUIDef.Must.Have.Version",
    ]


@pytest.mark.parametrize(
    ("outputs", "expected"),
    [
        ({"location": "[location()]"}, []),
        ({"Location": " [ Location() ] "}, []),
        (
            {"location": "[basics('location')]"},
            ["CreateUIDefinition.Incorrect.Outputs.Location"],
        ),
        (
            {"location": "[location('x')]"},
            ["CreateUIDefinition.Incorrect.Outputs.Location"],
        ),
        ({"location": "location()"}, ["CreateUIDefinition.Incorrect.Outputs.Location"]),
        ({"vmName": "x"}, ["CreateUIDefinition.Missing.Outputs.Location"]),
        (None, ["CreateUIDefinition.Missing.Outputs"]),
    ],
)
def test_location_output(outputs: Json | None, expected: list[str]) -> None:
    assert errors("ui-location-output", form(outputs=outputs)) == expected


# Outputs and template parameters


def test_outputs_are_parameters_ignoring_case_and_managed_app_outputs() -> None:
    ui = form(
        outputs={
            "LOCATION": "[location()]",
            "applicationResourceName": "x",
            "ManagedIdentity": "x",
            "typo": "x",
        }
    )
    main = template(location={"type": "string"})
    assert errors("ui-outputs-are-parameters", ui, main) == [
        "CreateUIDefinition.Output.Missing.From.MainTemplate"
    ]


def test_template_rules_wait_for_the_main_template() -> None:
    ui = form(outputs={"typo": "x"})
    for rule_id in (
        "ui-outputs-are-parameters",
        "ui-feeds-required-parameters",
        "ui-allowed-values-match",
        "ui-password-boxes-feed-secure-parameters",
        "ui-size-selector-default-allowed",
    ):
        assert RULES[rule_id].needs_main_template
        assert run(rule_id, ui) == []


@pytest.mark.parametrize(
    ("definition", "outputs", "expected"),
    [
        ({"type": "string"}, {"name": "[basics('n')]"}, []),
        ({"type": "string", "defaultValue": ""}, {}, []),
        ({"type": "string"}, {"NAME": "x"}, []),
        (
            {"type": "string"},
            {},
            ["Parameter.Without.Default.Missing.From.CreateUIDefinition"],
        ),
        (
            {"type": "string", "defaultValue": None},
            {},
            ["Parameter.Without.Default.Missing.From.CreateUIDefinition"],
        ),
        (
            {"type": "string"},
            {"name": None},
            ["Parameter.Without.Default.Missing.From.CreateUIDefinition"],
        ),
    ],
)
def test_feeds_required_parameters(
    definition: Json, outputs: Json, expected: list[str]
) -> None:
    main = template(name=definition)
    assert (
        errors("ui-feeds-required-parameters", form(outputs=outputs), main) == expected
    )


def test_controls_exist_follows_nested_calls_sections_and_objects() -> None:
    ui = form(
        control("vmName", "Microsoft.Common.TextBox"),
        steps=[step("net", section("ip", control("dns", "Microsoft.Common.TextBox")))],
        outputs={
            "a": "[concat(basics('vmName'), '-', steps('net').ip.dns)]",
            "b": "[steps('net')]",
            "c": {"inner": ["[if(true, basics('vmNam'), 'x')]"]},
            "d": "[steps('network').ip]",
            "e": "[steps('net').ip.dsn]",
            "f": "[map(steps('net').ip.dns, (item) => item.name)]",
        },
    )
    found = run("ui-controls-exist", ui)
    assert [(f.path, f.error_id) for f in found] == [
        ("$.parameters.outputs.c.inner[0]", "ControlName.Not.Found"),
        ("$.parameters.outputs.d", "StepName.Not.Found"),
        ("$.parameters.outputs.e", "ElementName.Not.Found"),
    ]
    assert (
        found[0].message
        == "basics('vmNam') names no control of the form; fix the name."
    )


# PasswordBox and SizeSelector wiring


def password_form(outputs: Json) -> Json:
    box = control("pw", "Microsoft.Common.PasswordBox")
    return form(steps=[step("s", section("sec", box))], outputs=outputs)


@pytest.mark.parametrize(
    ("outputs", "kind", "expected"),
    [
        ({"pw": "[steps('s').sec.pw]"}, "secureString", []),
        ({"pw": "[steps('s').sec.pw]"}, "SECURESTRING", []),
        (
            {"pw": {"list": [{"p": "[coalesce(steps('s').sec.pw, 'x')]"}]}},
            "secureObject",
            [],
        ),
        ({"pw": {"p": "[steps('s').sec.pw]"}}, "object", ["$.parameters.outputs.pw"]),
        ({"pw": "[steps('s').sec.pw]"}, "string", ["$.parameters.outputs.pw"]),
        (
            {"other": "[steps('s').sec.pw]"},
            "secureString",
            ["$.parameters.outputs.other"],
        ),
        (
            {"pw": "[steps('s').sec.pwd]"},
            "secureString",
            ["$.parameters.steps[0].elements[0].elements[0]"],
        ),
    ],
)
def test_password_boxes_feed_secure_parameters(
    outputs: Json, kind: str, expected: list[str]
) -> None:
    main = template(pw={"type": kind})
    ui = password_form(outputs)
    assert errors("ui-password-boxes-feed-secure-parameters", ui, main) == expected


def test_password_box_named_under_the_wrong_function_is_still_traced() -> None:
    # basics('s') is the step's name used with the wrong function: the controls
    # rule reports the name; this one still checks the parameter it was meant for.
    main = template(pw={"type": "string"})
    ui = password_form({"pw": "[basics('s').sec.pw]"})
    assert errors("ui-password-boxes-feed-secure-parameters", ui, main) == [
        "$.parameters.outputs.pw"
    ]
    assert errors("ui-controls-exist", ui) == ["ControlName.Not.Found"]


def size_form(outputs: Json, **constraints: Any) -> Json:
    selector = control(
        "size",
        "Microsoft.Compute.SizeSelector",
        recommendedSizes=["Standard_DC2s_v3"],
        osPlatform="Linux",
        constraints=constraints,
    )
    return form(steps=[step("node", selector)], outputs=outputs)


@pytest.mark.parametrize(
    ("default", "allowed", "expected"),
    [
        ("Standard_DC2s_v3", ["standard_dc2s_v3"], []),
        ("[variables('size')]", ["Standard_DC2s_v3"], []),
        ("Standard_DC2s_v3", None, []),
        (
            "Standard_D2s_v3",
            ["Standard_DC2s_v3"],
            ["$.parameters.steps[0].elements[0].constraints.allowedSizes"],
        ),
    ],
)
def test_size_selector_offers_the_default(
    default: str, allowed: list[str] | None, expected: list[str]
) -> None:
    main = template(vmSize={"type": "string", "defaultValue": default})
    constraints = {"allowedSizes": allowed} if allowed else {}
    ui = size_form({"vmSize": "[steps('node').size]"}, **constraints)
    assert errors("ui-size-selector-default-allowed", ui, main) == expected


def test_size_selector_must_feed_a_parameter() -> None:
    main = template(vmSize={"type": "string"})
    assert errors("ui-size-selector-default-allowed", size_form({}), main) == [
        "$.parameters.steps[0].elements[0]"
    ]
    ui = size_form({"size": "[steps('node').size]"})
    assert errors("ui-size-selector-default-allowed", ui, main) == [
        "$.parameters.outputs.size"
    ]


# Allowed values


def dropdown(name: str, *values: Any, **fields: Any) -> Json:
    items = [{"label": str(v), "value": v} for v in values]
    return control(
        name,
        "Microsoft.Common.DropDown",
        constraints={"allowedValues": items},
        **fields,
    )


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"type": "string", "allowedValues": ["A", "b"]}, []),
        ({"type": "string", "allowedValues": ["a"]}, ["Allowed.Value.Mismatch"]),
        ({"type": "string", "defaultValue": "c", "allowedValues": ["a", "b", "c"]}, []),
        ({"type": "string", "defaultValue": "c"}, ["Allowed.Value.Default.Mismatch"]),
        ({"type": "string", "defaultValue": "[variables('x')]"}, []),
        ({"type": "array", "defaultValue": ["a", "B"]}, []),
        (
            {"type": "array", "defaultValue": ["a", "z"]},
            ["Allowed.Value.Default.Mismatch"],
        ),
    ],
)
def test_allowed_values(definition: Json, expected: list[str]) -> None:
    ui = form(dropdown("pick", "a", "b"), outputs={"pick": "[basics('pick')]"})
    assert errors("ui-allowed-values-match", ui, template(pick=definition)) == expected


def test_allowed_values_in_a_section_of_basics() -> None:
    ui = form(
        section("sec", dropdown("pick", 1, 2)),
        outputs={"count": "[basics('sec').pick]"},
    )
    main = template(count={"type": "int", "allowedValues": [1]})
    assert errors("ui-allowed-values-match", ui, main) == ["Allowed.Value.Mismatch"]
    main = template(count={"type": "int", "allowedValues": ["1", "2"]})
    assert errors("ui-allowed-values-match", ui, main) == []


def test_allowed_values_need_a_user() -> None:
    main = template(other={"type": "string"})
    unused = form(dropdown("pick", "a"), outputs={})
    assert errors("ui-allowed-values-match", unused, main) == ["$.parameters.basics[0]"]
    # used by another control, or through a transformation: nothing to compare
    shown = form(
        dropdown("pick", "a"),
        control(
            "box", "Microsoft.Common.InfoBox", visible="[equals(basics('pick'), 'a')]"
        ),
        outputs={},
    )
    assert errors("ui-allowed-values-match", shown, main) == []
    transformed = form(
        dropdown("pick", "a"), outputs={"other": "[toUpper(basics('pick'))]"}
    )
    assert errors("ui-allowed-values-match", transformed, main) == []
    computed = form(
        control(
            "pick",
            "Microsoft.Common.DropDown",
            constraints={"allowedValues": "[steps('x').list]"},
        ),
        outputs={"other": "[basics('pick')]"},
    )
    main = template(other={"type": "string", "defaultValue": "N/A"})
    assert errors("ui-allowed-values-match", computed, main) == []


def test_allowed_regions() -> None:
    ui = form(outputs={"location": "[location()]"})
    ui["parameters"]["config"] = {
        "basics": {"location": {"allowedValues": ["eastus", "uksouth"]}}
    }
    fine = {"type": "string", "allowedValues": ["East US", "UK South", "westus"]}
    assert errors("ui-allowed-values-match", ui, template(location=fine)) == []
    narrow = {"type": "string", "allowedValues": ["eastus"]}
    assert errors("ui-allowed-values-match", ui, template(location=narrow)) == [
        "Allowed.Value.Mismatch"
    ]
    literal = {"type": "string", "defaultValue": "westus"}
    assert errors("ui-allowed-values-match", ui, template(location=literal)) == [
        "Allowed.Value.Default.Mismatch"
    ]
    computed = {"type": "string", "defaultValue": "[resourceGroup().location]"}
    assert errors("ui-allowed-values-match", ui, template(location=computed)) == []


# Controls one by one


def picker(kind: str, **options: Any) -> Json:
    return control("pick", kind, options=options) if options else control("pick", kind)


@pytest.mark.parametrize(
    ("kind", "outputs", "options", "expected"),
    [
        (
            "Microsoft.Network.PublicIpAddressCombo",
            ["resourceGroup", "newOrExistingOrNone"],
            {},
            [],
        ),
        (
            "Microsoft.Network.PublicIpAddressCombo",
            ["resourceGroup", "name"],
            {},
            ["Missing.Output.NewOrExisting"],
        ),
        (
            "Microsoft.Network.VirtualNetworkCombo",
            ["ResourceGroup", "newOrExisting"],
            {},
            [],
        ),
        (
            "Microsoft.Storage.StorageAccountSelector",
            ["resourceGroupName", "newOrExisting"],
            {"hideExisting": False},
            ["Missing.Output.ResourceGroup"],
        ),
        ("Microsoft.Storage.StorageAccountSelector", [], {"hideExisting": True}, []),
        ("microsoft.storage.storageaccountselector", [], {"HideExisting": "true"}, []),
        (
            "Microsoft.Storage.StorageAccountSelector",
            [],
            {},
            ["Missing.Output.ResourceGroup", "Missing.Output.NewOrExisting"],
        ),
    ],
)
def test_hide_existing(
    kind: str, outputs: list[str], options: Json, expected: list[str]
) -> None:
    ui = form(
        steps=[step("s", section("sec", picker(kind, **options)))],
        outputs={m: f"[steps('s').sec.pick.{m}]" for m in outputs},
    )
    assert errors("ui-hide-existing-outputs", ui) == expected


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        ("Microsoft.Common.PasswordBox", {"hideConfirmation": False}, []),
        (
            "Microsoft.Common.PasswordBox",
            {"hideConfirmation": True},
            ["Confirmation.Should.Not.Be.Hidden"],
        ),
        (
            "Microsoft.Compute.CredentialsCombo",
            {"HideConfirmation": "True"},
            ["Confirmation.Should.Not.Be.Hidden"],
        ),
        ("Microsoft.Compute.CredentialsCombo", {"hidePassword": True}, []),
    ],
)
def test_credential_confirmation(kind: str, options: Json, expected: list[str]) -> None:
    ui = form(control("pw", kind, options=options))
    assert errors("ui-credential-confirmation-shown", ui) == expected


@pytest.mark.parametrize(
    ("constraints", "expected_errors", "expected_warnings"),
    [
        ({"required": True}, [], []),
        ({"regex": "[steps('s').pattern]"}, [], []),
        ({"regex": "^.{12,}$"}, [], []),
        ({"regex": r"^(?=.{14,})(?=.*\d)(?<![-]).*$"}, [], []),
        ({"regex": "^[a-z]{8,}$"}, [], ["$.parameters.basics[0].constraints.regex"]),
        ({"regex": "^[a-z]+$"}, ["$.parameters.basics[0].constraints.regex"], []),
        ({"regex": "(?i)^.{12,}$"}, ["$.parameters.basics[0].constraints.regex"], []),
        (None, ["$.parameters.basics[0]"], []),
    ],
)
def test_password_min_length(
    constraints: Json | None, expected_errors: list[str], expected_warnings: list[str]
) -> None:
    box = control("pw", "Microsoft.Common.PasswordBox")
    if constraints is not None:
        box["constraints"] = constraints
    ui = form(box)
    assert errors("ui-password-min-length", ui) == expected_errors
    assert warnings("ui-password-min-length", ui) == expected_warnings


MISSING_REGEX = "Textboxes.Are.Well.Formed.Missing.Constraints.Regex"
INVALID_REGEX = "Textboxes.Are.Well.Formed.Invalid.Constraints.Regex.Expressison"


@pytest.mark.parametrize(
    ("constraints", "expected_errors", "expected_warnings"),
    [
        ({"regex": r"^https:\/\/.{1,100}$", "validationMessage": "m"}, [], []),
        ({"regex": r"^(?<=x+)a{1,3}$", "validationMessage": "m"}, [], []),
        ({"regex": "[basics('pattern')]", "validationMessage": "m"}, [], []),
        (
            {"regex": "^[a-z]+$", "validationMessage": "m"},
            [],
            ["$.parameters.basics[0].constraints.regex"],
        ),
        ({"regex": "(?i)^[a-z]{1,5}$", "validationMessage": "m"}, [INVALID_REGEX], []),
        (
            {"regex": "^[a-z]{1,5}$"},
            ["Textboxes.Are.Well.Formed.Missing.Constraints.ValidationMessage"],
            [],
        ),
        ({"validations": [{"isValid": "[true]", "message": "m"}]}, [MISSING_REGEX], []),
        (
            {
                "validations": [
                    {"regex": "^a{1}$", "message": "m"},
                    {"regex": "^(", "message": "m"},
                ]
            },
            [INVALID_REGEX],
            [],
        ),
        ({"required": True}, [MISSING_REGEX], []),
        (None, ["Textboxes.Are.Well.Formed.Missing.Constraints"], []),
    ],
)
def test_textbox_constraints(
    constraints: Json | None, expected_errors: list[str], expected_warnings: list[str]
) -> None:
    box = control("name", "Microsoft.Common.TextBox")
    if constraints is not None:
        box["constraints"] = constraints
    ui = form(box)
    assert errors("ui-textbox-constraints", ui) == expected_errors
    assert warnings("ui-textbox-constraints", ui) == expected_warnings


def test_textboxes_in_grid_cells_are_checked() -> None:
    cell = {"type": "Microsoft.Common.TextBox", "constraints": {"required": True}}
    grid = control(
        "grid",
        "Microsoft.Common.EditableGrid",
        constraints={"columns": [{"id": "k", "header": "K", "element": cell}]},
    )
    assert errors("ui-textbox-constraints", form(grid)) == [
        "Textboxes.Are.Well.Formed.Missing.Constraints.Regex"
    ]
    assert errors("ui-tooltips", form(grid)) == [
        "$.parameters.basics[0].constraints.columns[0].element"
    ]


@pytest.mark.parametrize(
    ("fields", "kind", "expected"),
    [
        ({"toolTip": "Tip."}, "Microsoft.Common.TextBox", []),
        ({"tooltip": "Tip."}, "Microsoft.Common.TextBox", []),
        ({"toolTip": {"password": "Tip."}}, "Microsoft.Compute.CredentialsCombo", []),
        (
            {"toolTip": {}},
            "Microsoft.Compute.CredentialsCombo",
            ["$.parameters.basics[0]"],
        ),
        ({"toolTip": "  "}, "Microsoft.Common.TextBox", ["$.parameters.basics[0]"]),
        ({}, "Microsoft.Common.TextBox", ["$.parameters.basics[0]"]),
        ({}, "Microsoft.Common.InfoBox", []),
        ({}, "microsoft.solutions.armapicontrol", []),
        ({}, "Microsoft.Solutions.JitConfigurator", []),
        (
            {"request": {"body": {"type": "Microsoft.Sql/servers"}}},
            "Microsoft.Solutions.ArmApiControl",
            [],
        ),
    ],
)
def test_tooltips(fields: Json, kind: str, expected: list[str]) -> None:
    item = {"name": "c", "type": kind, **fields}
    assert errors("ui-tooltips", form(item)) == expected


@pytest.mark.parametrize(
    ("default", "expected"),
    [(None, []), ("", []), ("azureuser", ["$.parameters.basics[0].defaultValue"])],
)
def test_username_has_no_default(default: str | None, expected: list[str]) -> None:
    box = control("user", "Microsoft.Compute.UserNameTextBox")
    if default is not None:
        box["defaultValue"] = default
    assert errors("ui-username-no-default", form(box)) == expected


@pytest.mark.parametrize(
    ("validations", "expected"),
    [
        ([{"regex": "^a{1}$", "message": "m"}], []),
        ([{"isValid": "[true]", "Message": "m"}], []),
        ([{"regex": "^a{1}$"}], ["Validations.Must.Have.Message"]),
        ({"regex": "^a{1}$"}, ["Validations.Must.Have.Message"]),
        ([{"message": "m"}, "x"], ["Validations.Must.Have.Message"]),
    ],
)
def test_validations_have_messages(validations: Any, expected: list[str]) -> None:
    box = control(
        "name", "Microsoft.Common.TextBox", constraints={"validations": validations}
    )
    assert errors("ui-validation-messages", form(box)) == expected


@pytest.mark.parametrize(
    ("value", "blank"),
    [
        ("", True),
        ("  ", True),
        (None, True),
        ({}, True),
        ([], True),
        ([{}], True),
        ([""], True),
        ([{}, {}], False),
        (0, False),
        (False, False),
        ("x", False),
    ],
)
def test_no_blanks(value: Any, blank: bool) -> None:
    ui = form(control("name", "Microsoft.Common.TextBox", placeholder=value))
    found = run("ui-no-blanks", ui)
    assert [f.path for f in found] == (
        ["$.parameters.basics[0].placeholder"] if blank else []
    )
    assert all(f.severity.value == "warning" for f in found)  # not blocking


def test_blanks_allowed_where_arm_ttk_allows_them() -> None:
    ui = form(control("name", "Microsoft.Common.TextBox", defaultValue=""))
    assert run("ui-no-blanks", ui) == []
    ui = form(control("name", "Microsoft.Common.TextBox", defaultValue={"name": ""}))
    assert [f.path for f in run("ui-no-blanks", ui)] == [
        "$.parameters.basics[0].defaultValue.name"
    ]


def test_steps_basics_is_basics_and_case_only_warns() -> None:
    ui = form(
        control("vmName", "Microsoft.Common.TextBox"),
        outputs={"a": "[steps('basics').vmName]", "b": "[basics('VMNAME')]"},
    )
    found = run("ui-controls-exist", ui)
    assert [(f.path, f.level) for f in found] == [("$.parameters.outputs.b", "warning")]
    assert found[0].severity.value == "warning"


def test_a_computed_control_name_may_use_any_control() -> None:
    ui = form(
        dropdown("kind", "fixed", "custom"),
        dropdown("fixed", "1.0", "2.0"),
        outputs={"version": "[basics(basics('kind'))]"},
    )
    main = template(version={"type": "string"})
    assert errors("ui-allowed-values-match", ui, main) == []
