"""Offer -> mainTemplate.json and createUiDefinition.json, byte-identical on every run.

Both files come from Jinja2 sources (`arm_templates/`, `ui_definitions/`) fed with the
same offer, so the template's parameters and the form's outputs cannot drift apart.
The rendered text is parsed and written out again in one canonical JSON layout, which
also proves that the sources produce valid JSON.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from ccm_azure import offer as offer_module
from ccm_azure.offer import Offer

MAIN_TEMPLATE = "mainTemplate.json"
UI_DEFINITION = "createUiDefinition.json"
BOOTSTRAP_SCRIPT = "scripts/install-node-agent.sh"

API_VERSIONS: Mapping[str, str] = {
    "compute": "2026-03-01",
    "network": "2025-07-01",
    "deployments": "2026-06-01",
    "resources": "2025-04-01",
}
"""The apiVersion each resource family of the template is written against."""

PUBLIC_IP_NAME_MAX_LENGTH = 80
DNS_LABEL_MAX_LENGTH = 63
"""Azure's limits for a public IP address name and its DNS label.

With more than one node, a name or label the user gives is cut to leave room for the
node's "-<number>" suffix, so that every node's address still deploys.
"""


@dataclasses.dataclass(frozen=True)
class RenderedOffer:
    """Both files of the offer, as data and as the exact bytes to write."""

    main_template: dict[str, Any]
    ui_definition: dict[str, Any]
    files: Mapping[str, bytes]
    artifacts: Mapping[str, Path]
    """Files the package ships beside the two JSON files: zip path -> source file."""


def source_dir(name: str) -> Traversable:
    """A template source folder: inside the installed wheel, else in the checkout."""
    bundled = resources.files("ccm_azure").joinpath("_bundled", name)
    if bundled.is_dir():
        return bundled
    return resources.files("ccm_azure").joinpath("..", name)


def bootstrap_script() -> bytes:
    """The script the Custom Script extension runs on the VM."""
    return source_dir("arm_templates").joinpath(BOOTSTRAP_SCRIPT).read_bytes()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _arm_string(value: str) -> str:
    """A string literal inside an ARM or createUiDefinition expression."""
    return "'" + value.replace("'", "''") + "'"


def _environment() -> jinja2.Environment:
    def load(name: str) -> str:
        folder, _, file = name.partition("/")
        return source_dir(folder).joinpath(file).read_text(encoding="utf-8")

    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - the output is JSON, not HTML
        keep_trailing_newline=True,
    )
    env.filters["json"] = _json
    env.filters["arm_string"] = _arm_string
    return env


def _installer_arguments(offer: Offer) -> str:
    """Bootstrap arguments naming the installer; values are base64, never shell text."""
    installer = offer.installer
    if installer.archive is not None:
        arguments = f" --installer-file {installer.artifact_name}"
        sha256 = installer.archive_sha256()
    elif installer.url:
        encoded = base64.b64encode(installer.url.encode()).decode()
        arguments = f" --installer-url-b64 {encoded}"
        sha256 = installer.sha256
    else:
        return ""
    if sha256:
        arguments += f" --installer-sha256 {sha256}"
    return arguments


def _node_count_choices() -> list[dict[str, Any]]:
    """The node counts the form offers, as drop-down items: "1 node" to "10 nodes"."""
    return [
        {"label": f"{count} node" if count == 1 else f"{count} nodes", "value": count}
        for count in range(1, offer_module.MAX_NODES + 1)
    ]


def _context(offer: Offer) -> dict[str, Any]:
    attestation_labels = {
        "DCAP": "DCAP (recommended)",
        "EPID": "EPID (retired by Intel; not supported on DCsv3)",
    }
    sizes = list(offer.sizes)
    recommended = [offer.default_size] + [s for s in sizes if s != offer.default_size]
    return {
        "offer": offer,
        "installer": offer.installer,
        "regions": list(offer.regions),
        "image_keys": [image.key for image in offer.images],
        "image_references": {
            image.key: image.image_reference() for image in offer.images
        },
        "image_choices": [
            {"label": image.label, "value": image.key} for image in offer.images
        ],
        "attestation_choices": [
            {"label": attestation_labels[value], "value": value}
            for value in offer.attestation_types
        ],
        "default_attestation_label": attestation_labels[offer.default_attestation],
        "attestation_description": (
            "Attestation type of the node agent. " + offer_module.DCAP_NOTE
        ),
        "dcap_note": offer_module.DCAP_NOTE,
        "epid_warning": offer_module.EPID_WARNING,
        "recommended_sizes": recommended[:3],
        "disk_choices": [
            {"label": f"{size} GB", "value": size} for size in offer.os_disk_sizes_gb
        ],
        "default_disk_label": f"{offer.os_disk_size_gb} GB",
        "agent_port": offer_module.AGENT_PORT,
        "api_versions": API_VERSIONS,
        "bootstrap_b64": base64.b64encode(bootstrap_script()).decode(),
        "installer_arguments": _installer_arguments(offer),
        "vm_name_pattern": offer_module.VM_NAME_PATTERN,
        "vm_name_max": offer_module.VM_NAME_MAX_LENGTH,
        "max_nodes": offer_module.MAX_NODES,
        "node_count_choices": _node_count_choices(),
        "node_count_description": (
            f"Number of nodes to deploy, 1 to {offer_module.MAX_NODES}. "
            + offer_module.NODE_QUOTA_NOTE
        ),
        "node_quota_note": offer_module.NODE_QUOTA_NOTE,
        "public_ip_name_max": PUBLIC_IP_NAME_MAX_LENGTH,
        "dns_label_max": DNS_LABEL_MAX_LENGTH,
        "join_token_pattern": offer_module.JOIN_TOKEN_PATTERN,
        "join_token_min": offer_module.JOIN_TOKEN_MIN_LENGTH,
        "join_token_max": offer_module.JOIN_TOKEN_MAX_LENGTH,
        "label_key_pattern": offer_module.LABEL_KEY_PATTERN,
        "label_value_pattern": offer_module.LABEL_VALUE_PATTERN,
        "label_max": offer_module.LABEL_MAX_LENGTH,
        "max_labels": offer_module.MAX_LABELS,
        "ssh_source_pattern": offer_module.SSH_SOURCE_PATTERN,
    }


def canonical_json(document: Any) -> bytes:
    """The one byte layout every rendered file is written in."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _render(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> Any:
    text = env.get_template(name).render(context)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        # Only a broken source in this project can get here, never user input.
        raise RuntimeError(f"{name} rendered invalid JSON: {error}") from error


def render_offer(offer: Offer) -> RenderedOffer:
    """Render both files of `offer`."""
    env = _environment()
    context = _context(offer)
    main_template = _render(env, f"arm_templates/{MAIN_TEMPLATE}.j2", context)
    ui_definition = _render(env, f"ui_definitions/{UI_DEFINITION}.j2", context)
    artifacts: dict[str, Path] = {}
    if offer.installer.archive is not None:
        artifacts[f"artifacts/{offer.installer.artifact_name}"] = (
            offer.installer.archive
        )
    return RenderedOffer(
        main_template=main_template,
        ui_definition=ui_definition,
        files={
            MAIN_TEMPLATE: canonical_json(main_template),
            UI_DEFINITION: canonical_json(ui_definition),
        },
        artifacts=artifacts,
    )
