"""The ARM template model the rules need: parameters, variables, resources and paths.

ARM compares parameter, variable and resource type names without regard to case, so
every lookup here does too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclasses.dataclass(frozen=True)
class Resource:
    path: str
    data: Mapping[str, Any]
    full_type: str
    """The type with its parents' types for child resources, e.g. a/b/c."""

    @property
    def properties(self) -> Mapping[str, Any]:
        return _mapping(self.data.get("properties"))

    def is_type(self, name: str) -> bool:
        return self.full_type.lower() == name.lower()


@dataclasses.dataclass(frozen=True)
class Template:
    data: Mapping[str, Any]

    @property
    def parameters(self) -> Mapping[str, Any]:
        return _mapping(self.data.get("parameters"))

    @property
    def variables(self) -> Mapping[str, Any]:
        return _mapping(self.data.get("variables"))

    @property
    def outputs(self) -> Mapping[str, Any]:
        return _mapping(self.data.get("outputs"))

    def parameter(self, name: str) -> tuple[str, Mapping[str, Any]] | None:
        """The declared name and definition of parameter `name`, ignoring case."""
        for declared, definition in self.parameters.items():
            if declared.lower() == name.lower():
                return declared, _mapping(definition)
        return None

    def variable(self, name: str) -> Any:
        for declared, value in self.variables.items():
            if declared.lower() == name.lower():
                return value
        return None

    def resources(self) -> Iterator[Resource]:
        """Every resource, child resources included."""
        yield from _resources(self.data.get("resources"), "$.resources", "")


def _resources(value: object, path: str, parent_type: str) -> Iterator[Resource]:
    if isinstance(value, Mapping):  # languageVersion 2.0 symbolic names
        items: list[tuple[str, object]] = [
            (f"{path}.{key}", item) for key, item in value.items()
        ]
    elif isinstance(value, list):
        items = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        return
    for item_path, item in items:
        if not isinstance(item, Mapping):
            continue
        own_type = str(item.get("type", ""))
        full_type = f"{parent_type}/{own_type}" if parent_type else own_type
        yield Resource(item_path, item, full_type)
        yield from _resources(
            item.get("resources"), f"{item_path}.resources", full_type
        )


def walk(value: object, path: str = "$") -> Iterator[tuple[str, object]]:
    """Every value under `value` with its JSON path, containers before contents."""
    yield path, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from walk(item, f"{path}[{i}]")
