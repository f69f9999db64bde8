"""Template rules about virtual machines: the customer chooses the size, and the image
is a released one that stays current.

Images and sizes are followed through variables and parameters, so an image picked
from a variable object by a parameter is checked for every value it can take.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import (
    Resource,
    Template,
    every_resource,
    possible_values,
)

STORAGE_PROFILES = {
    "microsoft.compute/virtualmachines": ("storageProfile",),
    "microsoft.compute/virtualmachinescalesets": (
        "virtualMachineProfile",
        "storageProfile",
    ),
}
"""Where each kind of virtual machine keeps its storage profile, under properties."""

IMAGE_FIELDS = ("offer", "sku", "version")
NOT_MARKETPLACE = ("id", "sharedGalleryImageId", "communityGalleryImageId")
"""imageReference properties that name a custom or gallery image instead."""


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _values_at(template: Template, start: object, keys: tuple[str, ...]) -> list[Any]:
    """Every value found by following `keys` from `start`, through expressions."""
    current: list[Any] = [start]
    for key in keys:
        following: list[Any] = []
        for holder in current:
            for value in possible_values(template, holder) or []:
                if isinstance(value, Mapping) and key in value:
                    following.append(value[key])
        current = following
    return [v for held in current for v in possible_values(template, held) or []]


def _written_at(resource: Resource, keys: tuple[str, ...]) -> str:
    """The JSON path of the deepest of `keys` the resource writes out literally."""
    path, held = f"{resource.path}.properties", resource.properties
    for key in keys:
        if not isinstance(held, Mapping) or key not in held:
            break
        path, held = f"{path}.{key}", held[key]
    return path


def _images(template: Template) -> Iterator[tuple[Resource, str, Any]]:
    """(VM resource, JSON path, one value its imageReference can take)."""
    for resource in every_resource(template):
        keys = STORAGE_PROFILES.get(resource.full_type.lower())
        if keys is None:
            continue
        keys = (*keys, "imageReference")
        path = _written_at(resource, keys)
        for image in _values_at(template, resource.properties, keys):
            yield resource, path, image


@rule(
    "template-vm-image-not-preview",
    family="template",
    summary="Virtual machines boot a released image: no offer, SKU or version preview.",
    arm_ttk="Virtual-Machines-Should-Not-Be-Preview",
)
def vm_image_not_preview(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    reported = set()
    for resource, path, image in _images(template):
        if isinstance(image, str) and image.lower().endswith("preview"):
            found = [("image", image)]
        elif isinstance(image, Mapping):
            found = [
                (field, value)
                for field in IMAGE_FIELDS
                for value in possible_values(template, image.get(field)) or []
                if isinstance(value, str) and value.lower().endswith("preview")
            ]
        else:
            continue
        for field, value in found:
            if (path, field, value) in reported:
                continue
            reported.add((path, field, value))
            yield (
                path,
                f"The {field} '{value}' of {resource.full_type} is a preview; "
                f"choose a generally available {field}.",
            )


@rule(
    "template-vm-image-latest",
    family="template",
    summary=(
        "Marketplace images of virtual machines use version 'latest' so new "
        "deployments get security fixes. Switched off in arm-ttk (its check was never "
        "finished), so this only warns and never blocks."
    ),
    arm_ttk="VM-Images-Should-Use-Latest-Version",
    blocking=False,
)
def vm_image_latest(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    reported = set()
    for resource, path, image in _images(template):
        if not isinstance(image, Mapping) or "plan" in resource.data:
            continue  # a custom image, or a paid image whose plan pins versions
        if any(key in image for key in NOT_MARKETPLACE) or "version" not in image:
            continue
        for version in possible_values(template, image["version"]) or []:
            if isinstance(version, str) and version.lower() == "latest":
                continue
            if (path, str(version)) in reported:
                continue
            reported.add((path, str(version)))
            yield Problem(
                path,
                f"The image of {resource.full_type} is pinned to version "
                f"'{version}'; use 'latest' so each deployment gets the current "
                "patched image.",
                level="warning",
            )


# VM sizes


def _size_properties(value: object, path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every vmSize property; a nested deployment passes it as
    `{"value": ...}`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            item_path = f"{path}.{key}"
            if key.lower() == "vmsize":
                if isinstance(item, Mapping) and "value" in item:
                    yield f"{item_path}.value", item["value"]
                elif not isinstance(item, Mapping | list):
                    yield item_path, item
            yield from _size_properties(item, item_path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _size_properties(item, f"{path}[{i}]")


def _from_parameter(template: Template, value: object) -> bool:
    """Whether a vmSize value reads a parameter, directly or through variables."""
    if not isinstance(value, str):
        return False
    # An escaped expression is evaluated by the deployment it is passed to.
    node = ex.try_parse(value[1:] if value.startswith("[[") else value)
    if node is None:
        return False
    return any(
        ex.referenced(reached, "parameters")
        for reached in template.through_variables(node)
    )


@rule(
    "template-vm-size-parameter",
    family="template",
    summary=(
        "Every vmSize, nested deployments included, comes from a parameter (directly "
        "or through a variable), so the customer chooses the size."
    ),
    arm_ttk="VM-Size-Should-Be-A-Parameter",
)
def vm_size_parameter(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, value in _size_properties(template.data.get("resources"), "$.resources"):
        if not _from_parameter(template, value):
            yield (
                path,
                f"vmSize is fixed to {json.dumps(value)}; take it from a parameter "
                "(directly or through a variable) so the customer can choose the size.",
            )
