"""Rules of our own offer: what must hold for a node-agent VM to be safe and enrol.

They run on the rendered offer (`ccm-azure build`), where the offer is known: the
join token stays secret, the agent port stays closed, SSH is never open to everyone,
the VM is an SGX size with a supported image and no security profile, the form and
template offer the offer's regions, and each of 1 to MAX_NODES nodes gets its own VM,
network interface, public IP, labels and agent extension from one copy loop each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure import offer as offer_module
from ccm_azure.offer import TemplateParameter
from ccm_azure.validate import expressions as ex
from ccm_azure.validate.form import Form
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Resource, Template, walk

_OPEN_SOURCES = {"*", "any", "internet", "0.0.0.0/0", "0.0.0.0", "::/0"}  # noqa: S104


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _is_custom_script(resource: Resource) -> bool:
    props = resource.properties
    return (
        resource.full_type.lower().endswith("virtualmachines/extensions")
        and str(props.get("publisher", "")).lower() == "microsoft.azure.extensions"
        and str(props.get("type", "")).lower() == "customscript"
    )


@rule(
    "offer-join-token-protected",
    family="offer",
    main_only=True,
    summary="The join token is a secureString that reaches only protectedSettings.",
)
def join_token_protected(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    found = template.parameter(TemplateParameter.JOIN_TOKEN)
    if found is None:
        yield "$.parameters", "the template has no joinToken parameter; add it."
        return
    name, definition = found
    path = f"$.parameters.{name}"
    if str(definition.get("type", "")).lower() != "securestring":
        yield path, "make the join token parameter a secureString."
    if "defaultValue" in definition:
        yield f"{path}.defaultValue", "remove the join token's default value."

    allowed = {
        f"{resource.path}.properties.protectedSettings"
        for resource in template.resources()
        if _is_custom_script(resource)
    }
    for item_path, value in walk(template.data):
        node = ex.try_parse(value)
        if node is None:
            continue
        names = {n.lower() for n in ex.referenced(node, "parameters")}
        if name.lower() not in names:
            continue
        if any(item_path.startswith(prefix + ".") for prefix in allowed):
            continue
        yield (
            item_path,
            "the join token is used outside the Custom Script extension's "
            "protectedSettings; use it only there, so it is encrypted to the VM and "
            "never stored or shown.",
        )


def _security_rules(template: Template, nsg: Resource) -> list[Mapping[str, Any]]:
    """The security rules of an NSG, following variables an expression names."""
    value = nsg.properties.get("securityRules")
    candidates: list[Any] = []
    if isinstance(value, list):
        candidates = value
    node = ex.try_parse(value)
    if node is not None:
        candidates = [template.variable(v) for v in ex.referenced(node, "variables")]
    rules = []
    for item in candidates:
        item_node = ex.try_parse(item)
        if item_node is not None and isinstance(item_node, ex.Call):
            item = template.variable(ex.string_argument(item_node) or "")
        if isinstance(item, Mapping) and isinstance(item.get("properties"), Mapping):
            rules.append(item)
    for child in template.resources():
        if child.is_type("Microsoft.Network/networkSecurityGroups/securityRules"):
            rules.append(child.data)
    return rules


def _covers_port(rule_properties: Mapping[str, Any], port: int) -> bool | None:
    """Whether the rule's destination ports include `port`; None if unknowable."""
    ranges: list[Any] = []
    if "destinationPortRange" in rule_properties:
        ranges.append(rule_properties["destinationPortRange"])
    ranges.extend(rule_properties.get("destinationPortRanges") or [])
    unknown = False
    for item in ranges:
        text = str(item)
        if text == "*":
            return True
        low, _, high = text.partition("-")
        if low.isdigit() and (high or low).isdigit():
            if int(low) <= port <= int(high or low):
                return True
        else:
            unknown = True
    return None if unknown else False


def _is(properties: Mapping[str, Any], key: str, value: str) -> bool:
    return str(properties.get(key, "")).lower() == value.lower()


@rule(
    "offer-agent-port-closed",
    family="offer",
    main_only=True,
    summary="Every NSG denies the node agent port to all sources before any allow.",
)
def agent_port_closed(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    port = offer_module.AGENT_PORT
    nsgs = [
        r
        for r in template.resources()
        if r.is_type("Microsoft.Network/networkSecurityGroups")
    ]
    if not nsgs:
        yield "$.resources", f"add a network security group that denies port {port}."
    for nsg in nsgs:
        rules = [r["properties"] for r in _security_rules(template, nsg)]
        inbound = [p for p in rules if _is(p, "direction", "Inbound")]
        denies = [
            p
            for p in inbound
            if _is(p, "access", "Deny")
            and _covers_port(p, port)
            and str(p.get("sourceAddressPrefix", "")) == "*"
            and str(p.get("protocol", "")) == "*"
        ]
        if not denies:
            yield (
                f"{nsg.path}.properties.securityRules",
                f"no inbound rule denies port {port} from every source ('*'); add a "
                "Deny rule for it with the highest priority (lowest number).",
            )
            continue
        first_deny = min(_priority(p) for p in denies)
        for allow in inbound:
            if (
                _is(allow, "access", "Allow")
                and _covers_port(allow, port) is not False
                and _priority(allow) <= first_deny
            ):
                yield (
                    f"{nsg.path}.properties.securityRules",
                    f"an Allow rule (priority {allow.get('priority')}) may admit "
                    f"port {port} before the Deny rule; give the Deny rule a lower "
                    "priority number.",
                )
    for nic in template.resources():
        if (
            nic.is_type("Microsoft.Network/networkInterfaces")
            and "networkSecurityGroup" not in nic.properties
        ):
            yield (
                f"{nic.path}.properties",
                "attach the network security group to this network interface.",
            )


def _priority(properties: Mapping[str, Any]) -> int:
    value = properties.get("priority")
    return value if isinstance(value, int) else 4096


@rule(
    "offer-ssh-not-open",
    family="offer",
    main_only=True,
    summary="SSH is allowed only from a prefix the user names; none by default.",
)
def ssh_not_open(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for nsg in template.resources():
        if not nsg.is_type("Microsoft.Network/networkSecurityGroups"):
            continue
        for item in _security_rules(template, nsg):
            props = item["properties"]
            if not (
                _is(props, "direction", "Inbound") and _is(props, "access", "Allow")
            ):
                continue
            if _covers_port(props, 22) is False:
                continue
            sources = [props.get("sourceAddressPrefix")]
            sources += list(props.get("sourceAddressPrefixes") or [])
            for source in sources:
                yield from _check_source(template, nsg, source)


def _check_source(template: Template, nsg: Resource, source: Any) -> Iterator[Report]:
    path = f"{nsg.path}.properties.securityRules"
    if isinstance(source, str) and source.lower() in _OPEN_SOURCES:
        yield path, f"SSH is open to '{source}'; allow it only from a named prefix."
        return
    node = ex.try_parse(source)
    if node is None:
        return
    for name in ex.referenced(node, "parameters"):
        found = template.parameter(name)
        if found is None:
            continue
        default = found[1].get("defaultValue", "")
        if isinstance(default, str) and default.lower() in _OPEN_SOURCES:
            yield (
                f"$.parameters.{found[0]}.defaultValue",
                f"the SSH source defaults to '{default}'; default to '' (no SSH rule).",
            )


@rule(
    "offer-sgx-vm",
    family="offer",
    main_only=True,
    summary="VMs use SGX sizes from a parameter, supported images, no securityProfile.",
)
def sgx_vm(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for vm in template.resources():
        if not vm.is_type("Microsoft.Compute/virtualMachines"):
            continue
        props = vm.properties
        if "securityProfile" in props:
            yield (
                f"{vm.path}.properties.securityProfile",
                "remove securityProfile: SGX sizes take neither Trusted Launch nor "
                "confidential-VM settings.",
            )
        hardware = props.get("hardwareProfile")
        size = hardware.get("vmSize") if isinstance(hardware, Mapping) else None
        yield from _check_size(template, f"{vm.path}.properties.hardwareProfile", size)
    for item_path, value in walk(template.data):
        if isinstance(value, Mapping) and {"publisher", "offer", "sku"} <= set(value):
            yield from _check_image(item_path, value)


def _check_size(template: Template, path: str, size: Any) -> Iterator[Report]:
    node = ex.try_parse(size)
    names = ex.referenced(node, "parameters") if node is not None else set()
    if not names:
        yield path, "take vmSize from a parameter limited to the SGX sizes."
        return
    for name in names:
        found = template.parameter(name)
        if found is None:
            continue
        allowed = found[1].get("allowedValues")
        if not isinstance(allowed, list):
            yield (
                f"$.parameters.{found[0]}",
                "limit the VM size parameter with allowedValues to the SGX sizes.",
            )
            continue
        for value in [*allowed, found[1].get("defaultValue", allowed[0])]:
            if value not in offer_module.SGX_SIZES:
                yield (
                    f"$.parameters.{found[0]}",
                    f"{value} is not a DCsv3/DCdsv3 SGX size; offer only those.",
                )


def _check_image(path: str, image: Mapping[str, Any]) -> Iterator[Report]:
    supported = [i.image_reference() for i in offer_module.IMAGES.values()]
    if dict(image) not in supported:
        yield (
            path,
            f"image {image.get('offer')}/{image.get('sku')}:{image.get('version')} is "
            "not a supported Gen2 Ubuntu image at version 'latest'.",
        )


@rule(
    "offer-regions",
    family="offer",
    main_only=True,
    summary="The template and the form offer exactly the offer's regions.",
)
def regions(context: Context) -> Iterator[Report]:
    template = _template(context)
    offer = context.settings.offer
    if template is None or offer is None:
        return
    wanted = list(offer.regions)
    found = template.parameter(TemplateParameter.LOCATION)
    allowed = found[1].get("allowedValues") if found else None
    if allowed != wanted:
        yield Problem(
            "$.parameters.location.allowedValues",
            f"the location parameter allows {allowed}; limit it to {wanted}.",
        )
    form = context.ui_definition
    if form is None or not isinstance(form.data, Mapping):
        return
    config = form.data.get("parameters", {}).get("config", {})
    location = config.get("basics", {}).get("location", {})
    if location.get("allowedValues") != wanted:
        yield Problem(
            "$.parameters.config.basics.location.allowedValues",
            f"the form offers {location.get('allowedValues')}; limit it to {wanted}.",
            document=form,
        )


_PER_NODE_TYPES = (
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Compute/virtualMachines/extensions",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Network/publicIPAddresses",
)
"""Resource types every node has one of; the network and its NSG are shared."""


def _is_per_node(resource: Resource) -> bool:
    if any(resource.is_type(name) for name in _PER_NODE_TYPES):
        return True
    scope = resource.data.get("scope")
    return (
        resource.is_type("Microsoft.Resources/tags")
        and isinstance(scope, str)
        and "microsoft.compute/virtualmachines" in scope.lower()
    )


def _uses_copy_index(value: Any) -> bool:
    node = ex.try_parse(value)
    return node is not None and any(True for _ in ex.calls(node, "copyIndex"))


@rule(
    "offer-node-loops",
    family="offer",
    main_only=True,
    summary="Each node gets its own VM, NIC, public IP, labels and agent extension.",
)
def node_loops(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    count = TemplateParameter.NODE_COUNT
    for resource in template.resources():
        if not _is_per_node(resource):
            continue
        loop = resource.data.get("copy")
        loop_count = loop.get("count") if isinstance(loop, Mapping) else None
        node = ex.try_parse(loop_count)
        names = ex.referenced(node, "parameters") if node is not None else set()
        if count.lower() not in {name.lower() for name in names}:
            yield (
                resource.path,
                f"this {resource.full_type} is made once for the whole deployment; "
                f'give it "copy": {{"name": ..., "count": "[parameters(\'{count}\')]'
                '"} so that every node gets its own.',
            )
            continue
        named_by = "scope" if resource.is_type("Microsoft.Resources/tags") else "name"
        if not _uses_copy_index(resource.data.get(named_by)):
            yield (
                f"{resource.path}.{named_by}",
                f"every node's {resource.full_type} gets the same {named_by}, so the "
                f"deployment fails with more than one node; build the {named_by} "
                "with copyIndex(), for example from variables('nodes')[copyIndex()].",
            )


@rule(
    "offer-node-count",
    family="offer",
    main_only=True,
    summary=f"The template and the form offer 1 to {offer_module.MAX_NODES} nodes, "
    "1 by default.",
)
def node_count(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    wanted = {
        "type": "int",
        "defaultValue": 1,
        "minValue": 1,
        "maxValue": offer_module.MAX_NODES,
    }
    found = template.parameter(TemplateParameter.NODE_COUNT)
    if found is None:
        yield (
            "$.parameters",
            f"the template has no {TemplateParameter.NODE_COUNT} parameter; add it "
            f"as {json.dumps(wanted)}.",
        )
        return
    name, definition = found
    for key, value in wanted.items():
        actual = definition.get(key)
        if isinstance(actual, str) and key == "type":
            actual = actual.lower()  # ARM reads type names without regard to case
        if actual != value or isinstance(actual, bool):
            yield (
                f"$.parameters.{name}",
                f"parameter '{name}' has {key} {json.dumps(actual)}; set it to "
                f"{json.dumps(value)}.",
            )
    yield from _form_node_counts(context, name)


def _form_node_counts(context: Context, name: str) -> Iterator[Report]:
    document = context.ui_definition
    if document is None or not isinstance(document.data, Mapping):
        return
    form = Form(document.data)
    path = f"$.parameters.outputs.{name}"
    output = next(
        (v for k, v in form.outputs.items() if k.lower() == name.lower()), None
    )
    node = ex.try_parse(output)
    reference = form.resolve(node) if node is not None else None
    if reference is None or reference.control is None or reference.members:
        yield Problem(
            path,
            f"the form does not pass a node count control as output '{name}'; add a "
            f"drop-down of 1 to {offer_module.MAX_NODES} nodes and pass it.",
            document=document,
        )
        return
    control = reference.control
    constraints = control.data.get("constraints")
    items = (
        constraints.get("allowedValues") if isinstance(constraints, Mapping) else None
    )
    offered = [i.get("value") for i in items or [] if isinstance(i, Mapping)]
    wanted = list(range(1, offer_module.MAX_NODES + 1))
    if offered != wanted:
        yield Problem(
            f"{control.path}.constraints.allowedValues",
            f"control '{control.name}' offers the node counts {offered}; offer the "
            f"whole numbers {wanted}.",
            document=document,
        )
