"""The deploy preflight: is the size offered to the subscription in the region, and is
there vCPU quota for every node? Replayed from hand-written cassettes, then the pure
functions on their own, edge cases included."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest
import recording
from conftest import CASSETTES, FakeCredential
from deploying import interactions

from ccm_azure.deploy import errors, preflight
from ccm_azure.deploy.clients import ClientOptions, compute_client
from ccm_azure.deploy.errors import CapacityUnavailable
from ccm_azure.deploy.preflight import Quota, Restriction
from ccm_azure.errors import ExitCode
from ccm_azure.offer import SGX_SIZES

REPLAY_ONLY = pytest.mark.vcr(record_mode="none")
SUBSCRIPTION_PATH = f"/subscriptions/{recording.SUBSCRIPTION}"
SKUS = f"GET {SUBSCRIPTION_PATH}/providers/Microsoft.Compute/skus"
USAGES = f"GET {SUBSCRIPTION_PATH}/providers/Microsoft.Compute/locations/eastus/usages"
FLEET_VMS = (
    f"GET {SUBSCRIPTION_PATH}/resourceGroups/ccm-fleet/providers/"
    "Microsoft.Compute/virtualMachines"
)
QUOTA_HELP = (
    "in the Azure portal (Quotas, Compute, filter on the region), with `az quota "
    "update --scope /subscriptions/SUBSCRIPTION_ID/"
    "providers/Microsoft.Compute/locations/eastus --resource-name {key} "
    "--limit-object value={limit}`, or with a support request of type 'Service and "
    "subscription limits (quotas)'"
)


@pytest.fixture
def compute(fake_credential: FakeCredential) -> Any:
    """The compute client as the deploy command builds it, without any waiting."""
    options = ClientOptions(polling_interval=0, retry_backoff=0)
    return compute_client(fake_credential, recording.SUBSCRIPTION, options)


def refusal(check: Callable[[], object]) -> str:
    """The one line of the CapacityUnavailable that `check` raises (exit code 7)."""
    with pytest.raises(CapacityUnavailable) as caught:
        check()
    assert caught.value.exit_code == ExitCode.NOT_AVAILABLE == 7
    line = str(caught.value)
    assert "\n" not in line
    assert line.endswith(".")
    assert line.count("Next: ") == 1
    return line


# --- the size is there and the quota has room ---------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_available.yaml")
def test_an_available_size_with_quota_passes(vcr: Any, compute: Any) -> None:
    capacity = preflight.check_capacity(
        compute, region="eastus", size="Standard_DC2s_v3", node_count=2
    )

    assert capacity == preflight.Capacity(
        region="eastus",
        size="Standard_DC2s_v3",
        node_count=2,
        vcpus_per_node=2,
        family="standardDCSv3Family",
        family_name="Standard DCSv3 Family vCPUs",
        family_limit=24,
        family_usage=0,
        regional_limit=10,
        regional_usage=2,
        warnings=(),
    )
    assert capacity.needed_vcpus == 4
    assert capacity.summary() == (
        "Standard_DC2s_v3 is available in eastus; 2 nodes need 4 vCPUs: Standard "
        "DCSv3 Family vCPUs 0 of 24 in use, Total Regional vCPUs 2 of 10 in use."
    )
    assert interactions(vcr) == [SKUS, USAGES]
    assert vcr.all_played


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_zone_restricted.yaml")
def test_a_zone_restriction_passes_with_a_warning(vcr: Any, compute: Any) -> None:
    capacity = preflight.check_capacity(
        compute, region="eastus", size="Standard_DC2s_v3", node_count=1
    )

    assert capacity.warnings == (
        "Standard_DC2s_v3 is restricted in zone(s) 2, 3 of eastus for this "
        "subscription (NotAvailableForSubscription); the node is not pinned to a "
        "zone, so Azure places it where the size is available.",
    )
    assert (capacity.family_limit, capacity.family_usage) == (8, 0)
    assert vcr.all_played


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_throttled_sku_list.yaml")
def test_a_throttled_sku_list_is_asked_again_without_sleeping(
    vcr: Any, compute: Any
) -> None:
    started = time.monotonic()

    capacity = preflight.check_capacity(
        compute, region="eastus", size="Standard_DC2s_v3", node_count=1
    )

    assert time.monotonic() - started < 2  # the cassette's Retry-After is 17 s
    assert [response["status"]["code"] for response in vcr.responses] == [
        429,
        200,
        200,
    ]
    assert interactions(vcr) == [SKUS, SKUS, USAGES]
    assert capacity.vcpus_per_node == 2
    assert vcr.all_played


# --- the size is not there ------------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_not_available_for_subscription.yaml")
def test_a_size_not_offered_to_the_subscription_lists_the_sizes_that_are(
    vcr: Any, compute: Any
) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="eastus", size="Standard_DC2s_v3", node_count=1
        )
    )

    assert line == (
        "Standard_DC2s_v3 cannot be deployed in eastus: Azure does not offer it to "
        "this subscription there (NotAvailableForSubscription). Next: choose an SGX "
        "size of the offer that eastus has for this subscription with --size: "
        "Standard_DC4s_v3, Standard_DC16s_v3, Standard_DC24s_v3, Standard_DC32s_v3, "
        "Standard_DC48s_v3, Standard_DC1ds_v3, Standard_DC2ds_v3, Standard_DC4ds_v3, "
        "Standard_DC8ds_v3, Standard_DC16ds_v3, Standard_DC24ds_v3, "
        "Standard_DC32ds_v3, Standard_DC48ds_v3."
    )
    # Refused before the usages are read.
    assert interactions(vcr) == [SKUS]


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_not_available_for_subscription.yaml")
def test_alternatives_come_from_the_offers_own_sizes(compute: Any) -> None:
    sizes = ("Standard_DC1s_v3", "Standard_DC2s_v3", "Standard_DC8s_v3")
    narrowed = (*sizes, "Standard_DC4ds_v3")

    line = refusal(
        lambda: preflight.check_capacity(
            compute,
            region="eastus",
            size="Standard_DC2s_v3",
            node_count=1,
            sizes=narrowed,
        )
    )

    assert line.endswith("with --size: Standard_DC4ds_v3.")


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_restricted_everywhere.yaml")
def test_no_available_size_suggests_another_region(vcr: Any, compute: Any) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="uksouth", size="Standard_DC2s_v3", node_count=1
        )
    )

    assert line == (
        "Standard_DC2s_v3 cannot be deployed in uksouth: this kind of subscription "
        "(its quota id, e.g. a free trial or sponsored subscription) may not use it "
        "there (QuotaId), and no other SGX size of the offer is available there "
        "either. Next: try another region of the offer with --region (eastus, "
        "canadacentral)."
    )
    assert vcr.all_played


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_size_missing.yaml")
def test_a_size_the_region_does_not_list_is_refused(vcr: Any, compute: Any) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="canadacentral", size="Standard_DC48s_v3", node_count=1
        )
    )

    assert line.startswith(
        "Standard_DC48s_v3 is not available in canadacentral: Azure's list of VM "
        "sizes for the region does not include it. Next: choose an SGX size of the "
        "offer that canadacentral has for this subscription with --size: "
        "Standard_DC1s_v3, Standard_DC2s_v3, "
    )
    assert "Standard_DC24s_v3, Standard_DC1ds_v3" in line
    assert "DC32" not in line
    assert "DC48ds" not in line
    assert vcr.all_played


# --- the quota is short ---------------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_family_quota_zero.yaml")
def test_a_family_quota_of_zero_says_what_to_request(vcr: Any, compute: Any) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="eastus", size="Standard_DC2s_v3", node_count=1
        )
    )

    how = QUOTA_HELP.format(key="standardDCSv3Family", limit=2)
    assert line == (
        "Not enough vCPU quota in eastus for 1 node of Standard_DC2s_v3 (2 vCPUs): "
        "Standard DCSv3 Family vCPUs (standardDCSv3Family) has a limit of 0 with 0 in "
        "use. Next: request a new limit of at least 2 for standardDCSv3Family in "
        f"eastus {how}; or deploy fewer nodes (--count) or a smaller --size."
    )
    assert interactions(vcr) == [SKUS, USAGES]


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_family_quota_zero.yaml")
def test_a_family_missing_from_the_usages_has_limit_zero(compute: Any) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="eastus", size="Standard_DC4ds_v3", node_count=2
        )
    )

    assert line.startswith(
        "Not enough vCPU quota in eastus for 2 nodes of Standard_DC4ds_v3 (8 vCPUs): "
        "standardDDCSv3Family has a limit of 0 with 0 in use (Azure lists no such "
        "quota for the subscription, so its limit is 0). Next: request a new limit of "
        "at least 8 for standardDDCSv3Family in eastus"
    )
    assert "--resource-name standardDDCSv3Family --limit-object value=8`" in line


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_regional_quota_short.yaml")
def test_a_short_regional_quota_is_refused(vcr: Any, compute: Any) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="eastus", size="Standard_DC2s_v3", node_count=2
        )
    )

    how = QUOTA_HELP.format(key="cores", limit=12)
    assert line == (
        "Not enough vCPU quota in eastus for 2 nodes of Standard_DC2s_v3 (4 vCPUs): "
        "Total Regional vCPUs (cores) has a limit of 10 with 8 in use. Next: request "
        f"a new limit of at least 12 for cores in eastus {how}; or deploy fewer "
        "nodes (--count) or a smaller --size."
    )
    assert vcr.all_played


# --- the deployment's own VMs ---------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_quota_held_by_own_nodes.yaml")
def test_running_the_same_deployment_again_counts_its_own_nodes(
    vcr: Any, compute: Any
) -> None:
    held = preflight.present_vcpus(compute, "ccm-fleet", ["ccm-node-1", "ccm-node-2"])
    capacity = preflight.check_capacity(
        compute,
        region="eastus",
        size="Standard_DC2s_v3",
        node_count=2,
        present_vcpus=held,
    )

    assert held == {"standardDCSv3Family": 4, "cores": 4}
    assert (capacity.family_limit, capacity.family_usage) == (4, 4)
    assert (capacity.regional_limit, capacity.regional_usage) == (8, 6)
    assert interactions(vcr) == [
        f"{FLEET_VMS}/ccm-node-1",
        f"{FLEET_VMS}/ccm-node-2",
        SKUS,
        USAGES,
    ]
    assert vcr.all_played


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_quota_held_by_own_nodes.yaml")
def test_without_its_own_nodes_both_quotas_are_full(compute: Any) -> None:
    line = refusal(
        lambda: preflight.check_capacity(
            compute, region="eastus", size="Standard_DC2s_v3", node_count=2
        )
    )

    assert line.startswith(
        "Not enough vCPU quota in eastus for 2 nodes of Standard_DC2s_v3 (4 vCPUs): "
        "Standard DCSv3 Family vCPUs (standardDCSv3Family) has a limit of 4 with 4 in "
        "use; Total Regional vCPUs (cores) has a limit of 8 with 6 in use. Next: "
        "request a new limit of at least 8 for standardDCSv3Family and 10 for cores "
        "in eastus in the Azure portal"
    )
    assert "own VMs" not in line


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_quota_held_by_own_nodes.yaml")
def test_growing_the_deployment_needs_quota_only_for_the_new_nodes(
    compute: Any,
) -> None:
    held = preflight.present_vcpus(compute, "ccm-fleet", ["ccm-node-1", "ccm-node-2"])

    line = refusal(
        lambda: preflight.check_capacity(
            compute,
            region="eastus",
            size="Standard_DC2s_v3",
            node_count=3,
            present_vcpus=held,
        )
    )

    assert line.startswith(
        "Not enough vCPU quota in eastus for 3 nodes of Standard_DC2s_v3 (6 vCPUs): "
        "Standard DCSv3 Family vCPUs (standardDCSv3Family) has a limit of 4 with 4 in "
        "use (4 of them by this deployment's own VMs). Next: request a new limit of "
        "at least 6 for standardDCSv3Family in eastus"
    )


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_one_vm_present.yaml")
def test_present_vcpus_counts_the_vms_that_exist(vcr: Any, compute: Any) -> None:
    held = preflight.present_vcpus(compute, "ccm-fleet", ["ccm-node-1", "ccm-node-2"])

    assert held == {"standardDCSv3Family": 4, "cores": 4}
    assert vcr.all_played


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_group_missing.yaml")
def test_present_vcpus_stops_at_a_missing_resource_group(
    vcr: Any, compute: Any
) -> None:
    held = preflight.present_vcpus(compute, "ccm-fleet", ["ccm-node-1", "ccm-node-2"])

    assert held == {}
    assert interactions(vcr) == [f"{FLEET_VMS}/ccm-node-1"]


# --- Azure's own failures -------------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("preflight_sku_list_forbidden.yaml")
def test_a_403_propagates_for_the_runner_to_map(compute: Any) -> None:
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as caught:
        preflight.check_capacity(
            compute, region="eastus", size="Standard_DC2s_v3", node_count=1
        )
    mapped = errors.from_azure_error(
        caught.value,
        errors.Situation("ccm-node-eastus", "ccm-azure-ccm-node", started=False),
    )

    assert caught.value.status_code == 403
    assert mapped.exit_code == ExitCode.AZURE_REJECTED
    assert "(AuthorizationFailed)" in str(mapped)
    assert "Contributor role" in str(mapped)
    assert "\n" not in str(mapped)


# --- the pure functions ---------------------------------------------------------------


def sku_entry(
    name: str = "Standard_DC2s_v3",
    *,
    region: str = "eastus",
    vcpus: str | None = "2",
    restrictions: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A VM entry of a Resource SKU list, as `as_dict()` gives it."""
    capabilities = [{"name": "MemoryGB", "value": "16"}]
    if vcpus is not None:
        capabilities.append({"name": "vCPUs", "value": vcpus})
    return {
        "resourceType": "virtualMachines",
        "name": name,
        "locations": [region],
        "locationInfo": [{"location": region, "zones": ["1", "2", "3"]}],
        "capabilities": capabilities,
        "restrictions": list(restrictions),
    }


def restricted(
    kind: str = "Location",
    region: str = "eastus",
    reason: str = "NotAvailableForSubscription",
    zones: Iterable[str] = (),
) -> dict[str, Any]:
    info: dict[str, Any] = {"locations": [region]}
    if zones:
        info["zones"] = list(zones)
    return {
        "type": kind,
        "values": [region],
        "restrictionInfo": info,
        "reasonCode": reason,
    }


def test_restrictions_are_parsed_from_both_places_azure_names_locations() -> None:
    entry = sku_entry(
        restrictions=[
            {"type": "Location", "values": ["EastUS"], "reasonCode": "QuotaId"},
            {"type": "Location", "restrictionInfo": {"locations": ["uksouth"]}},
            restricted("Zone", zones=["3", "1"]),
        ]
    )

    assert preflight.restrictions(entry) == [
        Restriction("Location", "QuotaId", ("eastus",)),
        Restriction("Location", "", ("uksouth",)),
        Restriction("Zone", "NotAvailableForSubscription", ("eastus",), ("1", "3")),
    ]


@pytest.mark.parametrize("listed", [None, []])
def test_a_sku_without_restrictions_has_none(listed: Any) -> None:
    entry = sku_entry()
    entry["restrictions"] = listed

    assert preflight.restrictions(entry) == []
    assert preflight.location_restriction(entry, "eastus") is None


def test_a_location_restriction_counts_only_for_its_region() -> None:
    entry = sku_entry(restrictions=[restricted(region="westus")])

    assert preflight.location_restriction(entry, "eastus") is None
    assert preflight.location_restriction(entry, "WestUS") is not None


def test_a_restriction_naming_no_location_restricts_every_region() -> None:
    entry = sku_entry(restrictions=[{"type": "Location", "reasonCode": "QuotaId"}])

    found = preflight.location_restriction(entry, "eastus")

    assert found == Restriction("Location", "QuotaId")


def test_a_zone_restriction_is_not_a_location_restriction() -> None:
    entry = sku_entry(restrictions=[restricted("Zone", zones=["2"])])

    assert preflight.location_restriction(entry, "eastus") is None
    assert preflight.zone_restrictions(entry, "eastus") == [
        Restriction("Zone", "NotAvailableForSubscription", ("eastus",), ("2",))
    ]
    assert preflight.zone_restrictions(entry, "uksouth") == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (
            "NotAvailableForSubscription",
            "Azure does not offer it to this subscription there "
            "(NotAvailableForSubscription)",
        ),
        ("QuotaId", "(QuotaId)"),
        ("SomethingNew", "it is restricted (SomethingNew)"),
        ("", "it is restricted (no reason code)"),
    ],
)
def test_a_restriction_explains_its_reason_code(code: str, reason: str) -> None:
    assert Restriction("Location", code).reason.endswith(reason)


@pytest.mark.parametrize(
    ("listed", "expected"),
    [("2", 2), (None, 2), ("two", 2), ("0", 2), ("-4", 2)],
)
def test_vcpus_come_from_the_sku_else_from_the_offer(
    listed: str | None, expected: int
) -> None:
    assert preflight.vcpus_per_node(sku_entry(vcpus=listed), "Standard_DC2s_v3") == (
        expected,
        None,
    )


def test_azure_and_the_offer_disagreeing_on_vcpus_is_a_warning() -> None:
    vcpus, warning = preflight.vcpus_per_node(sku_entry(vcpus="4"), "Standard_DC2s_v3")

    assert vcpus == 4
    assert warning == (
        "Azure counts 4 vCPUs for Standard_DC2s_v3 while the offer says 2; the quota "
        "check uses Azure's 4."
    )


def test_the_cassettes_and_the_offer_agree_on_vcpus() -> None:
    from vcr.serializers import yamlserializer

    cassette = yamlserializer.deserialize(
        (CASSETTES / "preflight_available.yaml").read_text()
    )
    answer = cassette["interactions"][0]["response"]["body"]["string"]
    listed = {
        entry["name"]: preflight.capability(entry, "vCPUs")
        for entry in json.loads(answer)["value"]
        if entry["name"] in SGX_SIZES
    }

    assert listed == {name: str(cores) for name, cores in SGX_SIZES.items()}


def usage(key: str, limit: int, current: int, label: str = "") -> dict[str, Any]:
    return {
        "limit": limit,
        "unit": "Count",
        "currentValue": current,
        "name": {"value": key, "localizedValue": label},
    }


def test_a_quota_is_found_whatever_the_case_of_its_key() -> None:
    usages = [
        usage("cores", 10, 1, "Total Regional vCPUs"),
        usage("StandardDCSv3Family", 8, 2),
    ]

    assert preflight.find_quota(usages, "standardDCSv3Family") == Quota(
        "StandardDCSv3Family", "", 8, 2
    )
    assert preflight.find_quota(usages, "CORES").label == "Total Regional vCPUs (cores)"


def test_a_quota_azure_does_not_list_has_limit_zero() -> None:
    quota = preflight.find_quota([usage("cores", 10, 0)], "standardDDCSv3Family")

    assert quota == Quota("standardDDCSv3Family", "", 0, 0, listed=False)
    assert quota.label == "standardDDCSv3Family"
    assert quota.free() == 0


@pytest.mark.parametrize(
    ("limit", "usage_now", "held", "free", "new_limit_for_4"),
    [
        (8, 4, 0, 4, 8),  # exact fit
        (8, 5, 0, 3, 9),
        (0, 0, 0, 0, 4),  # the common case of a new subscription
        (4, 4, 4, 4, 4),  # all of it held by the deployment's own VMs
        (4, 2, 4, 4, 4),  # Azure's usage lags behind VMs just created
        (10, 8, 2, 4, 10),
    ],
)
def test_quota_arithmetic(
    limit: int, usage_now: int, held: int, free: int, new_limit_for_4: int
) -> None:
    quota = Quota(
        "standardDCSv3Family", "Standard DCSv3 Family vCPUs", limit, usage_now
    )

    assert quota.free(held) == free
    assert quota.new_limit(4, held) == new_limit_for_4


def test_held_vcpus_are_matched_whatever_the_case() -> None:
    present = {"standarddcsv3family": 4, "cores": 4}

    assert preflight.held_by(present, "standardDCSv3Family") == 4
    assert preflight.held_by(present, "standardDDCSv3Family") == 0
    assert preflight.held_by(None, "cores") == 0


def test_no_other_region_left_to_suggest_points_at_a_support_request() -> None:
    line = preflight.unavailable_message(
        "Standard_DC2s_v3", "eastus", Restriction("Location", "QuotaId"), [], ["eastus"]
    )

    assert line.endswith(
        "Next: ask Microsoft for access to the size with a support request."
    )


def test_one_node_reads_as_one_node() -> None:
    capacity = preflight.Capacity(
        region="eastus",
        size="Standard_DC8ds_v3",
        node_count=1,
        vcpus_per_node=8,
        family="standardDDCSv3Family",
        family_name="",
        family_limit=8,
        family_usage=0,
        regional_limit=10,
        regional_usage=0,
    )

    assert capacity.summary().startswith(
        "Standard_DC8ds_v3 is available in eastus; 1 node needs 8 vCPUs: "
        "standardDDCSv3Family 0 of 8 in use"
    )


# --- check_capacity against SDK models, for the boundaries ------------------------


class FakeCompute:
    """A compute client whose lists hold SDK models built from the given JSON."""

    def __init__(
        self, skus: list[dict[str, Any]], usages: list[dict[str, Any]]
    ) -> None:
        from azure.mgmt.compute import models

        self.resource_skus = _Lister([models.ResourceSku(entry) for entry in skus])
        self.usage = _Lister([models.Usage(entry) for entry in usages])


class _Lister:
    def __init__(self, items: list[Any]) -> None:
        self.items = items
        self.calls: list[tuple[Any, ...]] = []

    def list(self, *args: Any, **kwargs: Any) -> Iterable[Any]:
        self.calls.append((*args, *kwargs.values()))
        return iter(self.items)


def test_an_exact_fit_passes_and_one_vcpu_more_is_refused() -> None:
    skus = [sku_entry("Standard_DC4s_v3", vcpus="4")]
    usages = [usage("cores", 8, 0), usage("standardDCSv3Family", 8, 0)]

    fits = preflight.check_capacity(
        FakeCompute(skus, usages),
        region="eastus",
        size="Standard_DC4s_v3",
        node_count=2,
    )
    line = refusal(
        lambda: preflight.check_capacity(
            FakeCompute(
                skus, [usage("cores", 8, 1), usage("standardDCSv3Family", 8, 0)]
            ),
            region="eastus",
            size="Standard_DC4s_v3",
            node_count=2,
        )
    )

    assert fits.needed_vcpus == 8
    assert ": cores has a limit of 8 with 1 in use." in line
    assert "at least 9 for cores" in line


def test_the_sku_list_is_asked_for_the_region_only() -> None:
    compute = FakeCompute(
        [sku_entry(), sku_entry(region="westus", vcpus="2")],
        [usage("cores", 8, 0), usage("standardDCSv3Family", 8, 0)],
    )

    preflight.check_capacity(
        compute,
        region="eastus",
        size="Standard_DC2s_v3",
        node_count=1,
    )

    assert compute.resource_skus.calls == [("location eq 'eastus'",)]
    assert compute.usage.calls == [("eastus",)]


def test_an_entry_listed_for_another_region_does_not_count() -> None:
    compute = FakeCompute([sku_entry(region="westus")], [])

    line = refusal(
        lambda: preflight.check_capacity(
            compute,
            region="eastus",
            size="Standard_DC2s_v3",
            node_count=1,
        )
    )

    assert "does not include it" in line


def test_a_disk_sku_of_the_same_name_is_not_a_vm_size() -> None:
    disk = sku_entry()
    disk["resourceType"] = "disks"

    line = refusal(
        lambda: preflight.check_capacity(
            FakeCompute([disk], []),
            region="eastus",
            size="Standard_DC2s_v3",
            node_count=1,
        )
    )

    assert "is not available in eastus" in line


@pytest.mark.parametrize(
    ("size", "count", "message"),
    [
        ("Standard_D2s_v5", 1, "not an SGX size"),
        ("Standard_DC2s_v3", 0, "at least 1"),
    ],
)
def test_arguments_the_caller_should_have_checked_are_a_bug(
    size: str, count: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        preflight.check_capacity(
            FakeCompute([], []),
            region="eastus",
            size=size,
            node_count=count,
        )


# --- present_vcpus against SDK models, for what the cassettes do not show ---------


def not_found(code: str) -> Exception:
    """The exception the SDK raises for a 404 answer with the ARM error `code`."""
    import requests
    from azure.core.exceptions import ResourceNotFoundError
    from azure.core.pipeline.transport import HttpRequest, RequestsTransportResponse

    answer = requests.Response()
    answer.status_code, answer.reason = 404, "Not Found"
    answer.headers["Content-Type"] = "application/json; charset=utf-8"
    answer._content = json.dumps({"error": {"code": code, "message": "x"}}).encode()
    request = HttpRequest("GET", "https://management.azure.com/")
    return ResourceNotFoundError(response=RequestsTransportResponse(request, answer))


class FakeMachines:
    """virtual_machines.get answering from a table: a size, or an exception."""

    def __init__(self, table: Mapping[str, str | Exception]) -> None:
        self.table = table
        self.asked: list[str] = []

    def get(self, resource_group: str, name: str) -> Any:
        from azure.mgmt.compute import models

        self.asked.append(name)
        answer = self.table[name]
        if isinstance(answer, Exception):
            raise answer
        return models.VirtualMachine(
            {
                "location": "eastus",
                "properties": {"hardwareProfile": {"vmSize": answer}},
            }
        )


def test_present_vcpus_adds_up_sgx_vms_and_ignores_the_rest() -> None:
    machines = FakeMachines(
        {
            "a": "Standard_DC2s_v3",
            "b": "standard_dc4ds_v3",  # Azure keeps the case a size was given in
            "c": "Standard_D2s_v5",
            "d": not_found("ResourceNotFound"),
            "e": "Standard_DC8s_v3",
        }
    )
    compute = type("Compute", (), {"virtual_machines": machines})()

    held = preflight.present_vcpus(compute, "ccm-fleet", ["a", "b", "c", "d", "e"])

    assert held == {"standardDCSv3Family": 10, "standardDDCSv3Family": 4, "cores": 14}
    assert machines.asked == ["a", "b", "c", "d", "e"]


def test_another_404_is_not_taken_for_an_absent_vm() -> None:
    from azure.core.exceptions import ResourceNotFoundError

    machines = FakeMachines({"a": not_found("SubscriptionNotFound")})
    compute = type("Compute", (), {"virtual_machines": machines})()

    with pytest.raises(ResourceNotFoundError):
        preflight.present_vcpus(compute, "ccm-fleet", ["a"])
