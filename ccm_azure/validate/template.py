"""The ARM template model the rules need: parameters, variables, resources and paths.

ARM compares parameter, variable and resource type names without regard to case, so
every lookup here does too.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex


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

    def resolve_variable(self, node: ex.Node) -> Any:
        """The value `variables('x')` denotes, followed through `.a`, `['a']`, `[0]`.

        UNRESOLVED when `node` is no such reference or the variable has no such entry.
        """
        match node:
            case ex.Call(args=(ex.Literal(value=str(name)),)) if (
                node.lower_name == "variables"
            ):
                return _entry(self.variables, name)
            case ex.Member(target=target, name=key):
                return _entry(self.resolve_variable(target), key)
            case ex.Index(target=target, index=ex.Literal(value=key)):
                return _entry(self.resolve_variable(target), key)
        return UNRESOLVED

    def through_variables(self, node: ex.Node) -> Iterator[ex.Node]:
        """`node`, then every expression in the variables it reads, transitively.

        What a value really depends on: a secret passed through a variable is still
        that secret.
        """
        yield node
        seen: set[str] = set()
        pending = sorted(ex.referenced(node, "variables"))
        while pending:
            name = pending.pop()
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            for _, inner in expressions(self.variable(name)):
                yield inner
                pending.extend(ex.referenced(inner, "variables"))


class _Unresolved:
    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED: Any = _Unresolved()
"""What `Template.resolve_variable` returns when a reference cannot be followed."""


def _entry(container: Any, key: object) -> Any:
    """`container[key]`, ignoring the case of object keys, or UNRESOLVED."""
    if isinstance(container, Mapping) and isinstance(key, str):
        for declared, value in container.items():
            if declared.lower() == key.lower():
                return value
    elif isinstance(container, list) and isinstance(key, int) and key >= 0:
        return container[key] if key < len(container) else UNRESOLVED
    return UNRESOLVED


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


def expressions(value: object, path: str = "$") -> Iterator[tuple[str, ex.Node]]:
    """Every well-formed expression string under `value`, parsed, with its JSON path."""
    for item_path, item in walk(value, path):
        if isinstance(item, str):
            node = parsed(item)
            if node is not None:
                yield item_path, node


@functools.lru_cache(maxsize=1 << 16)
def parsed(text: str) -> ex.Node | None:
    """`expressions.try_parse`, remembered: many rules read the same strings.

    The trees are immutable, so sharing them between rules is safe.
    """
    return ex.try_parse(text)


def referenced_names(value: object, function: str) -> set[str]:
    """Lower-cased names passed literally to `function` in any expression under `value`.

    `referenced_names(template.data, "parameters")` is every parameter a template
    reads; strings that are not expressions do not count, as ARM does not evaluate them.
    """
    return {
        name.lower()
        for _, node in expressions(value)
        for name in ex.referenced(node, function)
    }


def typed_objects(
    value: object, type_name: str, path: str = "$"
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object under `value` whose `type` is `type_name` (ignoring case)."""
    wanted = type_name.lower()
    for item_path, item in walk(value, path):
        if isinstance(item, Mapping):
            item_type = item.get("type")
            if isinstance(item_type, str) and item_type.lower() == wanted:
                yield item_path, item


def generated_by_bicep(data: object) -> bool:
    """Whether a template says it was compiled from Bicep (`metadata._generator`).

    arm-ttk leaves some of Bicep's output alone, because Bicep writes it that way and
    its own linter checks the source.
    """
    metadata = _mapping(data).get("metadata")
    generator = _mapping(_mapping(metadata).get("_generator")).get("name")
    return isinstance(generator, str) and generator.lower() == "bicep"


def every_resource(template: Template) -> Iterator[Resource]:
    """Every resource, with those of inline nested templates evaluated in this scope.

    Inner-scope nested templates are documents of their own (see files.py) and are
    blanked here, so they add nothing.
    """
    for resource in template.resources():
        yield resource
        inner = _mapping(resource.properties.get("template"))
        if resource.is_type("Microsoft.Resources/deployments") and inner:
            for nested in every_resource(Template(inner)):
                path = f"{resource.path}.properties.template{nested.path[1:]}"
                yield dataclasses.replace(nested, path=path)


def possible_values(template: Template, value: object) -> list[Any] | None:
    """The values `value` can take in a deployment, as far as the template tells.

    A literal is itself; `parameters('p')` is p's default and allowed values; a
    variable is what it holds; `if()` is either branch; `x.a` and `x[k]` are followed
    into objects and arrays (every entry when the key is not known). None when some
    value cannot be known, such as a function's result or a parameter without default
    or allowed values.
    """
    return _possible_values(template, value, 0)


_MAX_DEPTH = 16  # variables that refer to each other in a loop end here


def _possible_values(template: Template, value: object, depth: int) -> list[Any] | None:
    if depth > _MAX_DEPTH:
        return None
    if isinstance(value, str) and value.startswith("[["):
        return [value[1:]]
    if not ex.is_expression(value):
        return [value]
    node = ex.try_parse(value)
    return None if node is None else _node_values(template, node, depth + 1)


def _node_values(template: Template, node: ex.Node, depth: int) -> list[Any] | None:
    if depth > _MAX_DEPTH:
        return None
    match node:
        case ex.Literal(value=literal):
            return [literal]
        case ex.Call(args=(ex.Literal(value=str(name)),)) if (
            node.lower_name == "variables"
        ):
            held = _entry(template.variables, name)
            if held is UNRESOLVED:
                return None
            return _possible_values(template, held, depth)
        case ex.Call(args=(ex.Literal(value=str(name)),)) if (
            node.lower_name == "parameters"
        ):
            return _parameter_values(template, name, depth)
        case ex.Call(args=(_, first, second)) if node.lower_name == "if":
            either = _node_values(template, first, depth + 1)
            other = _node_values(template, second, depth + 1)
            return None if either is None or other is None else either + other
        case ex.Member(target=target, name=key):
            return _entries(template, target, [key], depth)
        case ex.Index(target=target, index=index):
            return _entries(
                template, target, _node_values(template, index, depth + 1), depth
            )
    return None


def _parameter_values(template: Template, name: str, depth: int) -> list[Any] | None:
    found = template.parameter(name)
    if found is None:
        return None
    _, definition = found
    values: list[Any] = []
    if "defaultValue" in definition:
        default = _possible_values(template, definition["defaultValue"], depth + 1)
        if default is None:
            return None
        values.extend(default)
    allowed = definition.get("allowedValues")
    if isinstance(allowed, list):
        values.extend(allowed)
    return values or None


def _entries(
    template: Template, target: ex.Node, keys: list[Any] | None, depth: int
) -> list[Any] | None:
    """The values at `keys` (any key when None) of every value `target` can take."""
    containers = _node_values(template, target, depth + 1)
    if containers is None:
        return None
    found: list[Any] = []
    for container in containers:
        if keys is not None:
            items = [_entry(container, key) for key in keys]
        elif isinstance(container, Mapping):
            items = list(container.values())
        elif isinstance(container, list):
            items = container
        else:
            return None
        for item in items:
            if item is UNRESOLVED:
                return None
            values = _possible_values(template, item, depth + 1)
            if values is None:
                return None
            found.extend(values)
    return found
