"""The table of resource types and their apiVersions that the apiVersion rules need.

Two shapes are read: arm-ttk's cache (`{"Ns/type": [{"apiVersions": [...]}, ...]}`)
and our own (`{"Ns/type": ["2025-01-01", ...]}`, plus a `$comment`). Type names are
compared without regard to case, as ARM compares them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ccm_azure.errors import UserInputError

BUNDLED = "api_versions.json"


@dataclasses.dataclass(frozen=True)
class ApiVersions:
    """apiVersions by resource type (lower case), newest first."""

    table: Mapping[str, tuple[str, ...]]
    source: str

    def versions(self, resource_type: str) -> tuple[str, ...] | None:
        return self.table.get(resource_type.lower())

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
