"""createUiDefinition rules: the form is well-formed and feeds the template it deploys.

Most of these are the arm-ttk CreateUIDefinition tests that Partner Center runs; the
output-type rule goes further than arm-ttk, whose own type check is switched off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.form import Form, output_type, parameter_type, references
from ccm_azure.validate.registry import Context, Report, rule
from ccm_azure.validate.template import Template

SCHEMA_URL = (
    "https://schema.management.azure.com/schemas/0.1.2-preview/"
    "CreateUIDefinition.MultiVm.json#"
)
HANDLERS = ("Microsoft.Azure.CreateUIDef", "Microsoft.Compute.MultiVm")
# Outputs a managed application may give that are not template parameters.
MANAGED_APP_OUTPUTS = {
    "applicationresourcename",
    "jitaccesspolicy",
    "managedidentity",
    "managedresourcegroupid",
}


def _form(context: Context) -> Form | None:
    data = context.data
    return Form(data) if isinstance(data, Mapping) else None


def _pair(context: Context) -> tuple[Form, Template] | None:
    form = _form(context)
    main = context.main_template
    if form is None or main is None or not isinstance(main.data, Mapping):
        return None
    return form, Template(main.data)


def _output_path(name: str) -> str:
    return f"$.parameters.outputs.{name}"


@rule(
    "ui-handler",
    family="ui",
    summary="The form's handler is one the portal knows.",
    arm_ttk="Handler-Must-Be-Correct",
)
def handler(context: Context) -> Iterator[Report]:
    form = _form(context)
    if form is None:
        return
    value = form.data.get("handler")
    if value not in HANDLERS:
        yield (
            "$.handler",
            f"handler is {value!r}; set it to '{HANDLERS[0]}'.",
        )


@rule(
    "ui-schema",
    family="ui",
    summary="The form declares the 0.1.2-preview schema and the matching version.",
    arm_ttk="CreateUIDefinition-Should-Have-Schema",
)
def schema(context: Context) -> Iterator[Report]:
    form = _form(context)
    if form is None:
        return
    if form.data.get("$schema") != SCHEMA_URL:
        yield "$.$schema", f"set $schema to exactly '{SCHEMA_URL}'."
    if form.data.get("version") != "0.1.2-preview":
        yield "$.version", "set version to '0.1.2-preview', the schema's version."


@rule(
    "ui-location-output",
    family="ui",
    summary="The form passes the chosen region as the location output.",
    arm_ttk="Location-Should-Be-In-Outputs",
)
def location_output(context: Context) -> Iterator[Report]:
    form = _form(context)
    if form is None:
        return
    value = next((v for k, v in form.outputs.items() if k.lower() == "location"), None)
    if value != "[location()]":
        yield (
            _output_path("location"),
            f"the location output is {value!r}; set it to '[location()]'.",
        )


@rule(
    "ui-outputs-are-parameters",
    family="ui",
    summary="Every output of the form names a parameter of the main template.",
    arm_ttk="Outputs-Must-Be-Present-In-Template-Parameters",
)
def outputs_are_parameters(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for name in form.outputs:
        if name.lower() in MANAGED_APP_OUTPUTS:
            continue
        if template.parameter(name) is None:
            yield (
                _output_path(name),
                f"output '{name}' is not a parameter of the main template; rename it "
                "to a parameter or remove it.",
            )


@rule(
    "ui-feeds-required-parameters",
    family="ui",
    summary="Every template parameter without a default is fed by a form output.",
    arm_ttk="Parameters-Without-Default-Must-Exist-In-CreateUIDefinition",
)
def feeds_required_parameters(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    outputs = {name.lower() for name in form.outputs}
    for name, definition in template.parameters.items():
        if isinstance(definition, Mapping) and "defaultValue" in definition:
            continue
        if name.lower() not in outputs:
            yield (
                "$.parameters.outputs",
                f"template parameter '{name}' has no default and no output feeds it; "
                "add an output for it or give it a defaultValue.",
            )


@rule(
    "ui-controls-exist",
    family="ui",
    summary="Every basics() and steps() reference in the outputs names a control.",
    arm_ttk="Controls-In-Outputs-Must-Exist",
)
def controls_exist(context: Context) -> Iterator[Report]:
    form = _form(context)
    if form is None:
        return
    for name, value in form.outputs.items():
        node = _parse_output(value)
        if node is None:
            continue
        for reference in references(form, node):
            if reference.control is None:
                yield (
                    _output_path(name),
                    f"{reference.text} names no control of the form; fix the name.",
                )


@rule(
    "ui-output-types",
    family="ui",
    summary="Each output's value has the type its template parameter declares.",
)
def output_types(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for name, value in form.outputs.items():
        found = template.parameter(name)
        if found is None:
            continue
        declared = found[1].get("type")
        wanted = parameter_type(declared)
        node = _parse_output(value)
        actual = output_type(form, node) if node is not None else _literal_type(value)
        if wanted is None or actual is None or actual == wanted:
            continue
        if wanted == "int" and actual == "float":
            continue
        yield (
            _output_path(name),
            f"output '{name}' gives a {actual} but parameter '{found[0]}' is "
            f"{declared}; convert it (for example with {_converter(wanted)}) or "
            "change the parameter's type.",
        )


@rule(
    "ui-password-boxes-feed-secure-parameters",
    family="ui",
    summary="A PasswordBox only feeds secureString or secureObject parameters.",
    arm_ttk="Password-Textboxes-Must-Be-Used-For-Password-Parameters",
)
def password_boxes(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for name, value in form.outputs.items():
        node = _parse_output(value)
        if node is None:
            continue
        for reference in references(form, node):
            if reference.control is None:
                continue
            if reference.control.type != "microsoft.common.passwordbox":
                continue
            found = template.parameter(name)
            if found is None:
                continue
            declared = str(found[1].get("type", ""))
            if declared.lower() not in ("securestring", "secureobject"):
                yield (
                    _output_path(name),
                    f"PasswordBox '{reference.control.name}' feeds parameter "
                    f"'{found[0]}' of type {declared}; make it secureString so the "
                    "value is not stored in the deployment history.",
                )


@rule(
    "ui-size-selector-default-allowed",
    family="ui",
    summary="A SizeSelector offers the template's default size.",
    arm_ttk="VMSizes-Must-Match-Template",
)
def size_selector_default(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for name, value in form.outputs.items():
        node = _parse_output(value)
        reference = form.resolve(node) if node is not None else None
        if reference is None or reference.control is None:
            continue
        control = reference.control
        if control.type != "microsoft.compute.sizeselector":
            continue
        found = template.parameter(name)
        if found is None:
            continue
        default = found[1].get("defaultValue")
        constraints = control.data.get("constraints")
        allowed = (
            constraints.get("allowedSizes")
            if isinstance(constraints, Mapping)
            else None
        )
        if (
            isinstance(default, str)
            and isinstance(allowed, list)
            and default not in allowed
        ):
            yield (
                f"{control.path}.constraints.allowedSizes",
                f"the template's default size {default} for '{found[0]}' is not "
                "among the SizeSelector's allowedSizes; add it or change the default.",
            )


def _parse_output(value: Any) -> ex.Node | None:
    return ex.try_parse(value)


def _literal_type(value: Any) -> str | None:
    if isinstance(value, str):
        return None if ex.is_expression(value) else "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return None


def _converter(wanted: str) -> str:
    return {"int": "int()", "bool": "bool()", "string": "string()"}.get(
        wanted, "parse()"
    )
