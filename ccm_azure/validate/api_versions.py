"""The table of resource types and their apiVersions that the apiVersion rules need.

Two shapes are read: arm-ttk's cache (`{"Ns/type": [{"apiVersions": [...]}, ...]}`)
and our own (`{"Ns/type": ["2025-01-01", ...]}`, plus a `$comment`). Type names are
compared without regard to case, as ARM compares them.

The package ships a small table in our shape, covering the resource types of the
rendered offer; `refresh_from_azure` builds a full one from a subscription, and
`judge` says what is wrong with an apiVersion given a table and a date.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import functools
import json
import logging
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ccm_azure.errors import UserInputError

BUNDLED = "api_versions.json"
LOGGER = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ApiVersions:
    """apiVersions by resource type (lower case), newest first."""

    table: Mapping[str, tuple[str, ...]]
    source: str

    def versions(self, resource_type: str) -> tuple[str, ...] | None:
        return self.table.get(resource_type.lower())

    def lookup(self, resource_type: str) -> tuple[str, tuple[str, ...]] | None:
        """The type the table knows, as written here, and its versions.

        That is `resource_type`, else its nearest parent: a child type missing from
        the table is assumed to share its parent's versions, as arm-ttk does.
        """
        segments = resource_type.strip("/").split("/")
        for end in range(len(segments), 1, -1):
            name = "/".join(segments[:end])
            found = self.versions(name)
            if found:
                return name, found
        return None

    def to_json(self, comment: str | Sequence[str] = ()) -> str:
        """The table in the shape `from_mapping` reads, types sorted, newest first."""
        data: dict[str, Any] = {}
        if comment:
            data["$comment"] = comment
        for name in sorted(self.table):
            data[name] = list(self.table[name])
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str) -> ApiVersions:
        table: dict[str, set[str]] = {}
        for name, entry in data.items():
            if name.startswith("$"):
                continue
            versions = table.setdefault(name.lower(), set())
            for item in entry if isinstance(entry, list) else []:
                if isinstance(item, str):
                    versions.add(item)
                elif isinstance(item, Mapping):
                    versions.update(
                        v for v in item.get("apiVersions") or [] if isinstance(v, str)
                    )
        return cls(
            {name: tuple(sorted(v, reverse=True)) for name, v in table.items()}, source
        )

    @classmethod
    def from_file(cls, path: Path) -> ApiVersions:
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except OSError as error:
            raise UserInputError(
                f"Cannot read the apiVersion table {path}: {error.strerror}."
            ) from None
        except ValueError as error:
            raise UserInputError(
                f"The apiVersion table {path} is not JSON ({error})."
            ) from None
        if not isinstance(data, Mapping):
            raise UserInputError(
                f"The apiVersion table {path} must be a JSON object of resource types."
            )
        return cls.from_mapping(data, str(path))

    @classmethod
    def bundled(cls) -> ApiVersions:
        text = resources.files("ccm_azure.validate").joinpath(BUNDLED).read_text()
        return cls.from_mapping(json.loads(text), "the table shipped with ccm-azure")


def merge(tables: Sequence[ApiVersions]) -> ApiVersions:
    merged: dict[str, set[str]] = {}
    for table in tables:
        for name, versions in table.table.items():
            merged.setdefault(name, set()).update(versions)
    return ApiVersions(
        {name: tuple(sorted(v, reverse=True)) for name, v in merged.items()},
        " + ".join(t.source for t in tables),
    )


MAX_AGE_DAYS = 730
"""How old an apiVersion may be before a newer one must be used, as arm-ttk counts."""

_VERSION = re.compile(r"(\d{4})-(\d{2})-(\d{2})(-[A-Za-z0-9.-]+)?")


@functools.lru_cache(maxsize=4096)
def version_date(version: str) -> datetime.date | None:
    """The date an apiVersion names (`2023-01-01`, `2023-01-01-preview`), or None."""
    match = _VERSION.fullmatch(version.strip())
    if match is None:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def is_preview(version: str) -> bool:
    """Whether an apiVersion carries a suffix after its date (preview, beta, ...)."""
    match = _VERSION.fullmatch(version.strip())
    return match is not None and match[4] is not None


class Verdict(enum.Enum):
    """What is wrong with an apiVersion, judged against the table and a date."""

    PREVIEW_SUPERSEDED = "preview-superseded"
    """A preview, and a non-preview version of a later date exists."""
    PREVIEW_HAS_STABLE = "preview-has-stable"
    """A preview, and the non-preview version of the same date exists."""
    OUT_OF_DATE = "out-of-date"
    """Older than MAX_AGE_DAYS, and a newer version that may replace it exists."""
    NOT_LISTED = "not-listed"
    """The table knows the type but not this version."""


def judge(
    version: str,
    known: Sequence[str],
    as_of: datetime.date,
    max_age_days: int = MAX_AGE_DAYS,
) -> list[Verdict]:
    """What is wrong with `version` of a type whose apiVersions are `known`.

    The newest non-preview version is always acceptable, however old; an old preview
    is out of date once any newer version exists.
    """
    used = version.strip().lower()
    used_date = version_date(used)
    listed = {v.lower() for v in known}
    if used_date is None:
        return []
    if used not in listed:
        return [Verdict.NOT_LISTED]
    stable_dates = [d for v in listed if not is_preview(v) and (d := version_date(v))]
    verdicts = []
    if is_preview(used):
        if any(d > used_date for d in stable_dates):
            verdicts.append(Verdict.PREVIEW_SUPERSEDED)
        if used_date in stable_dates:
            verdicts.append(Verdict.PREVIEW_HAS_STABLE)
    newer_replacements = [
        v
        for v in listed
        if (d := version_date(v)) is not None
        and d > used_date
        and (is_preview(used) or not is_preview(v))
    ]
    if (as_of - used_date).days > max_age_days and newer_replacements:
        verdicts.append(Verdict.OUT_OF_DATE)
    return verdicts


def acceptable(
    known: Sequence[str], as_of: datetime.date, max_age_days: int = MAX_AGE_DAYS
) -> list[str]:
    """The versions `judge` accepts, newest first: what a message should suggest."""
    return [
        v
        for v in sorted(known, reverse=True)
        if not judge(v, known, as_of, max_age_days)
    ]


@functools.cache
def shipped() -> ApiVersions:
    """The table in the package, read once."""
    return ApiVersions.bundled()


def refresh_from_azure(credential: Any, subscription_id: str) -> ApiVersions:
    """The apiVersions of every resource type the subscription's providers offer.

    Asks Azure Resource Manager for the list of resource providers, as `az provider
    list` does; the azure-mgmt-resource package is imported only here.
    """
    from azure.mgmt.resource.resources import ResourceManagementClient

    LOGGER.info("Listing the resource providers of subscription %s", subscription_id)
    table: dict[str, list[str]] = {}
    with ResourceManagementClient(credential, subscription_id) as client:
        for provider in client.providers.list():
            for resource_type in provider.resource_types or []:
                if provider.namespace and resource_type.resource_type:
                    name = f"{provider.namespace}/{resource_type.resource_type}"
                    versions = resource_type.api_versions or []
                    table.setdefault(name, []).extend(versions)
    LOGGER.info("Found apiVersions of %d resource types", len(table))
    source = f"the providers of subscription {subscription_id}"
    return ApiVersions.from_mapping(table, source)
