"""The createUiDefinition model the rules need: controls, references and output types.

An output such as `[steps('node').vmSize]` is resolved to the control that feeds it,
and the type of value that control produces is worked out, so that rules can compare
it with the template parameter it fills.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex

SECTION_TYPES = {"microsoft.common.section"}

# What each control produces, as an ARM parameter type.
_CONTROL_TYPES: Mapping[str, str] = {
    "microsoft.common.textbox": "string",
    "microsoft.common.passwordbox": "string",
    "microsoft.common.multilinetextbox": "string",
    "microsoft.compute.usernametextbox": "string",
    "microsoft.compute.sizeselector": "string",
    "microsoft.common.checkbox": "bool",
    "microsoft.common.slider": "int",
    "microsoft.common.editablegrid": "array",
    "microsoft.common.tagsbyresource": "object",
    "microsoft.compute.credentialscombo": "object",
    "microsoft.network.virtualnetworkcombo": "object",
    "microsoft.network.publicipaddresscombo": "object",
    "microsoft.storage.storageaccountselector": "object",
    "microsoft.common.fileupload": "string",
}
# Members of combo controls whose values are not strings.
_MEMBER_TYPES: Mapping[tuple[str, str], str] = {
    ("microsoft.network.virtualnetworkcombo", "addressprefixes"): "array",
    ("microsoft.network.virtualnetworkcombo", "subnets"): "object",
    ("microsoft.compute.credentialscombo", "generatenewsshkey"): "bool",
}
_FUNCTION_TYPES: Mapping[str, str] = {
    **dict.fromkeys(
        (
            *("int", "add", "sub", "mul", "div", "mod", "length", "indexof"),
            *("lastindexof", "min", "max", "floor", "ceil", "rand"),
        ),
        "int",
    ),
    "float": "float",
    **dict.fromkeys(
        (
            *("bool", "equals", "not", "and", "or", "contains", "empty", "greater"),
            *("greaterorequals", "less", "lessorequals", "startswith", "endswith"),
        ),
        "bool",
    ),
    **dict.fromkeys(
        (
            *("string", "tolower", "toupper", "substring", "replace", "guid"),
            *("location", "encodebase64", "decodebase64", "encodeuricomponent"),
            *("decodeuricomponent", "utcnow", "addhours", "addminutes", "addseconds"),
        ),
        "string",
    ),
    **dict.fromkeys(("split", "filter", "map", "skip", "take", "range"), "array"),
    **dict.fromkeys(("resourcegroup", "subscription"), "object"),
}


def parameter_type(declared: object) -> str | None:
    """An ARM parameter type folded to what a value of it looks like."""
    if not isinstance(declared, str):
        return None
    return {
        "string": "string",
        "securestring": "string",
        "int": "int",
        "bool": "bool",
        "array": "array",
        "object": "object",
        "secureobject": "object",
    }.get(declared.lower())


@dataclasses.dataclass(frozen=True)
class Control:
    path: str  # JSON path of the control inside the file
    data: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @property
    def type(self) -> str:
        return str(self.data.get("type", "")).lower()


@dataclasses.dataclass(frozen=True)
class Form:
    """A parsed createUiDefinition file."""

    data: Mapping[str, Any]

    @property
    def parameters(self) -> Mapping[str, Any]:
        value = self.data.get("parameters")
        return value if isinstance(value, Mapping) else {}

    @property
    def outputs(self) -> Mapping[str, Any]:
        value = self.parameters.get("outputs")
        return value if isinstance(value, Mapping) else {}

    def basics(self) -> list[Control]:
        elements = self.parameters.get("basics")
        return _controls(elements, "$.parameters.basics")

    def steps(self) -> dict[str, list[Control]]:
        steps = self.parameters.get("steps")
        found: dict[str, list[Control]] = {}
        if isinstance(steps, list):
            for i, step in enumerate(steps):
                if isinstance(step, Mapping) and isinstance(step.get("name"), str):
                    path = f"$.parameters.steps[{i}].elements"
                    found[step["name"]] = _controls(step.get("elements"), path)
        return found

    def all_controls(self) -> Iterator[Control]:
        """Every control of the form, nested ones included."""
        yield from _flatten(self.basics())
        for controls in self.steps().values():
            yield from _flatten(controls)

    def resolve(self, node: ex.Node) -> Reference | None:
        """The control a `basics('x')...` or `steps('s').x...` chain names, if any.

        Returns None when `node` is not such a chain at all; a Reference whose
        `control` is None when it is one but names no existing control.
        """
        members: list[str] = []
        while isinstance(node, ex.Member):
            members.insert(0, node.name)
            node = node.target
        if not isinstance(node, ex.Call) or node.lower_name not in ("basics", "steps"):
            return None
        first = ex.string_argument(node)
        if first is None:
            return None
        text = f"{node.name}('{first}')" + "".join(f".{m}" for m in members)
        if node.lower_name == "basics":
            scope, names = self.basics(), [first, *members]
        else:
            step = self.steps().get(first)
            if step is None:
                return Reference(text, None, [])
            scope, names = step, members
        control: Control | None = None
        while names:
            control = next((c for c in scope if c.name == names[0]), None)
            names = names[1:]
            if control is None:
                return Reference(text, None, [])
            if control.type not in SECTION_TYPES:
                return Reference(text, control, names)
            scope = _controls(control.data.get("elements"), f"{control.path}.elements")
        return Reference(text, control, [])


@dataclasses.dataclass(frozen=True)
class Reference:
    text: str
    control: Control | None
    members: list[str]

    def value_type(self) -> str | None:
        """The type of value this reference yields, when it can be told."""
        if self.control is None:
            return None
        kind = self.control.type
        if kind in ("microsoft.common.dropdown", "microsoft.common.optionsgroup"):
            if self.members:
                return None
            if self.control.data.get("multiselect") is True:
                return "array"
            return _allowed_values_type(self.control.data)
        base = _CONTROL_TYPES.get(kind)
        if not self.members or base is None:
            return base
        if base != "object":
            return None
        first = self.members[0].lower()
        if len(self.members) == 1:
            return _MEMBER_TYPES.get((kind, first), "string")
        if kind == "microsoft.network.virtualnetworkcombo" and first == "subnets":
            return "string" if len(self.members) == 3 else None
        return None


def references(form: Form, node: ex.Node) -> Iterator[Reference]:
    """Every whole basics()/steps() chain in an expression, outermost first."""
    reference = form.resolve(node)
    if reference is not None:
        yield reference
        return
    for child in ex.children(node):
        yield from references(form, child)


def output_type(form: Form, node: ex.Node) -> str | None:
    """The type of value an output expression yields, or None if it cannot be told."""
    reference = form.resolve(node)
    if reference is not None:
        return reference.value_type()
    match node:
        case ex.Literal(value=value):
            return _python_type(value)
        case ex.Call(name=name, args=args):
            lowered = name.lower()
            if lowered == "if" and len(args) == 3:
                return _same(output_type(form, args[1]), output_type(form, args[2]))
            if lowered == "coalesce" and args:
                types = [output_type(form, arg) for arg in args]
                return types[0] if all(t == types[0] for t in types) else None
            if lowered == "concat" and args:
                first = output_type(form, args[0])
                return "array" if first == "array" else "string"
            return _FUNCTION_TYPES.get(lowered)
        case _:
            return None


def _same(a: str | None, b: str | None) -> str | None:
    return a if a == b else None


def _python_type(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def _allowed_values_type(data: Mapping[str, Any]) -> str | None:
    constraints = data.get("constraints")
    values = (
        constraints.get("allowedValues") if isinstance(constraints, Mapping) else None
    )
    if not isinstance(values, list) or not values:
        return None
    types = {
        _python_type(item.get("value")) for item in values if isinstance(item, Mapping)
    }
    return types.pop() if len(types) == 1 else None


def _controls(elements: object, path: str) -> list[Control]:
    if not isinstance(elements, list):
        return []
    return [
        Control(f"{path}[{i}]", element)
        for i, element in enumerate(elements)
        if isinstance(element, Mapping)
    ]


def _flatten(controls: list[Control]) -> Iterator[Control]:
    for control in controls:
        yield control
        if control.type in SECTION_TYPES:
            yield from _flatten(
                _controls(control.data.get("elements"), f"{control.path}.elements")
            )
