"""The createUiDefinition model the rules need: controls, references and output types.

An output such as `[steps('node').vmSize]` is resolved to the control that feeds it,
and the type of value that control produces is worked out, so that rules can compare
it with the template parameter it fills.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.template import walk

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
        named = chain(node)
        if named is None:
            return None
        first, *members = named.names
        text = f"{named.written}('{first}')" + "".join(f".{m}" for m in members)
        if named.function == "basics":
            scope, names = self.basics(), [first, *members]
        else:
            step = self.steps().get(first)
            if step is None:
                return Reference(text, None, [])
            scope, names = step, members
        found = _descend(scope, names, str.__eq__)
        if found is None:
            return Reference(text, None, [])
        control, rest = found
        return Reference(text, control, list(rest))


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


def is_control_type(value: object) -> bool:
    """Whether `value` names a form control type, `Microsoft.<Namespace>.<Control>`.

    Resource types (`Microsoft.Sql/servers`) have a slash and are not control types,
    so an ArmApiControl's request body does not pass for a control.
    """
    if not isinstance(value, str) or "/" in value:
        return False
    parts = value.split(".")
    return len(parts) >= 3 and parts[0].lower() == "microsoft" and all(parts[1:])


def find_controls(data: object, path: str = "$") -> Iterator[Control]:
    """Every object of the file whose `type` names a control, wherever it stands.

    This finds controls the basics/steps tree does not reach, such as the cell
    controls of an EditableGrid, or a step that was given a control type by mistake.
    """
    for here, value in walk(data, path):
        if isinstance(value, dict) and is_control_type(value.get("type")):
            yield Control(here, value)


def controls_of_type(form: Form, *types: str) -> Iterator[Control]:
    """The controls of the given types (compared without regard to case)."""
    wanted = {t.lower() for t in types}
    return (c for c in find_controls(form.data) if c.type in wanted)


@dataclasses.dataclass(frozen=True)
class Chain:
    """A reference as written: `basics('a').b` is ("basics", ("a", "b"))."""

    function: str
    """'basics' or 'steps'."""
    names: tuple[str, ...]
    """For steps(), the step name first; then control names and members."""
    written: str = dataclasses.field(default="", compare=False)
    """The function's name as the form spells it, for messages."""

    def after(self, prefix: Chain, *, loosely: bool = False) -> tuple[str, ...] | None:
        """The names after `prefix` in this chain, or None if it does not start so.

        `loosely` compares names without regard to case and lets `steps('a').b`
        and `basics('a').b` count as the same, the way arm-ttk's text search does.
        """
        size = len(prefix.names)
        mine, theirs = self.names[:size], prefix.names
        if loosely:
            mine, theirs = _lower(mine), _lower(theirs)
        if mine != theirs or (self.function != prefix.function and not loosely):
            return None
        return self.names[size:]


def _lower(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name.lower() for name in names)


def canonical(form: Form, named: Chain) -> Chain:
    """`steps('basics').x` is the portal's other way to write `basics('x')`."""
    if (
        named.function == "steps"
        and named.names[0] == "basics"
        and "basics" not in form.steps()
    ):
        return Chain("basics", named.names[1:])
    return named


def lookup(
    form: Form, named: Chain, *, ignore_case: bool = False
) -> tuple[Control | None, tuple[str, ...]] | None:
    """What a chain names: the control and the members read from it.

    The control is None when the chain names a whole step, or all of basics. The
    result is None when the chain names no step or control of the form.
    """
    named = canonical(form, named)

    def same(a: str, b: str) -> bool:
        return a.lower() == b.lower() if ignore_case else a == b

    names = list(named.names)
    if named.function == "basics":
        scope = form.basics()
    else:
        step = next((c for n, c in form.steps().items() if same(n, names[0])), None)
        if step is None:
            return None
        scope, names = step, names[1:]
    return _descend(scope, names, same)


def _descend(
    scope: list[Control], names: list[str], same: Callable[[str, str], bool]
) -> tuple[Control | None, tuple[str, ...]] | None:
    """Follow `names` down through sections: the control reached and the members
    read from it, or None when a name matches no control."""
    control: Control | None = None
    while names:
        control = next((c for c in scope if same(c.name, names[0])), None)
        if control is None:
            return None
        names = names[1:]
        if control.type not in SECTION_TYPES:
            return control, tuple(names)
        scope = _controls(control.data.get("elements"), f"{control.path}.elements")
    return control, ()


def chain(node: ex.Node) -> Chain | None:
    """The chain `node` is, if it is a whole `basics('x')...` or `steps('s')...`."""
    members: list[str] = []
    while isinstance(node, ex.Member):
        members.insert(0, node.name)
        node = node.target
    if not isinstance(node, ex.Call) or node.lower_name not in ("basics", "steps"):
        return None
    first = ex.string_argument(node)
    if first is None:
        return None
    return Chain(node.lower_name, (first, *members), written=node.name)


def chains(node: ex.Node) -> Iterator[Chain]:
    """Every whole basics()/steps() chain in an expression, outermost first."""
    found = chain(node)
    if found is not None:
        yield found
        return
    for child in ex.children(node):
        yield from chains(child)


def address(form: Form, control: Control) -> Chain | None:
    """The chain that names `control`, if it stands where an expression can name it.

    Controls of basics and of steps, in sections at any depth, can be named; so can
    a step itself. Controls elsewhere (a grid's cells, config) cannot.
    """
    path = control.path
    for function in ("basics", "steps"):
        prefix = f"$.parameters.{function}"
        if path.startswith(prefix + "["):
            break
    else:
        return None
    items = form.parameters.get(function)
    names: list[str] = []
    rest = path[len(prefix) :]
    while rest:
        index_end = rest.find("]")
        if not rest.startswith("[") or index_end < 0:
            return None
        index = rest[1:index_end]
        if not index.isdigit() or not isinstance(items, list):
            return None
        item = items[int(index)]
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            return None
        names.append(item["name"])
        rest = rest[index_end + 1 :]
        if rest and not rest.startswith(".elements["):
            return None
        rest = rest[len(".elements") :]
        items = item.get("elements")
    return Chain(function, tuple(names))


@dataclasses.dataclass(frozen=True)
class OutputText:
    """One string inside an output value (outputs may be objects of strings)."""

    output: str
    """The output's name, which is the template parameter it fills."""
    path: str
    text: str


def output_texts(form: Form) -> Iterator[OutputText]:
    """Every string in the outputs, with the output it belongs to."""
    for name, value in form.outputs.items():
        for path, item in _strings(value, f"$.parameters.outputs.{name}"):
            yield OutputText(name, path, item)


@functools.lru_cache(maxsize=8192)
def parsed(text: str) -> ex.Node | None:
    """`expressions.try_parse`, remembered: every form rule reads the same strings."""
    return ex.try_parse(text)


def mentioned_chains(text: str) -> list[Chain]:
    """The basics()/steps() chains an output string names.

    An output value written without its brackets (`steps('s').x`) is a literal to
    the portal, but arm-ttk, which searches output text, counts it as naming the
    control; so a bracketless value that parses as an expression is read as the one
    it was meant to be.
    """
    return list(_mentioned_chains(text))


@functools.lru_cache(maxsize=8192)
def _mentioned_chains(text: str) -> tuple[Chain, ...]:
    node = parsed(text)
    if node is None and not text.lstrip().startswith("["):
        try:
            node = ex.parse(f"[{text}]")
        except ex.ExpressionSyntaxError:
            return ()
    return tuple(chains(node)) if node is not None else ()


def outputs_naming(
    form: Form, place: Chain
) -> list[tuple[OutputText, tuple[str, ...]]]:
    """The output strings that name the control at `place`, with what they read of it.

    When no output names it exactly, one naming it loosely (other case, or
    `steps('s').x` for a control `x` of a basics section `s`) is taken as the one
    meant: arm-ttk matches names in the text without regard to case, and a wrong
    name is a finding of its own (Controls-In-Outputs-Must-Exist), not a reason to
    lose track of the value.
    """
    texts = [
        (text, [canonical(form, c) for c in mentioned_chains(text.text)])
        for text in output_texts(form)
    ]
    for loosely in (False, True):
        found = [
            (text, rest)
            for text, named in texts
            for item in named
            if (rest := item.after(place, loosely=loosely)) is not None
        ]
        if found:
            return found
    return []


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
