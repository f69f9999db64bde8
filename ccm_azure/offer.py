"""The one description of the node-agent offer.

Everything the template, the portal form, the CLI and the checks need to agree on lives
here: the regions the offer is sold in, the SGX sizes and OS images it allows, the
attestation types, the node-label rules, where the node-agent installer comes from and
the Marketplace tracking GUID. The embedded `default_offer.toml` gives the values; a
publisher narrows or changes them with a TOML file of the same shape.

The catalogue below records what the node agent can run on at all. An offer file can
choose from it, never add to it: a size without SGX or an end-of-life image would give
customers a VM that cannot enrol.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

from ccm_azure.errors import OfferError, UserInputError

# --- catalogue --------------------------------------------------------------------

REGION_NAMES: Mapping[str, str] = {
    "eastus": "East US",
    "uksouth": "UK South",
    "canadacentral": "Canada Central",
}
"""Regions the node agent offer may be sold in (DCsv3/DCdsv3 are offered in each)."""

_SGX_CORES = (1, 2, 4, 8, 16, 24, 32, 48)
SGX_SIZES: Mapping[str, int] = {
    f"Standard_DC{cores}{disk}s_v3": cores for disk in ("", "d") for cores in _SGX_CORES
}
"""DCsv3 and DCdsv3: Ice Lake with SGX2, the only sizes the node agent supports."""

SIZE_FAMILIES: Mapping[str, str] = {
    name: ("standardDDCSv3Family" if "ds_v3" in name else "standardDCSv3Family")
    for name in SGX_SIZES
}
"""The compute quota family each SGX size is counted against."""

MAX_NODES = 10
"""Most nodes one deployment (one region) takes."""

AGENT_PORT = 9092
"""The node agent listens here; the template never lets anything outside the VM in."""


@dataclasses.dataclass(frozen=True)
class OsImage:
    """A Gen2 Marketplace image the node agent supports."""

    key: str
    label: str
    publisher: str
    offer: str
    sku: str
    version: str = "latest"

    def image_reference(self) -> dict[str, str]:
        return {
            "publisher": self.publisher,
            "offer": self.offer,
            "sku": self.sku,
            "version": self.version,
        }


IMAGES: Mapping[str, OsImage] = {
    image.key: image
    for image in (
        OsImage(
            "ubuntu-20.04",
            "Ubuntu 20.04 LTS (Gen2)",
            "Canonical",
            "0001-com-ubuntu-server-focal",
            "20_04-lts-gen2",
        ),
        OsImage(
            "ubuntu-22.04",
            "Ubuntu 22.04 LTS (Gen2)",
            "Canonical",
            "0001-com-ubuntu-server-jammy",
            "22_04-lts-gen2",
        ),
    )
}

REFUSED_IMAGES: Mapping[str, str] = {
    "ubuntu-16.04": "Ubuntu 16.04 LTS is end of life (standard support ended in April "
    "2021 and extended security maintenance in April 2026)",
    "centos-7": "CentOS 7 is end of life since 30 June 2024 and its package "
    "repositories are gone",
    "ubuntu-24.04": "Ubuntu 24.04 LTS is not on Microsoft's list of SGX images and the "
    "node agent is not tested on it",
}
"""Images users ask for that the offer refuses, with the reason given to them."""

ATTESTATION_TYPES = ("DCAP", "EPID")
EPID_WARNING = (
    "Intel retired EPID attestation in April 2025 and DCsv3/DCdsv3 (Ice Lake) VMs do "
    "not support it, so a node set to EPID will most likely fail to enrol; use DCAP."
)
DCAP_NOTE = (
    "DCAP is the recommended attestation type: it works on DCsv3/DCdsv3 and fetches "
    "its collateral from Azure's own caching service."
)

LABEL_MAX_LENGTH = 256
RESERVED_LABEL_KEYS = (
    "Fortanix",
    "fortanix",
    "CCM",
    "ccm",
    "confidentialcomputingmanager",
    "Confidentialcomputingmanager",
)
# Azure refuses these characters in tag names, and ':' separates key from value.
_LABEL_KEY_FORBIDDEN = "<>%&\\?/:"
LABEL_KEY_PATTERN = (
    "^(?!(?:"
    + "|".join(RESERVED_LABEL_KEYS)
    + ")(?:[^A-Za-z0-9]|$))[^"
    + _LABEL_KEY_FORBIDDEN.replace("\\", "\\\\")
    + f"]{{1,{LABEL_MAX_LENGTH}}}$"
)
"""Valid label keys, written so that Python's `re` and the portal's JavaScript agree."""
LABEL_VALUE_PATTERN = f"^[^\\n]{{1,{LABEL_MAX_LENGTH}}}$"
MAX_LABELS = 50  # Azure allows at most 50 tags on a resource.

VM_NAME_MAX_LENGTH = 54
"""The deployment is named ccm-azure-<VM name>, and ARM allows 64 characters."""

MAX_NODES = 10
"""Most nodes one deployment makes.

Each node is a VM counted against the subscription's DCsv3/DCdsv3 vCPU quota in the
region, which often starts at 0 and is raised by request: 10 nodes of the smallest
size already need 10 vCPUs and of the default size 20. The portal form lists every
count in a drop-down, which stays short. Node names stay within Azure's limits far
beyond this: the longest, <VM name>-10, has VM_NAME_MAX_LENGTH + 3 = 57 of the 64
characters a Linux VM name and host name may have.
"""
NODE_QUOTA_NOTE = (
    "Each node is its own VM of the chosen size and counts against the "
    "subscription's DCsv3/DCdsv3 vCPU quota in the region: 3 nodes of "
    "Standard_DC4s_v3 need 12 vCPUs."
)
VM_NAME_PATTERN = (
    f"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{{0,{VM_NAME_MAX_LENGTH - 2}}}[a-zA-Z0-9])?$"
)

JOIN_TOKEN_MIN_LENGTH = 16
JOIN_TOKEN_MAX_LENGTH = 8192
JOIN_TOKEN_PATTERN = f"^[!-~]{{{JOIN_TOKEN_MIN_LENGTH},{JOIN_TOKEN_MAX_LENGTH}}}$"
"""A join token as the portal form and the CLI accept it: printable ASCII, no spaces.

The range `!-~` reads the same in Python's `re` and JavaScript's RegExp, and leaves out
what an editor can slip in unseen: a byte-order mark, NUL and other control characters.
"""

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_FIRST_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]?)"
SSH_SOURCE_PATTERN = (
    f"^$|^{_FIRST_OCTET}(?:\\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12][0-9]|[89]))?$"
)
"""Empty (no SSH rule), or one IPv4 address or a prefix of /8 or longer.

0.0.0.0, /0 and other very short prefixes would admit most of the internet."""

_GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


# --- the offer --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Installer:
    """Where the VM gets the node-agent installer: a URL, a shipped archive, or none."""

    url: str = ""
    sha256: str = ""
    archive: Path | None = None

    @property
    def is_set(self) -> bool:
        return bool(self.url) or self.archive is not None

    @property
    def artifact_name(self) -> str:
        """Name of the archive inside the package's `artifacts/` folder."""
        return self.archive.name if self.archive else ""

    def archive_sha256(self) -> str:
        if self.archive is None:
            return ""
        with self.archive.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()


EMBEDDED = "embedded offer"


@dataclasses.dataclass(frozen=True)
class Offer:
    version: str
    tracking_guid: str
    regions: tuple[str, ...]
    sizes: tuple[str, ...]
    default_size: str
    images: tuple[OsImage, ...]
    default_image: OsImage
    os_disk_size_gb: int
    os_disk_sizes_gb: tuple[int, ...]
    admin_username: str
    attestation_types: tuple[str, ...]
    default_attestation: str
    installer: Installer
    source: str = EMBEDDED

    @property
    def origin(self) -> str:
        """Where the offer comes from, as a message names it."""
        return EMBEDDED if self.source == EMBEDDED else f"offer file {self.source}"

    # The checks the CLI runs on user input, before anything is rendered or sent.

    def check_region(self, name: str) -> str:
        key = name.replace(" ", "").lower()
        if key in self.regions:
            return key
        allowed = ", ".join(self.regions)
        _fail(f"Region '{name}' is not offered; choose one of: {allowed}.")

    def check_size(self, name: str) -> str:
        canonical = {size.lower(): size for size in SGX_SIZES}.get(name.lower())
        if canonical is None:
            _fail(f"{_why_not_sgx(name)}; choose one of: {', '.join(self.sizes)}.")
        if canonical not in self.sizes:
            _fail(
                f"{canonical} is not among this offer's sizes; choose one of: "
                f"{', '.join(self.sizes)}."
            )
        return canonical

    def check_image(self, key: str) -> OsImage:
        wanted = key.strip().lower().replace(" ", "-")
        for image in self.images:
            if image.key == wanted:
                return image
        choices = ", ".join(image.key for image in self.images)
        reason = REFUSED_IMAGES.get(wanted)
        if reason is None and wanted.startswith("centos"):
            reason = REFUSED_IMAGES["centos-7"]
        if reason is not None:
            _fail(f"{reason}; choose one of: {choices}.")
        _fail(f"Unknown OS image '{key}'; choose one of: {choices}.")

    def check_attestation(self, value: str) -> str:
        upper = value.strip().upper()
        if upper in self.attestation_types:
            return upper
        _fail(
            f"Unknown attestation type '{value}'; choose one of: "
            f"{', '.join(self.attestation_types)} (DCAP is recommended)."
        )

    def check_admin_username(self, name: str) -> str:
        if not _admin_username_ok(name):
            _fail(
                f"Administrator user name '{name}' is not allowed; use 1 to 32 "
                "lower-case letters, digits, '_' or '-', starting with a letter or "
                f"'_', and not {', '.join(_RESERVED_USERNAMES)}."
            )
        return name

    def with_installer(self, *, url: str = "", sha256: str = "") -> Offer:
        """The same offer fetching the installer from `url` instead."""
        installer = _check_installer(url, sha256, None, "--installer-url")
        return dataclasses.replace(self, installer=installer)

    def with_archive(self, archive: Path) -> Offer:
        """The same offer shipping `archive` as the installer in the package."""
        installer = _check_installer("", "", archive, "--installer")
        return dataclasses.replace(self, installer=installer)


_RESERVED_USERNAMES = ("root", "admin", "administrator")


def _admin_username_ok(name: str) -> bool:
    return bool(re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", name)) and (
        name not in _RESERVED_USERNAMES
    )


def _fail(message: str) -> NoReturn:
    raise UserInputError(message)


def _why_not_sgx(name: str) -> str:
    """Explain why a size the user named is not an SGX size the agent can use."""
    lower = name.lower()
    match = re.match(r"^standard_dc(\d+)([a-z_]*?)s?_v(\d)$", lower)
    if not lower.startswith("standard_dc"):
        return f"{name} is not a DC-series size and has no Intel SGX"
    if match and "a" in match.group(2):
        return f"{name} is an AMD SEV-SNP confidential VM size without Intel SGX"
    if match and "e" in match.group(2):
        return f"{name} is an Intel TDX confidential VM size without SGX enclaves"
    if "cc" in lower:
        return f"{name} is a confidential-container size without Intel SGX"
    if lower.endswith("_v2"):
        return (
            f"{name} is DCsv2, which Azure retired in June 2026 and which is not "
            "Ice Lake"
        )
    return f"{name} is not a DCsv3/DCdsv3 size with Intel SGX"


# --- node labels ------------------------------------------------------------------

_LABEL_KEY = re.compile(LABEL_KEY_PATTERN)
_LABEL_VALUE = re.compile(LABEL_VALUE_PATTERN)


def _has_control_character(text: str) -> bool:
    """Whether `text` holds a control character (Unicode Cc: NUL, tab, newline...)."""
    return any(unicodedata.category(character) == "Cc" for character in text)


def parse_labels(texts: Sequence[str]) -> dict[str, str]:
    """Parse `Key:Value` node labels, refusing what Azure tags or CCM would refuse."""
    labels: dict[str, str] = {}
    seen: dict[str, str] = {}
    for text in texts:
        if _has_control_character(text):
            _fail(
                "A label contains a line break or another control character; keys and "
                "values take printable characters only."
            )
        key, sep, value = text.partition(":")
        if not sep or not key:
            _fail(
                f"Label '{text}' is not of the form Key:Value, e.g. --label env:prod."
            )
        if not value:
            _fail(
                f"Label '{key}' has an empty value; give one after the colon, e.g. "
                f"--label {key}:prod."
            )
        if len(key) > LABEL_MAX_LENGTH or len(value) > LABEL_MAX_LENGTH:
            _fail(
                f"Label '{key[:40]}...' is too long; keys and values may have at most "
                f"{LABEL_MAX_LENGTH} characters each."
            )
        if not _LABEL_VALUE.fullmatch(value):
            _fail(
                f"The value of label '{key}' is not allowed; use printable characters."
            )
        if not _LABEL_KEY.fullmatch(key):
            reserved = re.match(
                "^(" + "|".join(RESERVED_LABEL_KEYS) + ")(?:[^A-Za-z0-9]|$)", key
            )
            if reserved:
                _fail(
                    f"Label key '{key}' is reserved for the system "
                    f"('{reserved.group(1)}...'); choose another key."
                )
            _fail(
                f"Label key '{key}' contains a character Azure tags do not allow "
                f"({' '.join(_LABEL_KEY_FORBIDDEN)}); choose another key."
            )
        folded = key.lower()
        if seen.get(folded) == key:
            _fail(f"Label key '{key}' is given twice; give each label once.")
        if folded in seen:
            _fail(
                f"Labels '{seen[folded]}' and '{key}' differ only in case; Azure tag "
                "names ignore case, so give each label a distinct key."
            )
        seen[folded] = key
        labels[key] = value
    if len(labels) > MAX_LABELS:
        _fail(f"{len(labels)} labels given; Azure allows at most {MAX_LABELS} tags.")
    return labels


# --- loading ------------------------------------------------------------------------

_KNOWN_KEYS: Mapping[str, tuple[str, ...]] = {
    "offer": ("version", "tracking_guid"),
    "regions": ("allowed",),
    "vm": (
        "sizes",
        "default_size",
        "images",
        "default_image",
        "os_disk_size_gb",
        "os_disk_sizes_gb",
        "admin_username",
    ),
    "attestation": ("types", "default"),
    "installer": ("url", "sha256"),
}


def load_offer(path: Path | None = None) -> Offer:
    """The embedded offer, with the keys of the TOML file at `path` laid over it."""
    embedded = resources.files("ccm_azure").joinpath("default_offer.toml").read_text()
    data = tomllib.loads(embedded)
    source = EMBEDDED
    if path is not None:
        source = str(path)
        _merge(data, _read_offer_file(path), source)
    return _build(data, source)


def _read_offer_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OfferError(f"Offer file {path} does not exist; check the path.") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise OfferError(f"Cannot read offer file {path}: {reason}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise OfferError(
            f"Offer file {path} is not valid TOML ({error}); fix the syntax there."
        ) from None


def _merge(base: dict[str, Any], override: Mapping[str, Any], source: str) -> None:
    for section, values in override.items():
        if section not in _KNOWN_KEYS:
            raise OfferError(
                f"{source}: unknown section [{section}]; known sections: "
                f"{', '.join(_KNOWN_KEYS)}."
            )
        if not isinstance(values, Mapping):
            raise OfferError(f"{source}: '{section}' must be a [{section}] table.")
        for key, value in values.items():
            if key not in _KNOWN_KEYS[section]:
                raise OfferError(
                    f"{source}: unknown key '{section}.{key}'; known keys in "
                    f"[{section}]: {', '.join(_KNOWN_KEYS[section])}."
                )
            base[section][key] = value


class _Reader:
    """Typed access to the merged TOML data, naming the key in every error."""

    def __init__(self, data: Mapping[str, Any], source: str) -> None:
        self.data = data
        self.source = source

    def error(self, key: str, message: str) -> OfferError:
        return OfferError(f"{self.source}: '{key}' {message.rstrip('.')}.")

    def get(self, key: str) -> Any:
        section, name = key.split(".")
        return self.data[section][name]

    def string(self, key: str) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, not {type(value).__name__}")
        return value

    def integer(self, key: str) -> int:
        value = self.get(key)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.error(key, f"must be an integer, not {type(value).__name__}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(item, str) for item in value)
        ):
            raise self.error(key, "must be a non-empty list of strings")
        if len(set(value)) != len(value):
            raise self.error(key, "lists a value twice")
        return tuple(value)

    def integers(self, key: str) -> tuple[int, ...]:
        value = self.get(key)
        if (
            not isinstance(value, list)
            or not value
            or not all(
                isinstance(item, int) and not isinstance(item, bool) for item in value
            )
        ):
            raise self.error(key, "must be a non-empty list of integers")
        if len(set(value)) != len(value):
            raise self.error(key, "lists a value twice")
        return tuple(value)


def _build(data: Mapping[str, Any], source: str) -> Offer:
    read = _Reader(data, source)

    version = read.string("offer.version")
    if not _VERSION.fullmatch(version):
        raise read.error("offer.version", f"is '{version}'; use x.y.z, e.g. 1.0.0")
    guid = read.string("offer.tracking_guid")
    if not _GUID.fullmatch(guid):
        raise read.error("offer.tracking_guid", f"is '{guid}', which is not a GUID")

    regions = read.strings("regions.allowed")
    for region in regions:
        if region not in REGION_NAMES:
            raise read.error(
                "regions.allowed",
                f"lists '{region}'; the offer may use only "
                f"{', '.join(REGION_NAMES)} (short lower-case names)",
            )

    sizes = read.strings("vm.sizes")
    canonical_sizes = {size.lower(): size for size in SGX_SIZES}
    for size in sizes:
        if size.lower() in canonical_sizes and size not in SGX_SIZES:
            raise read.error(
                "vm.sizes",
                f"lists {size}; spell it {canonical_sizes[size.lower()]}",
            )
        if size not in SGX_SIZES:
            raise read.error(
                "vm.sizes",
                f"lists {size}, which the node agent cannot use: "
                f"{_why_not_sgx(size)}; list only DCsv3/DCdsv3 sizes "
                f"({', '.join(list(SGX_SIZES)[:2])}, ...)",
            )
    default_size = read.string("vm.default_size")
    if default_size not in sizes:
        raise read.error("vm.default_size", f"is {default_size}, not one of vm.sizes")

    image_keys = read.strings("vm.images")
    for key in image_keys:
        if key not in IMAGES:
            reason = REFUSED_IMAGES.get(key, f"'{key}' is not a known image")
            raise read.error(
                "vm.images", f"lists {key}: {reason}; use {', '.join(IMAGES)}"
            )
    images = tuple(IMAGES[key] for key in image_keys)
    default_image_key = read.string("vm.default_image")
    if default_image_key not in image_keys:
        raise read.error(
            "vm.default_image", f"is '{default_image_key}', not one of vm.images"
        )

    disk_sizes = read.integers("vm.os_disk_sizes_gb")
    for disk in disk_sizes:
        if not 30 <= disk <= 4095:
            raise read.error(
                "vm.os_disk_sizes_gb", f"lists {disk}; OS disks take 30 to 4095 GB"
            )
    disk_default = read.integer("vm.os_disk_size_gb")
    if disk_default not in disk_sizes:
        raise read.error(
            "vm.os_disk_size_gb", f"is {disk_default}, not one of vm.os_disk_sizes_gb"
        )

    admin_username = read.string("vm.admin_username")
    if not _admin_username_ok(admin_username):
        raise read.error(
            "vm.admin_username",
            f"is '{admin_username}'; use a lower-case Linux user name that Azure "
            "allows (not root or admin)",
        )

    attestation = read.strings("attestation.types")
    for value in attestation:
        if value not in ATTESTATION_TYPES:
            raise read.error(
                "attestation.types",
                f"lists '{value}'; use {' or '.join(ATTESTATION_TYPES)}",
            )
    default_attestation = read.string("attestation.default")
    if default_attestation not in attestation:
        raise read.error(
            "attestation.default",
            f"is '{default_attestation}', not one of attestation.types",
        )
    if default_attestation == "EPID":
        raise read.error("attestation.default", f"cannot be EPID: {EPID_WARNING}")

    installer = _check_installer(
        read.string("installer.url"),
        read.string("installer.sha256"),
        None,
        f"{source}: 'installer.url'",
        sha256_where=f"{source}: 'installer.sha256'",
    )

    return Offer(
        version=version,
        tracking_guid=guid.lower(),
        regions=regions,
        sizes=sizes,
        default_size=default_size,
        images=images,
        default_image=IMAGES[default_image_key],
        os_disk_size_gb=disk_default,
        os_disk_sizes_gb=disk_sizes,
        admin_username=admin_username,
        attestation_types=attestation,
        default_attestation=default_attestation,
        installer=installer,
        source=source,
    )


def _check_installer(
    url: str,
    sha256: str,
    archive: Path | None,
    where: str,
    *,
    sha256_where: str | None = None,
) -> Installer:
    if url:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise OfferError(f"{where} must be an https:// URL, not '{url}'.")
        if parts.username or parts.password:
            raise OfferError(f"{where} must not carry a user name or password.")
        query_keys = {key.lower() for key, _ in parse_qsl(parts.query)}
        if any(ch in url for ch in "\n\r\t "):
            raise OfferError(
                f"{where} contains white space; write spaces in a URL as %20."
            )
        if query_keys & set(_SECRET_QUERY_KEYS):
            raise OfferError(
                f"{where} carries a signature or secret in its query; the URL is "
                "published inside mainTemplate.json, so use a public URL or ship the "
                "archive in the package with --installer FILE."
            )
    if sha256 and not _SHA256.fullmatch(sha256):
        raise OfferError(
            f"{sha256_where or where}: the installer sha256 must be 64 hexadecimal "
            "digits."
        )
    if archive is not None:
        _check_archive(archive)
    if sha256 and not url:
        raise OfferError(
            f"{where}: installer.sha256 is set but installer.url is not; set both, "
            "or neither when shipping the archive with --installer."
        )
    return Installer(url=url, sha256=sha256.lower(), archive=archive)


MAX_ARCHIVE_BYTES = 1024**3  # Partner Center refuses any file over 1 GB
_SECRET_QUERY_KEYS = ("sig", "signature", "token", "key", "secret", "password")


def _check_archive(archive: Path) -> None:
    if not archive.is_file():
        raise OfferError(
            f"Installer archive {archive} does not exist or is not a file."
        )
    if not _ARTIFACT_NAME.fullmatch(archive.name):
        raise OfferError(
            f"Installer archive name {archive.name!r} must start with a letter or "
            "digit and use only letters, digits, '.', '_' and '-'; rename the file."
        )
    size = archive.stat().st_size
    if size == 0 or size > MAX_ARCHIVE_BYTES:
        raise OfferError(
            f"Installer archive {archive} is {size} bytes; it must be more than 0 and "
            "at most 1 GB, which Partner Center accepts."
        )
    with archive.open("rb") as stream:
        head = stream.read(2)
    if head not in (b"\x1f\x8b", b"#!"):
        raise OfferError(
            f"Installer archive {archive} is neither a gzip'd tar archive nor a shell "
            "script; pass the node-agent installer as Fortanix ships it."
        )


class TemplateParameter:
    """Names of the main template's parameters that code outside the template uses.

    The Jinja2 source declares them; a test holds the two together.
    """

    LOCATION = "location"
    VM_NAME = "vmName"
    NODE_COUNT = "nodeCount"
    VM_SIZE = "vmSize"
    OS_IMAGE = "osImage"
    OS_DISK_SIZE_GB = "osDiskSizeGB"
    ADMIN_USERNAME = "adminUsername"
    AUTHENTICATION_TYPE = "authenticationType"
    ADMIN_PASSWORD_OR_KEY = "adminPasswordOrKey"  # noqa: S105 - a name
    JOIN_TOKEN = "joinToken"  # noqa: S105 - a parameter name, not a secret
    ATTESTATION_TYPE = "attestationType"
    SSH_SOURCE_ADDRESS_PREFIX = "sshSourceAddressPrefix"
    PUBLIC_IP_NEW_OR_NONE = "publicIpNewOrNone"
    NODE_COUNT = "nodeCount"
    NODE_LABELS = "nodeLabels"

    SECURE = frozenset({ADMIN_PASSWORD_OR_KEY, JOIN_TOKEN})
    """Parameters whose values are secrets: never logged, echoed or recorded."""
