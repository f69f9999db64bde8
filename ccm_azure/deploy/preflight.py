"""Whether the nodes can exist before anything is written: size and vCPU quota.

DCsv3/DCdsv3 take no new subscriptions and are capacity-restricted, and their quota
families often start at 0 vCPUs. Without a preflight, Azure refuses such a deployment
only once the resource group exists and the template is sent. The preflight asks first,
with two reads: the region's Resource SKUs (is the size offered to this subscription
there?) and the region's compute usages (is there vCPU quota for every node?). A size
Azure will not give, or a quota too small, raises `CapacityUnavailable` (exit code 7)
with one line naming the numbers and the way out. Azure's own failures (sign-in, 403,
throttling after retries, 5xx) propagate as azure-core exceptions, for the caller to
map with `ccm_azure.deploy.errors.from_azure_error`.

Everything Azure returns is read as its JSON mapping (`as_dict()`), the shape the REST
reference documents, rather than through SDK attribute names.

The Azure SDK is imported only inside `existing_vms`, which runs only when a
deployment has already imported it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ccm_azure.deploy.errors import CapacityUnavailable
from ccm_azure.offer import REGION_NAMES, SGX_SIZES, SIZE_FAMILIES

if TYPE_CHECKING:
    from azure.mgmt.compute import ComputeManagementClient

LOGGER = logging.getLogger(__name__)

VIRTUAL_MACHINES = "virtualMachines"
LOCATION = "Location"
ZONE = "Zone"
REGIONAL_QUOTA = "cores"
"""The usage key of a region's total vCPUs, which every size also counts against."""
OFFER_SIZES = tuple(SGX_SIZES)
OFFER_REGIONS = tuple(REGION_NAMES)
_SGX_SIZE_NAMES = {name.lower(): name for name in SGX_SIZES}
ABSENT_CODES = frozenset({"ResourceNotFound", "ResourceGroupNotFound"})
"""404 codes that mean a VM does not exist (yet); any other 404 is a real failure."""

_REASONS: Mapping[str, str] = {
    "NotAvailableForSubscription": "Azure does not offer it to this subscription there",
    "QuotaId": "this kind of subscription (its quota id, e.g. a free trial or "
    "sponsored subscription) may not use it there",
}
_QUOTA_HELP = (
    "in the Azure portal (Quotas, Compute, filter on the region), with `az quota "
    "update --scope /subscriptions/{subscription}/providers/"
    "Microsoft.Compute/locations/{region} --resource-name {key} --limit-object "
    "value={limit}`, or with a support request of type 'Service and subscription "
    "limits (quotas)'"
)


# --- what the Resource SKUs say -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Restriction:
    """One entry of a SKU's `restrictions`: where it may not be used, and why."""

    kind: str
    reason_code: str
    locations: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()

    def applies_to(self, region: str) -> bool:
        """Whether it restricts `region`; one that names no location restricts all."""
        return not self.locations or region.lower() in self.locations

    @property
    def reason(self) -> str:
        """The reason code, explained when it is one Azure documents."""
        explained = _REASONS.get(self.reason_code)
        code = self.reason_code or "no reason code"
        return f"{explained} ({code})" if explained else f"it is restricted ({code})"


def restrictions(sku: Mapping[str, Any]) -> list[Restriction]:
    """The restrictions of a SKU, as Azure lists them.

    `values` and `restrictionInfo.locations` both name the locations a restriction is
    about; `restrictionInfo.zones` names the zones of a Zone restriction.
    """
    parsed: list[Restriction] = []
    for entry in sku.get("restrictions") or []:
        info = entry.get("restrictionInfo") or {}
        kind = str(entry.get("type") or "")
        locations = [*(entry.get("values") or []), *(info.get("locations") or [])]
        parsed.append(
            Restriction(
                kind=kind,
                reason_code=str(entry.get("reasonCode") or ""),
                locations=tuple(dict.fromkeys(str(name).lower() for name in locations)),
                zones=tuple(sorted({str(zone) for zone in info.get("zones") or []})),
            )
        )
    return parsed


def location_restriction(sku: Mapping[str, Any], region: str) -> Restriction | None:
    """The restriction that keeps the SKU out of the whole region, if there is one."""
    for restriction in restrictions(sku):
        if restriction.kind == LOCATION and restriction.applies_to(region):
            return restriction
    return None


def zone_restrictions(sku: Mapping[str, Any], region: str) -> list[Restriction]:
    """The restrictions that keep the SKU out of some zones of the region."""
    return [
        restriction
        for restriction in restrictions(sku)
        if restriction.kind == ZONE and restriction.applies_to(region)
    ]


def capability(sku: Mapping[str, Any], name: str) -> str | None:
    """A capability's value (always a string in Azure's answer), or None."""
    for entry in sku.get("capabilities") or []:
        if str(entry.get("name", "")).lower() == name.lower():
            value = entry.get("value")
            return None if value is None else str(value)
    return None


def vcpus_per_node(sku: Mapping[str, Any], size: str) -> tuple[int, str | None]:
    """The vCPUs one VM of `size` counts against quota, and a warning if Azure and
    the offer disagree.

    Azure's `vCPUs` capability wins, because it is what Azure counts; the offer's
    value stands in when the SKU does not carry a usable one.
    """
    offered = SGX_SIZES[size]
    listed = capability(sku, "vCPUs")
    try:
        vcpus = int(listed) if listed is not None else None
    except ValueError:
        vcpus = None
    if vcpus is None or vcpus < 1:
        return offered, None
    if vcpus != offered:
        return vcpus, (
            f"Azure counts {vcpus} vCPUs for {size} while the offer says {offered}; "
            f"the quota check uses Azure's {vcpus}."
        )
    return vcpus, None


def _listed_in(sku: Mapping[str, Any], region: str) -> bool:
    locations = [str(name).lower() for name in sku.get("locations") or []]
    locations += [
        str(info.get("location", "")).lower() for info in sku.get("locationInfo") or []
    ]
    return region.lower() in locations


def region_skus(
    compute: ComputeManagementClient, region: str, names: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The VM SKUs of `region` named in `names`, by lower-case name, in one pass.

    A region's list runs to megabytes; only the entries asked for are kept, and only
    those are turned into plain dicts.
    """
    wanted = {name.lower() for name in names}
    found: dict[str, dict[str, Any]] = {}
    for sku in compute.resource_skus.list(filter=f"location eq '{region}'"):
        if sku.get("resourceType") != VIRTUAL_MACHINES:
            continue
        name = str(sku.get("name") or "").lower()
        if name not in wanted:
            continue
        entry = dict(sku.as_dict())
        if _listed_in(entry, region):
            found[name] = entry
    return found


def available_sizes(
    skus: Mapping[str, Mapping[str, Any]], region: str, sizes: Iterable[str]
) -> list[str]:
    """The `sizes` the region lists without a Location restriction, in offer order."""
    return [
        size
        for size in sizes
        if size.lower() in skus
        and location_restriction(skus[size.lower()], region) is None
    ]


def unavailable_message(
    size: str,
    region: str,
    restriction: Restriction | None,
    alternatives: Sequence[str],
    regions: Sequence[str],
) -> str:
    """The one line for a size the region does not list, or restricts for us."""
    if restriction is None:
        text = (
            f"{size} is not available in {region}: Azure's list of VM sizes for the "
            "region does not include it"
        )
    else:
        text = f"{size} cannot be deployed in {region}: {restriction.reason}"
    if alternatives:
        step = (
            f"choose an SGX size of the offer that {region} has for this subscription "
            f"with --size: {', '.join(alternatives)}"
        )
    else:
        text += ", and no other SGX size of the offer is available there either"
        others = [name for name in regions if name != region.lower()]
        step = (
            f"try another region of the offer with --region ({', '.join(others)})"
            if others
            else "ask Microsoft for access to the size with a support request"
        )
    return f"{text}. Next: {step}."


def zone_warning(size: str, region: str, restriction: Restriction) -> str:
    """The warning for zones of the region where the size may not go."""
    zones = ", ".join(restriction.zones) or "some zones"
    return (
        f"{size} is restricted in zone(s) {zones} of {region} for this subscription "
        f"({restriction.reason_code or 'no reason code'}); the node is not pinned to a "
        "zone, so Azure places it where the size is available."
    )


# --- what the usages say --------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Quota:
    """One vCPU quota of the region: a family's, or the regional total (`cores`)."""

    key: str
    name: str
    limit: int
    usage: int
    listed: bool = True

    @property
    def label(self) -> str:
        """How a message names it: Azure's name and its usage key."""
        return f"{self.name} ({self.key})" if self.name else self.key

    def free(self, held: int = 0) -> int:
        """vCPUs left for this deployment, counting `held` (its own VMs) as free."""
        return self.limit - max(0, self.usage - held)

    def new_limit(self, needed: int, held: int = 0) -> int:
        """The smallest limit under which `needed` vCPUs fit."""
        return max(0, self.usage - held) + needed


def find_quota(usages: Iterable[Mapping[str, Any]], key: str) -> Quota:
    """The usage entry named `key` (any case); limit 0 when Azure does not list it."""
    for usage in usages:
        name = usage.get("name") or {}
        if str(name.get("value", "")).lower() == key.lower():
            return Quota(
                key=str(name.get("value")),
                name=str(name.get("localizedValue") or ""),
                limit=int(usage.get("limit") or 0),
                usage=int(usage.get("currentValue") or 0),
            )
    return Quota(key=key, name="", limit=0, usage=0, listed=False)


def held_by(present: Mapping[str, int] | None, key: str) -> int:
    """What this deployment's existing VMs already count against `key` (any case)."""
    return sum(
        vcpus for name, vcpus in (present or {}).items() if name.lower() == key.lower()
    )


def quota_message(
    size: str,
    region: str,
    node_count: int,
    needed: int,
    short: Sequence[tuple[Quota, int]],
    subscription_id: str = "SUBSCRIPTION_ID",
) -> str:
    """The one line for quotas that are too small; `short` holds (quota, held)."""
    nodes = "1 node" if node_count == 1 else f"{node_count} nodes"
    parts = []
    for quota, held in short:
        part = f"{quota.label} has a limit of {quota.limit} with {quota.usage} in use"
        if held:
            part += f" ({held} of them by this deployment's own VMs)"
        if not quota.listed:
            part += (
                " (Azure lists no such quota for the subscription, so its limit is 0)"
            )
        parts.append(part)
    requests = " and ".join(
        f"{quota.new_limit(needed, held)} for {quota.key}" for quota, held in short
    )
    first, held = short[0]
    how = _QUOTA_HELP.format(
        region=region,
        key=first.key,
        limit=first.new_limit(needed, held),
        subscription=subscription_id,
    )
    return (
        f"Not enough vCPU quota in {region} for {nodes} of {size} ({needed} vCPUs): "
        f"{'; '.join(parts)}. Next: request a new limit of at least {requests} in "
        f"{region} {how}; or deploy fewer nodes (--count) or a smaller --size."
    )


# --- the check ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Capacity:
    """What the preflight found: the size is there and its quota has room."""

    region: str
    size: str
    node_count: int
    vcpus_per_node: int
    family: str
    family_name: str
    family_limit: int
    family_usage: int
    regional_limit: int
    regional_usage: int
    warnings: tuple[str, ...] = ()

    @property
    def needed_vcpus(self) -> int:
        return self.node_count * self.vcpus_per_node

    def summary(self) -> str:
        """One line for the progress output."""
        nodes = (
            "1 node needs" if self.node_count == 1 else f"{self.node_count} nodes need"
        )
        family = self.family_name or self.family
        return (
            f"{self.size} is available in {self.region}; {nodes} "
            f"{self.needed_vcpus} vCPUs: {family} {self.family_usage} of "
            f"{self.family_limit} in use, Total Regional vCPUs {self.regional_usage} "
            f"of {self.regional_limit} in use."
        )


def check_capacity(
    compute: ComputeManagementClient,
    *,
    region: str,
    size: str,
    node_count: int,
    present_vcpus: Mapping[str, int] | None = None,
    sizes: Sequence[str] = OFFER_SIZES,
    regions: Sequence[str] = OFFER_REGIONS,
    subscription_id: str = "SUBSCRIPTION_ID",
) -> Capacity:
    """Whether `node_count` VMs of `size` can exist in `region`, or CapacityUnavailable.

    `present_vcpus` (usage key -> vCPUs) is what this deployment's existing VMs already
    count against quota (see `present_vcpus`), so that running the same deployment
    again is not refused for quota its own nodes hold. `sizes` and `regions` are the
    offer's, from which alternatives are suggested; `subscription_id` goes into the
    quota request command.
    """
    if size not in SGX_SIZES:
        raise ValueError(f"{size} is not an SGX size of the offer")
    if node_count < 1:
        raise ValueError(f"node_count must be at least 1, not {node_count}")

    skus = region_skus(compute, region, {size, *sizes})
    sku = skus.get(size.lower())
    restriction = None if sku is None else location_restriction(sku, region)
    if sku is None or restriction is not None:
        alternatives = [
            name for name in available_sizes(skus, region, sizes) if name != size
        ]
        raise CapacityUnavailable(
            unavailable_message(size, region, restriction, alternatives, regions)
        )
    warnings = [zone_warning(size, region, r) for r in zone_restrictions(sku, region)]
    vcpus, disagreement = vcpus_per_node(sku, size)
    if disagreement:
        warnings.append(disagreement)
    LOGGER.info("%s is available in %s (%d vCPUs per node)", size, region, vcpus)

    usages = [usage.as_dict() for usage in compute.usage.list(region)]
    family = find_quota(usages, SIZE_FAMILIES[size])
    regional = find_quota(usages, REGIONAL_QUOTA)
    needed = node_count * vcpus
    short = []
    for quota in (family, regional):
        held = held_by(present_vcpus, quota.key)
        if quota.free(held) < needed:
            short.append((quota, held))
    if short:
        raise CapacityUnavailable(
            quota_message(size, region, node_count, needed, short, subscription_id)
        )

    capacity = Capacity(
        region=region,
        size=size,
        node_count=node_count,
        vcpus_per_node=vcpus,
        family=family.key,
        family_name=family.name,
        family_limit=family.limit,
        family_usage=family.usage,
        regional_limit=regional.limit,
        regional_usage=regional.usage,
        warnings=tuple(warnings),
    )
    LOGGER.info("%s", capacity.summary())
    return capacity


# --- what this deployment already holds -----------------------------------------------


def existing_vms(
    compute: ComputeManagementClient, resource_group: str, vm_names: Sequence[str]
) -> list[dict[str, Any]]:
    """The VMs among `vm_names` that exist in `resource_group`, as ARM's JSON.

    A VM that does not exist (404 ResourceNotFound) is left out; when the resource
    group does not exist (404 ResourceGroupNotFound) none of them does.
    """
    from azure.core.exceptions import HttpResponseError

    found: list[dict[str, Any]] = []
    for name in vm_names:
        try:
            found.append(compute.virtual_machines.get(resource_group, name).as_dict())
        except HttpResponseError as error:
            code = _error_code(error)
            if error.status_code != 404 or code not in ABSENT_CODES:
                raise
            LOGGER.debug("VM %s/%s does not exist (%s)", resource_group, name, code)
            if code == "ResourceGroupNotFound":
                break
    return found


def present_vcpus(
    compute: ComputeManagementClient, resource_group: str, vm_names: Sequence[str]
) -> dict[str, int]:
    """The vCPUs the existing VMs among `vm_names` count, by family key and `cores`.

    Only SGX sizes of the offer count: the node deployment makes no other VMs.
    """
    held: dict[str, int] = {}
    for machine in existing_vms(compute, resource_group, vm_names):
        properties = machine.get("properties") or {}
        listed = str((properties.get("hardwareProfile") or {}).get("vmSize") or "")
        size = _SGX_SIZE_NAMES.get(listed.lower())
        if size is None:
            LOGGER.debug("VM %s is a %s, which the preflight ignores", machine, listed)
            continue
        for key in (SIZE_FAMILIES[size], REGIONAL_QUOTA):
            held[key] = held.get(key, 0) + SGX_SIZES[size]
    return held


def _error_code(error: Any) -> str:
    """The ARM error code azure-core parsed from an error answer, or ""."""
    return str(getattr(getattr(error, "error", None), "code", "") or "")
