"""The offer description: the embedded default, override files, and input checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccm_azure.errors import OfferError, UserInputError
from ccm_azure.offer import (
    LABEL_KEY_PATTERN,
    SGX_SIZES,
    Offer,
    load_offer,
    parse_labels,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "offer.toml"
    path.write_text(text)
    return path


def test_embedded_offer_is_the_documented_one(offer: Offer) -> None:
    assert offer.regions == ("eastus", "uksouth", "canadacentral")
    assert len(offer.sizes) == 16
    assert set(offer.sizes) == set(SGX_SIZES)
    assert offer.default_size == "Standard_DC2s_v3"
    assert [image.key for image in offer.images] == ["ubuntu-20.04", "ubuntu-22.04"]
    assert offer.default_image.sku == "20_04-lts-gen2"
    assert offer.attestation_types == ("DCAP", "EPID")
    assert offer.default_attestation == "DCAP"
    assert not offer.installer.is_set


def test_sgx_sizes_are_exactly_dcsv3_and_dcdsv3() -> None:
    import re

    pattern = re.compile(r"^Standard_DC(1|2|4|8|16|24|32|48)d?s_v3$")
    assert len(SGX_SIZES) == 16
    assert all(pattern.match(size) for size in SGX_SIZES)


def test_override_file_narrows_and_sets_installer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[regions]
allowed = ["uksouth"]
[vm]
sizes = ["Standard_DC4s_v3", "Standard_DC8s_v3"]
default_size = "Standard_DC4s_v3"
[installer]
url = "https://downloads.example.org/ccm/agent-installer.tar.gz"
sha256 = "AB12000000000000000000000000000000000000000000000000000000000000"
""",
    )
    offer = load_offer(path)
    assert offer.regions == ("uksouth",)
    assert offer.sizes == ("Standard_DC4s_v3", "Standard_DC8s_v3")
    assert offer.installer.url.startswith("https://")
    assert offer.installer.sha256.startswith("ab12")
    assert offer.source == str(path)
    # Untouched keys keep the embedded values.
    assert offer.default_attestation == "DCAP"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[vm]\nsise = 1\n", "unknown key 'vm.sise'"),
        ("[vms]\nsizes = []\n", "unknown section [vms]"),
        ("vm = 3\n", "'vm' must be a [vm] table"),
        ('[vm]\nsizes = ["Standard_DC2as_v5"]\n', "AMD SEV-SNP"),
        ('[vm]\nsizes = ["Standard_DC2s_v2"]\n', "retired"),
        ('[vm]\nsizes = ["Standard_DC4s_v3"]\n', "'vm.default_size'"),
        ('[vm]\nimages = ["ubuntu-16.04"]\n', "end of life"),
        ('[vm]\nimages = ["centos-7"]\n', "CentOS 7 is end of life"),
        ('[vm]\nos_disk_size_gb = "big"\n', "'vm.os_disk_size_gb' must be an integer"),
        ("[vm]\nsizes = []\n", "'vm.sizes' must be a non-empty list"),
        ('[regions]\nallowed = ["westeurope"]\n', "'regions.allowed' lists"),
        ('[attestation]\ndefault = "EPID"\n', "cannot be EPID"),
        ('[offer]\ntracking_guid = "nope"\n', "not a GUID"),
        ('[offer]\nversion = "1.0"\n', "use x.y.z"),
        ('[installer]\nurl = "http://example.org/i.tgz"\n', "https:// URL"),
        ('[installer]\nsha256 = "xyz"\n', "64 hexadecimal"),
        ('[vm]\nadmin_username = "root"\n', "'vm.admin_username'"),
        ("[vm\n", "not valid TOML"),
    ],
)
def test_bad_offer_file_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(OfferError) as caught:
        load_offer(path)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_missing_offer_file(tmp_path: Path) -> None:
    with pytest.raises(OfferError, match="does not exist"):
        load_offer(tmp_path / "absent.toml")


def test_offer_file_that_is_not_text(tmp_path: Path) -> None:
    path = tmp_path / "offer.toml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(OfferError, match="Cannot read offer file"):
        load_offer(path)


def test_offer_file_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(OfferError, match="Cannot read offer file"):
        load_offer(tmp_path)


def test_region_check(offer: Offer) -> None:
    assert offer.check_region("eastus") == "eastus"
    assert offer.check_region("East US") == "eastus"
    assert offer.check_region("UKSouth") == "uksouth"
    with pytest.raises(UserInputError, match=r"westeurope.*eastus, uksouth, canada"):
        offer.check_region("westeurope")


@pytest.mark.parametrize(
    ("size", "reason"),
    [
        ("Standard_DC2as_v5", "AMD SEV-SNP"),
        ("Standard_DC4ads_v5", "AMD SEV-SNP"),
        ("Standard_DC2es_v5", "Intel TDX"),
        ("Standard_DC4eds_v6", "Intel TDX"),
        ("Standard_DC2s_v2", "DCsv2"),
        ("Standard_DC8_v2", "DCsv2"),
        ("Standard_D2s_v5", "not a DC-series size"),
        ("Standard_DC2ads_cc_v5", "AMD SEV-SNP"),
    ],
)
def test_size_check_refuses_non_sgx(offer: Offer, size: str, reason: str) -> None:
    with pytest.raises(UserInputError, match=reason) as caught:
        offer.check_size(size)
    assert "Standard_DC2s_v3" in str(caught.value)


def test_size_check_accepts_any_case(offer: Offer) -> None:
    assert offer.check_size("standard_dc4ds_v3") == "Standard_DC4ds_v3"


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("ubuntu-16.04", "end of life"),
        ("centos-7", "CentOS 7"),
        ("CentOS", "CentOS 7"),
        ("ubuntu-24.04", "not on Microsoft's list"),
        ("debian-12", "Unknown OS image"),
    ],
)
def test_image_check_refuses_with_reason(offer: Offer, image: str, reason: str) -> None:
    with pytest.raises(UserInputError, match=reason):
        offer.check_image(image)


def test_image_and_attestation_checks_accept(offer: Offer) -> None:
    assert offer.check_image("Ubuntu-22.04").sku == "22_04-lts-gen2"
    assert offer.check_attestation("dcap") == "DCAP"
    with pytest.raises(UserInputError, match="DCAP is recommended"):
        offer.check_attestation("SEV")


def test_with_installer_checks_the_url(offer: Offer) -> None:
    changed = offer.with_installer(url="https://example.org/agent.tgz")
    assert changed.installer.url == "https://example.org/agent.tgz"
    assert offer.installer.url == ""
    with pytest.raises(OfferError):
        offer.with_installer(url="ftp://example.org/agent.tgz")
    with pytest.raises(OfferError, match="user name or password"):
        offer.with_installer(url="https://user:pw@example.org/agent.tgz")


def test_labels_parse() -> None:
    labels = parse_labels(["env:prod", "Team:a:b", "FORTANIX:ok", "ccmx:fine"])
    assert labels == {"env": "prod", "Team": "a:b", "FORTANIX": "ok", "ccmx": "fine"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("noseparator", "Key:Value"),
        (":value", "Key:Value"),
        ("key:", "has an empty value"),
        ("Fortanix:x", "reserved"),
        ("fortanix:x", "reserved"),
        ("CCM:x", "reserved"),
        ("ccm:x", "reserved"),
        ("confidentialcomputingmanager:x", "reserved"),
        ("Confidentialcomputingmanager:x", "reserved"),
        ("ccm-zone:x", "reserved"),
        ("Fortanix.region:x", "reserved"),
        ("a/b:x", "Azure tags do not allow"),
        ("k" * 257 + ":v", "at most 256"),
        ("k:" + "v" * 257, "at most 256"),
    ],
)
def test_bad_labels(text: str, expected: str) -> None:
    with pytest.raises(UserInputError, match=expected):
        parse_labels([text])


def test_labels_at_limits_and_case() -> None:
    key, value = "k" * 256, "v" * 256
    assert parse_labels([f"{key}:{value}"]) == {key: value}
    with pytest.raises(UserInputError, match="differ only in case"):
        parse_labels(["Env:a", "env:b"])
    with pytest.raises(UserInputError, match="at most 50"):
        parse_labels([f"k{i}:v" for i in range(51)])


def test_label_key_pattern_is_plain_enough_for_javascript() -> None:
    # The portal evaluates the same pattern with JavaScript's RegExp: keep to the
    # syntax both engines read the same way (no inline flags, no named groups).
    assert "(?P" not in LABEL_KEY_PATTERN
    assert "(?i" not in LABEL_KEY_PATTERN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[offer]\nversion = "1.0.0\\n"\n', "use x.y.z"),
        ('[offer]\nversion = "\uff11.\u0660.0"\n', "use x.y.z"),
        (
            '[offer]\ntracking_guid = "7aa4ce91-e5ae-4e58-b8eb-99758cc44131\\n"\n',
            "not a GUID",
        ),
        ('[vm]\nadmin_username = "azureuser\\n"\n', "'vm.admin_username'"),
        ("[vm]\nos_disk_sizes_gb = [64, 64, 128]\n", "lists a value twice"),
        ('[vm]\nsizes = ["standard_dc2s_v3"]\n', "spell it Standard_DC2s_v3"),
        (
            '[installer]\nurl = "https://x.blob.example/i.tgz?sv=2020&sig=SECRET"\n',
            "signature or secret",
        ),
        ('[installer]\nurl = "https://example.org/a b.tgz"\n', "white space"),
        ('[installer]\nsha256 = "' + "a" * 64 + '"\n', "installer.url is not"),
        (
            '[installer]\nurl = "https://example.org/i.tgz"\nsha256 = "'
            + "a" * 64
            + '\\n"\n',
            "64 hexadecimal",
        ),
    ],
)
def test_offer_values_are_matched_whole_and_ascii(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(OfferError, match=expected):
        load_offer(write(tmp_path, text))


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (".hidden.tar.gz", b"\x1f\x8bdata", "must start with a letter or digit"),
        ("nl.tar.gz\n", b"\x1f\x8bdata", "must start with a letter or digit"),
        ("empty.tar.gz", b"", "is 0 bytes"),
        ("agent.zip", b"PK\x03\x04", "neither a gzip'd tar archive"),
    ],
)
def test_installer_archive_checks(
    offer: Offer, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    archive = tmp_path / name
    archive.write_bytes(content)
    with pytest.raises(OfferError, match=expected):
        offer.with_archive(archive)


def test_installer_archive_accepts_tarball_and_script(
    offer: Offer, tmp_path: Path
) -> None:
    tarball = tmp_path / "agent.tar.gz"
    tarball.write_bytes(b"\x1f\x8b rest")
    script = tmp_path / "installer.sh"
    script.write_bytes(b"#!/bin/bash\n")
    assert offer.with_archive(tarball).installer.artifact_name == "agent.tar.gz"
    assert offer.with_archive(script).installer.archive == script


def test_an_installer_url_with_white_space_says_so() -> None:
    from ccm_azure.offer import load_offer

    with pytest.raises(OfferError, match="contains white space; write spaces"):
        load_offer(None).with_installer(url="https://example.com/a b.tgz")
