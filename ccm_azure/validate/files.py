"""Which files a run checks, what each one is, and the templates nested inside them.

A path may be one file, a folder (every .json/.jsonc file below it) or a Marketplace
zip. Each file is routed the way arm-ttk routes it: by the group name its `$schema`
contains (deploymentTemplate, CreateUIDefinition, deploymentParameters), else by its
name, else as a template when it has `resources`. The main template is the file named
mainTemplate.json, azuredeploy.json or prereq.azuredeploy.json (any case), or the one
the user names. Inline nested templates whose expressions are evaluated in their own
scope are checked as templates of their own; their parent is checked with them blanked.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from ccm_azure.errors import CcmAzureError, ExitCode
from ccm_azure.validate.loader import JsonError, Source, loads

Kind = Literal["template", "ui", "parameters", "other"]

MAIN_TEMPLATE_NAMES = (
    "maintemplate.json",
    "azuredeploy.json",
    "prereq.azuredeploy.json",
)
UI_DEFINITION_NAME = "createuidefinition.json"
_EXTENSIONS = (".json", ".jsonc")


class CannotRun(CcmAzureError):
    """The files cannot be checked at all: bad path, unreadable or broken zip."""

    exit_code = ExitCode.USAGE


@dataclasses.dataclass
class Document:
    """One file under check, or a template nested in one."""

    name: str  # path shown to users, relative to what they named
    data: Any
    kind: Kind
    source: Source | None = None
    is_main: bool = False
    load_error: str | None = None
    parent: Document | None = None
    inner_path: str = ""  # JSON path of a nested template inside its parent

    @property
    def full_path(self) -> str:
        """JSON path of this document inside the file it came from."""
        if self.parent is None:
            return "$"
        return self.parent.full_path + self.inner_path[1:]

    @property
    def label(self) -> str:
        """How findings name this document: the file, and where a nested one sits."""
        return f"{self.name}#{self.full_path}" if self.parent else self.name

    def line_of(self, path: str) -> int | None:
        if self.parent is not None:
            return self.parent.line_of(self.inner_path + path[1:])
        return self.source.line_of(path) if self.source else None


@dataclasses.dataclass
class Package:
    """Every document of one run."""

    documents: list[Document]

    def of_kind(self, kind: Kind) -> list[Document]:
        return [d for d in self.documents if d.kind == kind and d.load_error is None]

    @property
    def main_template(self) -> Document | None:
        return next((d for d in self.of_kind("template") if d.is_main), None)

    @property
    def ui_definition(self) -> Document | None:
        found = self.of_kind("ui")
        return found[0] if found else None


def route(name: str, data: Any) -> Kind:
    """What a file is, by its `$schema`, then its name, then its content."""
    schema = data.get("$schema") if isinstance(data, dict) else None
    if isinstance(schema, str):
        lowered = schema.lower()
        if "deploymenttemplate" in lowered:
            return "template"
        if "createuidefinition" in lowered:
            return "ui"
        if "deploymentparameters" in lowered:
            return "parameters"
    base = PurePosixPath(name).name.lower()
    if base.endswith((".parameters.json", ".parameters.jsonc")):
        return "parameters"
    if base in MAIN_TEMPLATE_NAMES:
        return "template"
    if base == UI_DEFINITION_NAME:
        return "ui"
    if isinstance(data, dict) and "resources" in data:
        return "template"
    return "other"


def document(name: str, raw: bytes, *, main_names: tuple[str, ...]) -> Document:
    """Parse one file's bytes into a routed Document (broken JSON is kept, flagged)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    try:
        data, source = loads(text)
    except JsonError as error:
        return Document(name, None, "other", load_error=str(error))
    kind = route(name, data)
    is_main = kind == "template" and PurePosixPath(name).name.lower() in main_names
    return Document(name, data, kind, source=source, is_main=is_main)


def load(path: Path, *, main_template: str | None = None) -> Package:
    """Every document under `path` (a file, a folder or a zip)."""
    main_names = (main_template.lower(),) if main_template else MAIN_TEMPLATE_NAMES
    if not path.exists():
        raise CannotRun(
            f"{path} does not exist; give a template file, a folder or a zip."
        )
    entries = list(_entries(path))
    if not entries:
        raise CannotRun(
            f"{path} holds no .json or .jsonc file; give a template file, a folder "
            "or a Marketplace zip."
        )
    documents = []
    for name, raw in entries:
        doc = document(name, raw, main_names=main_names)
        if "/" in name:
            doc.is_main = False  # only a main template at the top level counts
        documents.append(doc)
        documents.extend(nested_templates(doc))
    return Package(documents)


def _entries(path: Path) -> Iterator[tuple[str, bytes]]:
    try:
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                if file.is_file() and file.suffix.lower() in _EXTENSIONS:
                    yield file.relative_to(path).as_posix(), file.read_bytes()
        elif path.suffix.lower() == ".zip":
            yield from _zip_entries(path)
        else:
            yield path.name, path.read_bytes()
    except OSError as error:
        raise CannotRun(f"Cannot read {path}: {error.strerror or error}.") from None


def _zip_entries(path: Path) -> Iterator[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
            for info in sorted(archive.infolist(), key=lambda i: i.filename):
                name = info.filename
                if info.is_dir() or not name.lower().endswith(_EXTENSIONS):
                    continue
                yield name, archive.read(info)
    except zipfile.BadZipFile:
        raise CannotRun(f"{path} is not a readable zip file.") from None


def nested_templates(doc: Document) -> list[Document]:
    """Inner-scope nested templates of a template, innermost first, as Documents.

    The parent keeps a copy of its data with each such template blanked to `{}`, so
    that rules on the parent do not read the inner template's contents again.
    """
    if doc.kind != "template" or not isinstance(doc.data, dict):
        return []
    found: list[Document] = []
    blanked = copy.deepcopy(doc.data)
    for path, holder in _inner_template_holders(blanked, "$"):
        inner = holder["template"]
        holder["template"] = {}
        child = Document(
            doc.name,
            inner,
            "template",
            parent=doc,
            inner_path=f"{path}.template",
        )
        grandchildren = nested_templates(child)
        found.extend(grandchildren)
        found.append(child)
    if found:
        doc.data = blanked
    return found


def _inner_template_holders(
    value: Any, path: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """`properties` of nested deployments with an inline template of inner scope."""
    resources = value.get("resources") if isinstance(value, dict) else None
    items: list[tuple[str, Any]] = []
    if isinstance(resources, list):
        items = [(f"{path}.resources[{i}]", r) for i, r in enumerate(resources)]
    elif isinstance(resources, dict):
        items = [(f"{path}.resources.{k}", r) for k, r in resources.items()]
    for item_path, resource in items:
        if not isinstance(resource, dict):
            continue
        props = resource.get("properties")
        if (
            str(resource.get("type", "")).lower() == "microsoft.resources/deployments"
            and isinstance(props, dict)
            and isinstance(props.get("template"), dict)
            and _is_inner_scope(props)
        ):
            yield f"{item_path}.properties", props
        yield from _inner_template_holders(resource, item_path)


def _is_inner_scope(props: dict[str, Any]) -> bool:
    options = props.get("expressionEvaluationOptions")
    return (
        isinstance(options, dict) and str(options.get("scope", "")).lower() == "inner"
    )
