"""Template rules about resources as a whole: where each one is deployed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Template, every_resource

_TOP_LEVEL = re.compile(r"\$\.resources(\[\d+\]|\.[^.\[]+)")


@rule(
    "template-resource-location-expression",
    family="template",
    summary=(
        "A resource's location is an expression (such as the location parameter) or "
        "'global', never a fixed region. Child resources and those of nested "
        "templates, which arm-ttk does not check, are warned about."
    ),
    arm_ttk="Resources-Should-Have-Location",
)
def resource_location_expression(context: Context) -> Iterator[Report]:
    data = context.data
    if not isinstance(data, Mapping):
        return
    for resource in every_resource(Template(data)):
        location = resource.data.get("location")
        if not isinstance(location, str) or location.startswith("[["):
            continue  # an escaped expression is evaluated by a later deployment
        if ex.is_expression(location) or location.lower() == "global":
            continue
        # arm-ttk looks at top-level resources only; a fixed region deeper down is
        # as wrong, but not something Partner Center would block.
        top_level = _TOP_LEVEL.fullmatch(resource.path) is not None
        yield Problem(
            f"{resource.path}.location",
            f"The location of {resource.full_type} is fixed to '{location}'; use "
            "[parameters('location')], or 'global' for a global resource.",
            level="error" if top_level else "warning",
        )
