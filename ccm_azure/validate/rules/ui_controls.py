"""createUiDefinition rules about single controls: each one is complete and safe.

These are the arm-ttk CreateUIDefinition tests that look at controls one by one:
tool tips, credential boxes, user names, text box constraints and their regexes,
validation messages, the outputs a "new or existing" picker needs, and blank values.
Controls are found wherever they stand in the file, grid cells included, as arm-ttk
finds them. Regexes are judged as the JavaScript regexes the portal runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate import jsregex
from ccm_azure.validate.form import (
    Control,
    address,
    controls_of_type,
    find_controls,
    outputs_naming,
)
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.rules.ui_definition import form_of
from ccm_azure.validate.template import walk

PASSWORD_MIN_LENGTH = 12
# Controls that show no tool tip.
NO_TOOLTIP_TYPES = {
    "microsoft.common.infobox",
    "microsoft.common.section",
    "microsoft.common.textblock",
    "microsoft.common.editablegrid",
    "microsoft.solutions.armapicontrol",
    "microsoft.solutions.graphapicontrol",
    "microsoft.solutions.jitconfigurator",
}
# Pickers of a resource that may already exist, and the member telling which it is.
NEW_OR_EXISTING_MEMBERS = {
    "microsoft.storage.storageaccountselector": "newOrExisting",
    "microsoft.network.virtualnetworkcombo": "newOrExisting",
    "microsoft.network.publicipaddresscombo": "newOrExistingOrNone",
}
# Properties that may be left empty in a form.
MAY_BE_BLANK = {"basics", "steps", "defaultvalue"}


def _get(data: Mapping[str, Any], key: str) -> Any:
    """`data[key]`, the key compared without regard to case as arm-ttk reads it."""
    if key in data:
        return data[key]
    lowered = key.lower()
    return next((v for k, v in data.items() if k.lower() == lowered), None)


def _is_true(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _label(control: Control) -> str:
    kind = str(control.data.get("type", "")).rsplit(".", 1)[-1]
    return f"{kind} '{control.name}'" if control.name else kind


def _is_blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping):
        return not value
    if isinstance(value, list):
        if not value:
            return True
        only = value[0] if len(value) == 1 else None
        return only == {} or (isinstance(only, str) and not only.strip())
    return False


def _properties(value: object, path: str = "$") -> Iterator[tuple[str, str, object]]:
    """Every property of every object in the file: (path of its object, key, value)."""
    for here, item in walk(value, path):
        if isinstance(item, dict):
            for key, child in item.items():
                yield here, key, child


@rule(
    "ui-no-blanks",
    family="ui",
    summary="No property of the form is empty, except basics, steps and defaults.",
    arm_ttk="CreateUIDefinition-Must-Not-Have-Blanks",
    blocking=False,
)
def no_blanks(context: Context) -> Iterator[Report]:
    for holder, key, value in _properties(context.data):
        if key.lower() not in MAY_BE_BLANK and _is_blank(value):
            yield f"{holder}.{key}", f"'{key}' is empty; give it a value or remove it."


@rule(
    "ui-credential-confirmation-shown",
    family="ui",
    summary="Password and credential boxes ask the user to confirm the secret.",
    arm_ttk="Credential-Confirmation-Should-Not-Be-Hidden",
)
def credential_confirmation(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    boxes = controls_of_type(
        form, "Microsoft.Common.PasswordBox", "Microsoft.Compute.CredentialsCombo"
    )
    for control in boxes:
        options = control.data.get("options")
        if isinstance(options, Mapping) and _is_true(_get(options, "hideConfirmation")):
            yield Problem(
                f"{control.path}.options.hideConfirmation",
                f"{_label(control)} hides the confirmation box; set "
                "hideConfirmation to false so a mistyped secret is caught.",
                error_id="Confirmation.Should.Not.Be.Hidden",
            )


@rule(
    "ui-hide-existing-outputs",
    family="ui",
    summary="A picker that offers existing resources passes on which and where.",
    arm_ttk="HideExisting-Must-Be-Correctly-Handled",
)
def hide_existing(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    for control in controls_of_type(form, *NEW_OR_EXISTING_MEMBERS):
        options = control.data.get("options")
        if isinstance(options, Mapping) and _is_true(_get(options, "hideExisting")):
            continue
        place = address(form, control)
        named = outputs_naming(form, place) if place is not None else []
        members = {rest[0].lower() for _, rest in named if rest}
        label = _label(control)
        if "resourcegroup" not in members:
            yield Problem(
                control.path,
                f"{label} lets the user pick an existing resource but no output "
                "passes its resourceGroup; add one, or set options.hideExisting to "
                "true.",
                error_id="Missing.Output.ResourceGroup",
            )
        member = NEW_OR_EXISTING_MEMBERS[control.type]
        if member.lower() not in members:
            yield Problem(
                control.path,
                f"{label} lets the user pick an existing resource but no output "
                f"passes its {member}; add one so the template can tell, or set "
                "options.hideExisting to true.",
                error_id="Missing.Output.NewOrExisting",
            )


def _literal_regex(value: object) -> str | None:
    """The regex a constraint gives, unless it is an expression the portal computes."""
    if not isinstance(value, str) or not value:
        return None
    stripped = value.strip()
    is_computed = stripped.startswith("[") and stripped.endswith("]")
    if is_computed and ex.try_parse(stripped) is not None:
        return None
    return value


@rule(
    "ui-password-min-length",
    family="ui",
    summary="A PasswordBox has constraints, and a regex of its own sets a length.",
    arm_ttk="PasswordBoxes-Must-Have-Min-Length",
)
def password_min_length(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    for control in controls_of_type(form, "Microsoft.Common.PasswordBox"):
        label = _label(control)
        constraints = _get(control.data, "constraints")
        if not isinstance(constraints, Mapping):
            yield (
                control.path,
                f"{label} has no constraints; add constraints with required and, "
                "if the default rules are not enough, a regex.",
            )
            continue
        regex = _literal_regex(_get(constraints, "regex"))
        if regex is None:
            continue  # the portal's own password rules apply
        path = f"{control.path}.constraints.regex"
        try:
            info = jsregex.read(regex)
        except jsregex.JsRegexError as error:
            yield path, f"{label}'s regex is not valid JavaScript ({error}); fix it."
            continue
        if not info.counted:
            yield (
                path,
                f"{label}'s regex sets no length; require at least "
                f"{PASSWORD_MIN_LENGTH} characters, for example with "
                f"{{{PASSWORD_MIN_LENGTH},}}.",
            )
        elif info.min_length < PASSWORD_MIN_LENGTH:
            yield Problem(
                path,
                f"{label}'s regex accepts {info.min_length} characters; require at "
                f"least {PASSWORD_MIN_LENGTH}.",
                level="warning",
            )


def _textbox_regexes(
    control: Control, constraints: Mapping[str, Any]
) -> Iterator[tuple[str, Any]]:
    """The regexes a text box is validated with, as arm-ttk picks them."""
    validations = _get(constraints, "validations")
    if validations:
        items = validations if isinstance(validations, list) else [validations]
        for i, item in enumerate(items):
            if isinstance(item, Mapping) and _get(item, "regex"):
                yield f"{control.path}.constraints.validations[{i}].regex", item
    elif _get(constraints, "regex"):
        yield f"{control.path}.constraints.regex", constraints


@rule(
    "ui-textbox-constraints",
    family="ui",
    summary="A TextBox is validated by a regex that compiles and has a message.",
    arm_ttk="Textboxes-Are-Well-Formed",
)
def textbox_constraints(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    for control in controls_of_type(form, "Microsoft.Common.TextBox"):
        label = _label(control)
        constraints = _get(control.data, "constraints")
        if not isinstance(constraints, Mapping):
            yield Problem(
                control.path,
                f"{label} has no constraints; add a regex and a validationMessage "
                "saying what input is valid.",
                error_id="Textboxes.Are.Well.Formed.Missing.Constraints",
            )
            continue
        found = list(_textbox_regexes(control, constraints))
        if not found:
            yield Problem(
                f"{control.path}.constraints",
                f"{label} is not validated by a regex; add constraints.regex with a "
                "validationMessage, or a validations entry with a regex.",
                error_id="Textboxes.Are.Well.Formed.Missing.Constraints.Regex",
            )
        direct = bool(found) and found[0][1] is constraints
        if direct and not _get(constraints, "validationMessage"):
            yield Problem(
                f"{control.path}.constraints",
                f"{label} has a regex but no validationMessage; add one saying "
                "what input is valid.",
                error_id=(
                    "Textboxes.Are.Well.Formed.Missing.Constraints.ValidationMessage"
                ),
            )
        for path, holder in found:
            yield from _textbox_regex(label, path, _get(holder, "regex"))


def _textbox_regex(label: str, path: str, value: object) -> Iterator[Report]:
    regex = _literal_regex(value)
    if regex is None:
        return
    try:
        info = jsregex.read(regex)
    except jsregex.JsRegexError as error:
        yield Problem(
            path,
            f"{label}'s regex is not valid JavaScript ({error}); fix it.",
            # arm-ttk's own spelling, so the id matches what Partner Center shows
            error_id="Textboxes.Are.Well.Formed.Invalid.Constraints.Regex.Expressison",
        )
        return
    if not info.counted:
        yield Problem(
            path,
            f"{label}'s regex sets no length limits; bound the input, for example "
            "with {1,64}.",
            level="warning",
        )


@rule(
    "ui-tooltips",
    family="ui",
    summary="Every control that shows a tool tip has one.",
    arm_ttk="Tooltips-Should-Be-Present",
)
def tooltips(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    for control in find_controls(form.data):
        if control.type in NO_TOOLTIP_TYPES:
            continue
        if _tip_blank(_get(control.data, "toolTip")):
            yield (
                control.path,
                f"{_label(control)} has no toolTip; add one that tells the user "
                "what to enter.",
            )


def _tip_blank(tip: object) -> bool:
    """Whether a tool tip shows nothing: missing, white space, or empty."""
    if tip is None:
        return True
    if isinstance(tip, str):
        return not tip.strip()
    if isinstance(tip, Mapping):
        return not tip
    if isinstance(tip, list):
        return all(_tip_blank(item) for item in tip)
    return False


@rule(
    "ui-username-no-default",
    family="ui",
    summary="A UserNameTextBox has no default user name.",
    arm_ttk="Usernames-Should-Not-Have-A-Default",
)
def username_no_default(context: Context) -> Iterator[Report]:
    form = form_of(context)
    if form is None:
        return
    for control in controls_of_type(form, "Microsoft.Compute.UserNameTextBox"):
        if _get(control.data, "defaultValue"):
            yield (
                f"{control.path}.defaultValue",
                f"{_label(control)} suggests a default user name, which attackers "
                "guess first; remove the defaultValue.",
            )


@rule(
    "ui-validation-messages",
    family="ui",
    summary="Every validation of a control has a message.",
    arm_ttk="Validations-Must-Have-Message",
)
def validation_messages(context: Context) -> Iterator[Report]:
    for holder, key, value in _properties(context.data):
        if key.lower() != "validations" or not value:
            continue
        path = f"{holder}.{key}"
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if isinstance(item, Mapping) and any(k.lower() == "message" for k in item):
                continue
            item_path = f"{path}[{i}]" if isinstance(value, list) else path
            yield Problem(
                item_path,
                "this validation has no message; add a message that tells the user "
                "how to fix the input.",
                error_id="Validations.Must.Have.Message",
            )
