"""Work out, without Azure, what a rendered template's expressions give.

Tests need the names ARM gives each node for a node count, and which node's resource
each dependency points at. This evaluates the functions the offer's template uses for
those, on the project's own expression parser, as ARM documents them. A function it
does not know raises, so no test passes on an expression it never read.

`uniqueString()` is a hash of ARM's that is not reproduced: it gives UNIQUE_STRING.
Resource IDs are relative to the resource group, which is all a name test needs.
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex

UNIQUE_STRING = "4kq2xz7hyb3bs"
RESOURCE_GROUP_ID = "/subscriptions/0/resourceGroups/ccm-node-eastus"


class NotEvaluated(Exception):
    """The expression uses something this evaluator does not do."""


@dataclasses.dataclass(frozen=True)
class _Scope:
    copy_index: Mapping[str | None, int]
    """The current iteration of each copy loop; None is the resource's own loop."""
    lambda_variables: Mapping[str, Any]


def resource_id(resource_type: str, *names: str) -> str:
    """What resourceId() gives in the deployment's resource group."""
    namespace, *types = resource_type.split("/")
    if len(types) != len(names):
        raise NotEvaluated(f"resourceId({resource_type!r}) takes {len(types)} names")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"{RESOURCE_GROUP_ID}/providers/{namespace}/{path}"


class Deployment:
    """A template with parameter values, as ARM evaluates it."""

    def __init__(self, template: Mapping[str, Any], **parameters: Any) -> None:
        self.template = template
        declared = template["parameters"]
        unknown = set(parameters) - set(declared)
        if unknown:
            raise NotEvaluated(f"the template has no parameters {sorted(unknown)}")
        self.parameters = {
            name: parameters[name] if name in parameters else definition["defaultValue"]
            for name, definition in declared.items()
            if name in parameters or "defaultValue" in definition
        }
        self._variables: dict[str, Any] = {}

    def value(self, text: Any, copy_index: int | None = None) -> Any:
        """The value of a template string (or literal) in iteration `copy_index`."""
        if not ex.is_expression(text):
            return text
        loops: dict[str | None, int] = {} if copy_index is None else {None: copy_index}
        return self._evaluate(ex.parse(text), _Scope(loops, {}))

    def copies(self, resource: Mapping[str, Any], key: str = "name") -> list[Any]:
        """`resource[key]` in each iteration of the resource's copy loop."""
        loop = resource.get("copy")
        if loop is None:
            return [self.value(resource[key])]
        count = self.value(loop["count"])
        return [self.value(resource[key], i) for i in range(count)]

    def variable(self, name: str) -> Any:
        if name not in self._variables:
            self._variables[name] = self._compute_variable(name)
        return self._variables[name]

    def _compute_variable(self, name: str) -> Any:
        variables = self.template["variables"]
        for loop in variables.get("copy", []):
            if loop["name"] == name:
                count = self.value(loop["count"])
                return [
                    self._deep(loop["input"], _Scope({name: i}, {}))
                    for i in range(count)
                ]
        if name not in variables:
            raise NotEvaluated(f"no variable {name!r}")
        return self._deep(variables[name], _Scope({}, {}))

    def _deep(self, value: Any, scope: _Scope) -> Any:
        if isinstance(value, Mapping):
            return {k: self._deep(v, scope) for k, v in value.items()}
        if isinstance(value, list):
            return [self._deep(v, scope) for v in value]
        if ex.is_expression(value):
            return self._evaluate(ex.parse(value), scope)
        return value

    def _evaluate(self, node: ex.Node, scope: _Scope) -> Any:
        match node:
            case ex.Literal(value=value):
                return value
            case ex.Member(target=target, name=name):
                return self._evaluate(target, scope)[name]
            case ex.Index(target=target, index=index):
                return self._evaluate(target, scope)[self._evaluate(index, scope)]
            case ex.Call(name=name, args=args):
                return self._call(name.lower(), args, scope)
        raise NotEvaluated(f"cannot evaluate {node}")

    def _call(self, name: str, args: tuple[ex.Node, ...], scope: _Scope) -> Any:
        if name == "if":  # only the branch taken is evaluated, as in ARM
            condition = self._evaluate(args[0], scope)
            return self._evaluate(args[1] if condition else args[2], scope)
        if name == "lambda":
            return self._lambda(args, scope)
        values = [self._evaluate(arg, scope) for arg in args]
        if name == "copyindex":
            return self._copy_index(values, scope)
        if name == "lambdavariables":
            return scope.lambda_variables[values[0]]
        function = self._functions().get(name)
        if function is None:
            raise NotEvaluated(f"{name}() is not evaluated here")
        return function(*values)

    def _lambda(self, args: tuple[ex.Node, ...], scope: _Scope) -> Callable[..., Any]:
        names = [self._evaluate(arg, scope) for arg in args[:-1]]
        body = args[-1]

        def call(*values: Any) -> Any:
            bound = {**scope.lambda_variables, **dict(zip(names, values, strict=True))}
            return self._evaluate(body, _Scope(scope.copy_index, bound))

        return call

    @staticmethod
    def _copy_index(values: list[Any], scope: _Scope) -> int:
        loop: str | None = None
        offset = 0
        if values and isinstance(values[0], str):
            loop, *rest = values
            offset = rest[0] if rest else 0
        elif values:
            offset = values[0]
        if loop not in scope.copy_index:
            raise NotEvaluated(f"copyIndex({loop or ''}) outside its loop")
        return scope.copy_index[loop] + offset

    def _functions(self) -> dict[str, Callable[..., Any]]:
        return {
            "parameters": lambda name: self.parameters[name],
            "variables": self.variable,
            "concat": _concat,
            "format": lambda text, *items: text.format(*items),
            "equals": lambda a, b: a == b,
            "empty": lambda value: len(value) == 0,
            "not": lambda value: not value,
            "take": lambda value, count: value[: max(count, 0)],
            "tolower": str.lower,
            "sub": lambda a, b: a - b,
            "add": lambda a, b: a + b,
            "length": len,
            "string": str,
            "createarray": lambda *items: list(items),
            "createobject": _create_object,
            "null": lambda: None,
            "range": lambda start, count: list(range(start, start + count)),
            "map": lambda items, function: [function(item) for item in items],
            "base64": lambda text: base64.b64encode(text.encode()).decode(),
            "uniquestring": lambda *_: UNIQUE_STRING,
            "resourcegroup": lambda: {"id": RESOURCE_GROUP_ID},
            "resourceid": resource_id,
            "extensionresourceid": lambda scope_id, kind, *names: (
                f"{scope_id}/providers/{kind}/{'/'.join(names)}"
            ),
        }


def _create_object(*pairs: Any) -> dict[str, Any]:
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


def _concat(*items: Any) -> Any:
    if items and all(isinstance(item, list) for item in items):
        return [element for item in items for element in item]
    return "".join(str(item) for item in items)
