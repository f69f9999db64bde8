"""Template rules about secrets: credentials are never literals, parameters that hold
secrets have secure types, and secrets never reach a place that Azure stores in plain
text (deployment outputs, public extension settings).

A secret is followed through variables: `variables('x')` holding
`parameters('password')` leaks the password just as directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import UNRESOLVED, Template, expressions, walk

SECURE_TYPES = ("securestring", "secureobject")


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _secure_parameters(template: Template) -> dict[str, str]:
    """Lower-cased names of secureString/secureObject parameters, with their type."""
    found = {}
    for name, definition in template.parameters.items():
        kind = definition.get("type") if isinstance(definition, Mapping) else None
        if isinstance(kind, str) and kind.lower() in SECURE_TYPES:
            found[name.lower()] = kind
    return found


def _list_calls(template: Template, node: ex.Node) -> list[str]:
    """Names of the list*() functions `node` calls, through variables."""
    found = (
        item.name
        for reached in template.through_variables(node)
        for item in ex.walk(reached)
        if isinstance(item, ex.Call) and item.lower_name.startswith("list")
    )
    return list(dict.fromkeys(found))


def _secure_references(
    template: Template, node: ex.Node, secure: dict[str, str]
) -> list[str]:
    """Secure parameters `node` reads, through variables."""
    found = (
        name
        for reached in template.through_variables(node)
        for name in sorted(ex.referenced(reached, "parameters"))
        if name.lower() in secure
    )
    return list(dict.fromkeys(found))


# Credentials


@dataclasses.dataclass(frozen=True)
class _Credential:
    what: str
    keys: tuple[str, ...]
    id_prefix: str
    secret: bool
    """Never repeat the value in a message."""


USERNAME = _Credential(
    "user name", ("adminUsername", "administratorLogin"), "AdminUsername", False
)
PASSWORD = _Credential(
    "password", ("adminPassword", "administratorLoginPassword"), "AdminPassword", True
)


def _credential_values(
    value: object, path: str, keys: tuple[str, ...]
) -> Iterator[tuple[str, str, str]]:
    """(path, property name, text) of every credential property under `value`.

    A nested deployment passes a credential as `{"value": ...}`; other object shapes
    (an inner template's parameter declaration, a Key Vault reference) hold none.
    """
    wanted = {key.lower() for key in keys}
    for item_path, item in walk(value, path):
        if not isinstance(item, Mapping):
            continue
        for key, held in item.items():
            if key.lower() not in wanted:
                continue
            if isinstance(held, str):
                yield f"{item_path}.{key}", key, held
            elif isinstance(held, Mapping) and isinstance(held.get("value"), str):
                yield f"{item_path}.{key}.value", key, held["value"]


def _literal_variable(template: Template, node: ex.Node) -> str | None:
    """The variable `node` reads when, followed through variables, it is a literal."""
    first = min(ex.referenced(node, "variables"), default=None)
    for _ in range(32):  # a longer chain of variables is a loop
        value = template.resolve_variable(node)
        if value is UNRESOLVED:
            return None
        following = ex.try_parse(value)
        if following is None:
            return None if ex.is_expression(value) else first
        node = following
    return None


def _literal_credentials(context: Context, credential: _Credential) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    sections = (("resources", ""), ("variables", ".Var"))
    for section, id_part in sections:
        found = _credential_values(
            template.data.get(section), f"$.{section}", credential.keys
        )
        for path, key, text in found:
            if not ex.is_expression(text.strip()):
                shown = "" if credential.secret else f" '{text}'"
                yield Problem(
                    path,
                    f"{key} is a literal{shown}; pass the {credential.what} in a "
                    "parameter, so that every deployment chooses its own.",
                    error_id=f"{credential.id_prefix}{id_part}.Is.Literal",
                )
                continue
            node = ex.try_parse(text.strip())
            variable = _literal_variable(template, node) if node else None
            if variable is not None:
                yield Problem(
                    path,
                    f"{key} reads variable '{variable}', which holds a literal; pass "
                    f"the {credential.what} in a parameter instead.",
                    error_id=f"{credential.id_prefix}.Is.Variable.Literal",
                )


@rule(
    "template-admin-username-not-literal",
    family="template",
    summary="Administrator user names come from expressions, not literals.",
    arm_ttk="adminUsername-Should-Not-Be-A-Literal",
)
def admin_username_not_literal(context: Context) -> Iterator[Report]:
    yield from _literal_credentials(context, USERNAME)


@rule(
    "template-admin-password-not-literal",
    family="template",
    summary="Administrator passwords come from expressions, not literals.",
    arm_ttk="adminPassword-Should-Not-Be-A-Literal",
)
def admin_password_not_literal(context: Context) -> Iterator[Report]:
    yield from _literal_credentials(context, PASSWORD)


# Parameter types

_SECRET_WORDS = ("password", "secret", "accountkey")
# Names about a secret rather than holding one, e.g. a Key Vault secret's name or URL.
_ABOUT_A_SECRET = ("permission", "version", "url", "uri", "name")


def _looks_secret(name: str) -> bool:
    lowered = name.lower()
    if not any(word in lowered for word in _SECRET_WORDS):
        return False
    about = "secret" in lowered and any(word in lowered for word in _ABOUT_A_SECRET)
    return not about


@rule(
    "template-password-parameters-secure",
    family="template",
    summary="Parameters named like passwords or secrets are secureString/secureObject.",
    arm_ttk="Password-params-must-be-secure",
)
def password_parameters_secure(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for name, definition in template.parameters.items():
        if not _looks_secret(name):
            continue
        kind = definition.get("type") if isinstance(definition, Mapping) else None
        allowed = (*SECURE_TYPES, "bool")
        if isinstance(kind, str) and kind.lower() in allowed:
            continue
        declared = f"its type is '{kind}'" if kind else "it declares no type"
        yield Problem(
            f"$.parameters.{name}",
            f"Parameter '{name}' looks like a secret but {declared}; declare it as "
            "secureString (or secureObject), so Azure never shows or logs it.",
            error_id="Password.Param.Not.Secure",
        )


# Where secrets must not go


def _children(
    value: object, path: str, parent: Mapping[str, Any] | None, key: str
) -> Iterator[tuple[str, Mapping[str, Any], Mapping[str, Any] | None, str]]:
    """Every object under `value`, with the object holding it and its key there."""
    if isinstance(value, Mapping):
        yield path, value, parent, key
        for child_key, child in value.items():
            yield from _children(child, f"{path}.{child_key}", value, child_key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _children(child, f"{path}[{i}]", parent, key)


def _is_custom_script(holder: Mapping[str, Any] | None) -> bool:
    kind = holder.get("type") if holder is not None else None
    return isinstance(kind, str) and "customscript" in kind.lower()


@rule(
    "template-command-secrets-protected",
    family="template",
    summary="A Custom Script command that uses secrets is in protectedSettings.",
    arm_ttk="CommandToExecute-Must-Use-ProtectedSettings-For-Secrets",
)
def command_secrets_protected(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    secure = _secure_parameters(template)
    for path, settings, extension, key in _children(template.data, "$", None, ""):
        if key.lower() == "protectedsettings" or not _is_custom_script(extension):
            continue
        for name, command in settings.items():
            if name.lower() != "commandtoexecute":
                continue
            node = ex.try_parse(command)
            if node is None:
                continue
            command_path = f"{path}.{name}"
            listed = _list_calls(template, node)
            if listed:
                yield Problem(
                    command_path,
                    f"commandToExecute calls {listed[0]}() in public settings, which "
                    "Azure stores and shows in plain text; move the command to "
                    "protectedSettings.",
                    error_id="CommandToExecute.Unprotected.List",
                )
                continue
            for parameter in _secure_references(template, node, secure):
                yield Problem(
                    command_path,
                    f"commandToExecute uses the {secure[parameter.lower()]} "
                    f"parameter '{parameter}' in public settings, which Azure stores "
                    "and shows in plain text; move the command to protectedSettings.",
                    error_id="CommandToExecute.Unprotected.Parameter",
                )


@rule(
    "template-outputs-no-secrets",
    family="template",
    summary="Outputs return no secrets: no list*() results, no secure parameters.",
    arm_ttk="Outputs-Must-Not-Contain-Secrets",
)
def outputs_no_secrets(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    secure = _secure_parameters(template)
    for name, output in template.outputs.items():
        output_path = f"$.outputs.{name}"
        if "password" in name.lower():
            yield Problem(
                output_path,
                f"Output '{name}' is named like a password, and deployment outputs are "
                "stored in plain text; return no secret, and rename the output if it "
                "holds none.",
                error_id="Output.Contains.Secret.Name",
            )
        for path, node in expressions(output, output_path):
            for function in _list_calls(template, node):
                yield Problem(
                    path,
                    f"Output '{name}' returns the result of {function}(), a secret, "
                    "and deployment outputs are stored in plain text; remove it.",
                    error_id="Output.Contains.Secret",
                )
            for parameter in _secure_references(template, node, secure):
                yield Problem(
                    path,
                    f"Output '{name}' returns the {secure[parameter.lower()]} "
                    f"parameter '{parameter}', and deployment outputs are stored in "
                    "plain text; remove it.",
                    error_id="Output.Contains.SecureParameter",
                )
