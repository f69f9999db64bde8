"""Parameter file rules: a `*.parameters.json` is framed as ARM reads it.

These are arm-ttk's deploymentParameters tests. A parameter file with neither a
`$schema` nor a `contentVersion` is taken for a plain key/value file, as arm-ttk takes
it, and only the checks that make sense for one apply.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule

SCHEMAS = (
    "https://schema.management.azure.com/schemas/2015-01-01/deploymentParameters.json#",
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#",
)
_CONTENT_VERSION = re.compile(r"\d+\.\d+\.\d+\.\d+")
_GUID = r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}"
# Resource group names: 1 to 90 letters, digits, _ - . ( ); vault names: 3 to 24
# letters, digits and hyphens.
_KEY_VAULT_ID = re.compile(
    rf"/subscriptions/{_GUID}/resourceGroups/[-\w.()]{{1,90}}"
    r"/providers/Microsoft\.KeyVault/vaults/[a-z0-9-]{3,24}",
    re.IGNORECASE,
)
_SECRET_NAME = re.compile(r"[A-Za-z0-9-]{1,127}")


def _get(data: Mapping[str, Any], key: str) -> Any:
    """`data[key]`, the key compared without regard to case as ARM reads it."""
    if key in data:
        return data[key]
    lowered = key.lower()
    return next((v for k, v in data.items() if k.lower() == lowered), None)


def _has(data: Mapping[str, Any], key: str) -> bool:
    return any(k.lower() == key.lower() for k in data)


def _file(context: Context) -> Mapping[str, Any] | None:
    data = context.data
    return data if isinstance(data, Mapping) else None


@rule(
    "parameters-content-version",
    family="parameters",
    summary="A parameter file with a $schema has a contentVersion string.",
    arm_ttk="DeploymentParameters-Should-Have-ContentVersion",
)
def content_version(context: Context) -> Iterator[Report]:
    data = _file(context)
    if data is None:
        return
    version = _get(data, "contentVersion")
    if version is None or version == "":
        if _get(data, "$schema"):
            yield Problem(
                "$.contentVersion",
                "the parameter file has no contentVersion; add "
                '"contentVersion": "1.0.0.0".',
                error_id="Parameters.Missing.ContentVersion",
            )
        return
    if not isinstance(version, str):
        yield Problem(
            "$.contentVersion",
            f"contentVersion is {version!r}, not a string; write it as a string "
            'such as "1.0.0.0".',
            error_id="ContentVersion.Not.String",
        )
    elif not _CONTENT_VERSION.fullmatch(version):
        yield Problem(
            "$.contentVersion",
            f'contentVersion {version!r} is not four numbers; write it like "1.0.0.0".',
            level="warning",
        )


@rule(
    "parameters-has-parameters",
    family="parameters",
    summary="A parameter file with a $schema or contentVersion has parameters.",
    arm_ttk="DeploymentParameters-Should-Have-Parameters",
)
def has_parameters(context: Context) -> Iterator[Report]:
    data = _file(context)
    if data is None or not (_get(data, "$schema") or _get(data, "contentVersion")):
        return
    if not isinstance(_get(data, "parameters"), Mapping):
        yield Problem(
            "$.parameters",
            "the parameter file has no parameters object; add one with a value for "
            "each template parameter it sets.",
            error_id="Parameters.Missing.Parameters",
        )


@rule(
    "parameters-schema",
    family="parameters",
    summary="A parameter file declares one of the deploymentParameters schemas.",
    arm_ttk="DeploymentParameters-Should-Have-Schema",
)
def schema(context: Context) -> Iterator[Report]:
    data = _file(context)
    if data is None:
        return
    declared = _get(data, "$schema")
    if not declared:
        if _get(data, "contentVersion"):
            yield Problem(
                "$.$schema",
                f'the parameter file has no $schema; add "$schema": "{SCHEMAS[1]}".',
                error_id="Parameters.Missing.Schema",
            )
        return
    if not isinstance(declared, str) or declared.lower() not in {
        s.lower() for s in SCHEMAS
    }:
        yield Problem(
            "$.$schema",
            f"$schema is {declared!r}; set it to '{SCHEMAS[1]}' (or the 2015-01-01 "
            "one).",
            error_id="Parameters.Bad.Schema",
        )


@rule(
    "parameters-values",
    family="parameters",
    summary="Each parameter has a value or a well-formed Key Vault reference.",
    arm_ttk="DeploymentParameters-Should-Have-Value",
)
def values(context: Context) -> Iterator[Report]:
    data = _file(context)
    if data is None or not _get(data, "$schema"):
        return  # a plain key/value file
    parameters = _get(data, "parameters")
    if not isinstance(parameters, Mapping):
        return
    for name, entry in parameters.items():
        if name.startswith("__"):
            continue  # arm-ttk leaves double-underscore names to tooling
        yield from _entry(f"$.parameters.{name}", name, entry)


def _entry(path: str, name: str, entry: object) -> Iterator[Problem]:
    if not isinstance(entry, Mapping) or not (
        _has(entry, "value") or _has(entry, "reference")
    ):
        yield Problem(
            path,
            f"parameter '{name}' has neither a value nor a reference; give it "
            '{"value": ...} or a Key Vault reference.',
            error_id="Parameters.Parameter.Missing.Value",
        )
        return
    if _has(entry, "value"):
        value = _get(entry, "value")
        if isinstance(value, str) and ex.is_expression(value.strip()):
            yield Problem(
                f"{path}.value",
                f"the value of '{name}' looks like an expression, but a parameter "
                "file's values are taken literally; give the value itself.",
                level="warning",
            )
        return
    yield from _reference(f"{path}.reference", name, _get(entry, "reference"))


def _reference(path: str, name: str, reference: object) -> Iterator[Problem]:
    vault = _get(reference, "keyVault") if isinstance(reference, Mapping) else None
    if not isinstance(reference, Mapping) or not isinstance(vault, Mapping):
        yield Problem(
            path,
            f"the reference of '{name}' has no keyVault; add "
            '"keyVault": {"id": "<the vault\'s resource ID>"}.',
            error_id="Parameters.Parameter.Missing.Value",
        )
        return
    if not _has(vault, "id"):
        yield Problem(
            f"{path}.keyVault",
            f"the Key Vault reference of '{name}' has no id; add the vault's "
            "resource ID.",
            error_id="Parameters.Parameter.Missing.KeyVault.Id",
        )
        return
    vault_id = _get(vault, "id")
    if not isinstance(vault_id, str) or not _KEY_VAULT_ID.fullmatch(vault_id):
        yield Problem(
            f"{path}.keyVault.id",
            f"{vault_id!r} is not a Key Vault resource ID; write it as /subscriptions"
            "/<subscription id>/resourceGroups/<group>/providers/"
            "Microsoft.KeyVault/vaults/<vault name>.",
            error_id="Parameters.Parameter.Bad.KeyVault.Id",
        )
        return
    if not _has(reference, "secretName"):
        yield Problem(
            path,
            f"the Key Vault reference of '{name}' has no secretName; add the name "
            "of the secret.",
            error_id="Parameters.Parameter.Missing.SecretName",
        )
        return
    secret = _get(reference, "secretName")
    if not isinstance(secret, str) or not _SECRET_NAME.fullmatch(secret):
        yield Problem(
            f"{path}.secretName",
            f"secret name {secret!r} is not valid; use 1 to 127 letters, digits "
            "and hyphens.",
            error_id="Parameters.Parameter.Bad.SecretName",
        )
