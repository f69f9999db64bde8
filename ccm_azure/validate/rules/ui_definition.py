"""createUiDefinition rules: the form is well-framed and feeds the template it deploys.

Most of these are the arm-ttk CreateUIDefinition tests that Partner Center runs. Where
arm-ttk searches the form's text, these follow the parsed expressions instead: an
output is traced to the controls it names (through `basics()`, `steps()`, sections and
nested calls), so a control is matched by what the output says, not by a substring of
its name. The output-type rule goes further than arm-ttk, whose own type check is
switched off.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.form import (
    Chain,
    Control,
    Form,
    OutputText,
    address,
    canonical,
    chain,
    chains,
    controls_of_type,
    lookup,
    output_texts,
    output_type,
    outputs_naming,
    parameter_type,
    parsed,
)
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Template, walk

SCHEMA_URL = (
    "https://schema.management.azure.com/schemas/0.1.2-preview/"
    "CreateUIDefinition.MultiVm.json#"
)
SCHEMA_VERSION = "0.1.2-preview"
HANDLERS = ("Microsoft.Azure.CreateUIDef", "Microsoft.Compute.MultiVm")
# Outputs a managed application may give that are not template parameters.
MANAGED_APP_OUTPUTS = {
    "applicationresourcename",
    "jitaccesspolicy",
    "managedidentity",
    "managedresourcegroupid",
}
SECURE_TYPES = ("securestring", "secureobject")
OUTPUTS_PATH = "$.parameters.outputs"


def form_of(context: Context) -> Form | None:
    """The form under check, if the file is a JSON object."""
    data = context.data
    return Form(data) if isinstance(data, Mapping) else None


def _pair(context: Context) -> tuple[Form, Template] | None:
    form = form_of(context)
    main = context.main_template
    if form is None or main is None or not isinstance(main.data, Mapping):
        return None
    return form, Template(main.data)


def _output_path(name: str) -> str:
    return f"{OUTPUTS_PATH}.{name}"


def _get(data: Mapping[str, Any], key: str) -> Any:
    """`data[key]`, the key compared without regard to case as arm-ttk reads it."""
    if key in data:
        return data[key]
    lowered = key.lower()
    return next((v for k, v in data.items() if k.lower() == lowered), None)


def _outputs_missing(form: Form) -> Problem | None:
    if isinstance(form.parameters.get("outputs"), Mapping):
        return None
    return Problem(
        OUTPUTS_PATH,
        "the form has no outputs; add parameters.outputs with a value for each "
        "template parameter the user chooses.",
        error_id="CreateUIDefinition.Missing.Outputs",
    )


@rule(
    "ui-handler",
    family="ui",
    summary="The form's handler is one the portal knows.",
    arm_ttk="Handler-Must-Be-Correct",
)
def handler(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    value = _get(form.data, "handler")
    if value is None or value == "":
        yield Problem(
            "$.handler",
            f"the form has no handler; set handler to '{HANDLERS[0]}'.",
            error_id="CreateUIDefinition.Missing.Handler",
        )
    elif not isinstance(value, str) or value.lower() not in {
        h.lower() for h in HANDLERS
    }:
        yield Problem(
            "$.handler",
            f"handler is {value!r}; set it to '{HANDLERS[0]}'.",
            error_id="CreateUIDefinition.Incorrect.Handler",
        )


def _schema_version(schema: object) -> str | None:
    """The version segment of a schema URL, e.g. 0.1.2-preview."""
    if not isinstance(schema, str):
        return None
    for segment in schema.split("/"):
        numbers = segment.split("-")[0].split(".")
        plausible = 2 <= len(numbers) <= 4 and all(n.isdigit() for n in numbers)
        if plausible and any(int(n) for n in numbers):
            return segment
    return None


@rule(
    "ui-schema",
    family="ui",
    summary="The form declares the 0.1.2-preview schema and the matching version.",
    arm_ttk="CreateUIDefinition-Should-Have-Schema",
)
def schema(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    declared = _get(form.data, "$schema")
    if not declared:
        yield Problem(
            "$.$schema",
            f"the form has no $schema; set $schema to '{SCHEMA_URL}'.",
            error_id="CreateUIDef.Must.Have.Schema",
        )
    elif declared != SCHEMA_URL:
        yield Problem(
            "$.$schema",
            f"$schema is {declared!r}; set it to exactly '{SCHEMA_URL}'.",
            error_id="CreateUIDef.Incorrect.Schema",
        )
    wanted = _schema_version(declared) or SCHEMA_VERSION
    version = _get(form.data, "version")
    if not version:
        yield Problem(
            "$.version",
            f"the form has no version; set version to '{wanted}', the schema's "
            "version.",
            error_id="CreateUIDef.Must.Have.Version",
        )
    elif str(version).lower() != wanted.lower():
        yield Problem(
            "$.version",
            f"version is {version!r} but the schema's version is '{wanted}'; make "
            "them the same.",
            error_id="CreateUIDef.Version.Mismatch",
        )


def _is_location_call(value: object) -> bool:
    node = parsed(value.strip()) if isinstance(value, str) else None
    return isinstance(node, ex.Call) and node.lower_name == "location" and not node.args


@rule(
    "ui-location-output",
    family="ui",
    summary="The form passes the chosen region as the location output.",
    arm_ttk="Location-Should-Be-In-Outputs",
)
def location_output(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    missing = _outputs_missing(form)
    if missing is not None:
        yield missing
        return
    value = _get(form.outputs, "location")
    if value is None or value == "":
        yield Problem(
            _output_path("location"),
            'the outputs have no location; add "location": "[location()]".',
            error_id="CreateUIDefinition.Missing.Outputs.Location",
        )
    elif not _is_location_call(value):
        yield Problem(
            _output_path("location"),
            f"the location output is {value!r}; set it to '[location()]'.",
            error_id="CreateUIDefinition.Incorrect.Outputs.Location",
        )


@rule(
    "ui-outputs-are-parameters",
    family="ui",
    summary="Every output of the form names a parameter of the main template.",
    arm_ttk="Outputs-Must-Be-Present-In-Template-Parameters",
    needs_main_template=True,
)
def outputs_are_parameters(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    missing = _outputs_missing(form)
    if missing is not None:
        yield missing
        return
    for name in form.outputs:
        if name.lower() in MANAGED_APP_OUTPUTS:
            continue
        if template.parameter(name) is None:
            yield Problem(
                _output_path(name),
                f"output '{name}' is not a parameter of the main template; rename "
                "it to a parameter or remove it.",
                error_id="CreateUIDefinition.Output.Missing.From.MainTemplate",
            )


@rule(
    "ui-feeds-required-parameters",
    family="ui",
    summary="Every template parameter without a default is fed by a form output.",
    arm_ttk="Parameters-Without-Default-Must-Exist-In-CreateUIDefinition",
    needs_main_template=True,
)
def feeds_required_parameters(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for name, definition in template.parameters.items():
        if (
            isinstance(definition, Mapping)
            and definition.get("defaultValue") is not None
        ):
            continue
        if _get(form.outputs, name) is None:
            yield Problem(
                OUTPUTS_PATH,
                f"template parameter '{name}' has no default and no output feeds "
                "it; add an output for it or give it a defaultValue.",
                error_id="Parameter.Without.Default.Missing.From.CreateUIDefinition",
            )


@rule(
    "ui-controls-exist",
    family="ui",
    summary="Every basics() and steps() reference in the outputs names a control.",
    arm_ttk="Controls-In-Outputs-Must-Exist",
)
def controls_exist(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    for text in output_texts(form):
        node = parsed(text.text)
        if node is None:
            continue
        for named in chains(node):
            if lookup(form, named) is not None:
                continue
            if lookup(form, named, ignore_case=True) is not None:
                yield Problem(
                    text.path,
                    f"{_chain_text(named)} names a control only if case is ignored; "
                    "write each name exactly as the form declares it.",
                    level="warning",
                )
                continue
            yield Problem(
                text.path,
                f"{_chain_text(named)} names no control of the form; fix the name.",
                error_id=_missing_id(form, named),
            )


def _missing_id(form: Form, named: Chain) -> str:
    """arm-ttk's error id for a chain naming nothing: which part is missing."""
    named = canonical(form, named)
    if named.function == "basics":
        return "ControlName.Not.Found"
    steps = {name.lower() for name in form.steps()}
    if named.names[0].lower() not in steps:
        return "StepName.Not.Found"
    return "ElementName.Not.Found"


def _chain_text(named: Chain) -> str:
    first, *rest = named.names
    return f"{named.function}('{first}')" + "".join(f".{m}" for m in rest)


@rule(
    "ui-output-types",
    family="ui",
    summary="Each output's value has the type its template parameter declares.",
    needs_main_template=True,
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
        node = ex.try_parse(value)
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


def _feeding_outputs(form: Form, place: Chain) -> list[str]:
    """The outputs (in order, once each) whose text names the control at `place`."""
    return list(dict.fromkeys(text.output for text, _ in outputs_naming(form, place)))


@rule(
    "ui-password-boxes-feed-secure-parameters",
    family="ui",
    summary="Each PasswordBox feeds a secureString or secureObject parameter.",
    arm_ttk="Password-Textboxes-Must-Be-Used-For-Password-Parameters",
    needs_main_template=True,
)
def password_boxes(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for control in controls_of_type(form, "Microsoft.Common.PasswordBox"):
        place = address(form, control)
        if place is None:
            continue  # not where an output could name it
        feeding = _feeding_outputs(form, place)
        if not feeding:
            yield (
                control.path,
                f"PasswordBox '{control.name}' feeds no output; pass it to the "
                "secureString parameter it is for, or remove it.",
            )
        for name in feeding:
            found = template.parameter(name)
            if found is None:
                yield (
                    _output_path(name),
                    f"PasswordBox '{control.name}' feeds output '{name}', which is "
                    "not a parameter of the main template; rename the output to the "
                    "secureString parameter it is for.",
                )
                continue
            declared = str(found[1].get("type", ""))
            if declared.lower() not in SECURE_TYPES:
                secure = (
                    "secureObject" if declared.lower() == "object" else "secureString"
                )
                yield (
                    _output_path(name),
                    f"PasswordBox '{control.name}' feeds parameter '{found[0]}' of "
                    f"type {declared or 'unknown'}; make it {secure} so the value is "
                    "not stored in the deployment history.",
                )


@rule(
    "ui-size-selector-default-allowed",
    family="ui",
    summary="Each SizeSelector feeds a template parameter and offers its default size.",
    arm_ttk="VMSizes-Must-Match-Template",
    needs_main_template=True,
)
def size_selector_default(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for control in controls_of_type(form, "Microsoft.Compute.SizeSelector"):
        place = address(form, control)
        if place is None:
            continue
        feeding = _feeding_outputs(form, place)
        if not feeding:
            yield (
                control.path,
                f"SizeSelector '{control.name}' feeds no output; pass it to the "
                "template's VM size parameter.",
            )
        for name in feeding:
            found = template.parameter(name)
            if found is None:
                yield (
                    _output_path(name),
                    f"SizeSelector '{control.name}' feeds output '{name}', which is "
                    "not a parameter of the main template; rename the output to the "
                    "template's VM size parameter.",
                )
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
                and default
                and not ex.is_expression(default)
                and isinstance(allowed, list)
                and allowed
                and default.lower() not in {str(s).lower() for s in allowed}
            ):
                yield (
                    f"{control.path}.constraints.allowedSizes",
                    f"the template's default size {default} for '{found[0]}' is not "
                    "among the SizeSelector's allowedSizes; add it or change the "
                    "default.",
                )


# Allowed-Values-Should-Actually-Be-Allowed


def _same(a: object, b: object) -> bool:
    """Whether two allowed values are the same, as strings and without case."""
    return _comparable(a) == _comparable(b)


def _comparable(value: object) -> str:
    if isinstance(value, str):
        return value.lower()
    return json.dumps(value, sort_keys=True).lower()


def _offered_values(data: Mapping[str, Any]) -> list[Any] | None:
    """The values a control lets the user pick, if it lists them literally."""
    constraints = data.get("constraints")
    values = (
        constraints.get("allowedValues") if isinstance(constraints, Mapping) else None
    )
    if not isinstance(values, list):
        return None
    return [item.get("value") if isinstance(item, Mapping) else item for item in values]


def _has_allowed_values(data: Mapping[str, Any]) -> bool:
    constraints = data.get("constraints")
    return isinstance(constraints, Mapping) and "allowedValues" in constraints


def _may_be_used(form: Form, place: Chain) -> bool:
    """Whether some expression of the form may name the control at `place`.

    A reference whose name is computed (`basics(basics('kind'))`) may name any
    control, so a form with one is taken to use them all.
    """
    for _, value in walk(form.data):
        node = parsed(value) if isinstance(value, str) else None
        if node is None:
            continue
        if _computes_a_name(node) or any(
            canonical(form, c).after(place, loosely=True) is not None
            for c in chains(node)
        ):
            return True
    return False


def _computes_a_name(node: ex.Node) -> bool:
    return any(
        ex.string_argument(call) is None
        for function in ("basics", "steps")
        for call in ex.calls(node, function)
    )


def _check_against_parameter(
    label: str,
    offered: list[Any],
    parameter: tuple[str, Mapping[str, Any]],
    path: str,
) -> Iterator[Problem]:
    """The offered values must be allowed, and the default offered, by the parameter."""
    name, definition = parameter
    allowed = definition.get("allowedValues")
    if isinstance(allowed, list):
        for value in offered:
            if not any(_same(value, a) for a in allowed):
                yield Problem(
                    path,
                    f"{label} offers {json.dumps(value)}, which parameter '{name}' "
                    "does not allow; add it to the parameter's allowedValues or "
                    "remove it from the form.",
                    error_id="Allowed.Value.Mismatch",
                )
    default = definition.get("defaultValue")
    if not default or (isinstance(default, str) and ex.is_expression(default)):
        return
    defaults = default if isinstance(default, list) else [default]
    for value in defaults:
        if any(_same(value, o) for o in offered):
            continue
        if isinstance(allowed, list) and any(_same(value, a) for a in allowed):
            continue
        yield Problem(
            path,
            f"the default {json.dumps(value)} of parameter '{name}' is not among "
            f"the values {label} offers; offer it or change the default.",
            error_id="Allowed.Value.Default.Mismatch",
        )


@rule(
    "ui-allowed-values-match",
    family="ui",
    summary="A control's allowed values are ones its template parameter accepts.",
    arm_ttk="Allowed-Values-Should-Actually-Be-Allowed",
    needs_main_template=True,
)
def allowed_values(context: Context) -> Iterator[Report]:
    pair = _pair(context)
    if pair is None:
        return
    form, template = pair
    for control in form.all_controls():
        if _has_allowed_values(control.data):
            yield from _control_values(form, template, control)
    yield from _region_values(form, template)


def _is_whole_value(text: OutputText) -> bool:
    """Whether an output string is the whole output and nothing but one reference."""
    node = parsed(text.text)
    return (
        text.path == _output_path(text.output)
        and node is not None
        and chain(node) is not None
    )


def _control_values(
    form: Form, template: Template, control: Control
) -> Iterator[Report]:
    place = address(form, control)
    if place is None:
        return
    naming = outputs_naming(form, place)
    direct = [
        text.output for text, rest in naming if not rest and _is_whole_value(text)
    ]
    if not direct:
        if not naming and not _may_be_used(form, place):
            yield (
                control.path,
                f"control '{control.name}' offers values but no output or other "
                "control uses it; pass it to its template parameter in the outputs.",
            )
        return  # an output that transforms the value cannot be compared
    offered = _offered_values(control.data)
    for name in direct:
        parameter = template.parameter(name)
        if parameter is None:
            yield (
                _output_path(name),
                f"control '{control.name}' feeds output '{name}', which is not a "
                "parameter of the main template; rename the output to the parameter "
                "it is for.",
            )
        elif offered is not None:
            label = f"control '{control.name}'"
            path = f"{control.path}.constraints.allowedValues"
            yield from _check_against_parameter(label, offered, parameter, path)


def _region_values(form: Form, template: Template) -> Iterator[Report]:
    """The regions config.basics.location offers against the location parameter."""
    config = form.parameters.get("config")
    basics = config.get("basics") if isinstance(config, Mapping) else None
    location = basics.get("location") if isinstance(basics, Mapping) else None
    regions = location.get("allowedValues") if isinstance(location, Mapping) else None
    if not isinstance(regions, list):
        return
    offered = [_region(r) for r in regions]
    for output, value in form.outputs.items():
        if not _is_location_call(value):
            continue
        parameter = template.parameter(output)
        if parameter is None:
            continue  # the outputs rule reports it
        name, definition = parameter
        normalised = dict(definition)
        if isinstance(definition.get("allowedValues"), list):
            normalised["allowedValues"] = [
                _region(r) for r in definition["allowedValues"]
            ]
        if isinstance(definition.get("defaultValue"), str):
            normalised["defaultValue"] = _region(definition["defaultValue"])
        yield from _check_against_parameter(
            "the region list",
            offered,
            (name, normalised),
            "$.parameters.config.basics.location.allowedValues",
        )


def _region(value: object) -> object:
    """A region name as ARM compares it: 'East US' is 'eastus'."""
    if isinstance(value, str) and not ex.is_expression(value):
        return value.replace(" ", "").lower()
    return value


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
