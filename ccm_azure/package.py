"""The Marketplace package: a zip with both files at its root and the shipped artifacts.

The zip is byte-identical for the same inputs (fixed entry order, timestamps and
permissions), and every file is written next to its final name first and then moved
into place, so a failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from ccm_azure.errors import UserInputError
from ccm_azure.offer import Offer
from ccm_azure.render import MAIN_TEMPLATE, UI_DEFINITION, RenderedOffer

LOGGER = logging.getLogger(__name__)

# Partner Center refuses a package over 1 GB, and any single file over 1 GB.
MAX_PACKAGE_BYTES = 1024**3
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def package_name(offer: Offer) -> str:
    return f"ccm-node-agent-{offer.version}.zip"


def build_zip(rendered: RenderedOffer) -> bytes:
    """The zip's bytes: the two JSON files first, then the artifacts by path."""
    entries: dict[str, bytes] = {
        MAIN_TEMPLATE: rendered.files[MAIN_TEMPLATE],
        UI_DEFINITION: rendered.files[UI_DEFINITION],
    }
    for name, source in sorted(rendered.artifacts.items()):
        if source.stat().st_size > MAX_PACKAGE_BYTES:
            raise UserInputError(
                f"Artifact {source} is larger than 1 GB, which Partner Center refuses."
            )
        entries[name] = source.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # Unix, so the permissions above are read back
            archive.writestr(info, data)
    data = buffer.getvalue()
    if len(data) > MAX_PACKAGE_BYTES:
        raise UserInputError(
            "The package is larger than 1 GB, which Partner Center refuses."
        )
    return data


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write every file or none: all are staged first, then moved into place."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserInputError(
            f"Cannot create output folder {out_dir}: {error.strerror}; choose another "
            "with --out."
        ) from None
    for name in files:
        target = out_dir / name
        if target.exists() and not target.is_file():
            raise UserInputError(
                f"Cannot write {target}: something other than a file is there; "
                "remove it or choose another folder with --out."
            )
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            handle, temp_name = tempfile.mkstemp(
                dir=out_dir, prefix=f".{name}.", suffix=".tmp"
            )
            staged.append((name, Path(temp_name)))
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temp_name, 0o644)
        written = []
        for name, staged_path in staged:
            target = out_dir / name
            os.replace(staged_path, target)
            LOGGER.info("Wrote %s", target)
            written.append(target)
        return written
    except OSError as error:
        for _, staged_path in staged:
            staged_path.unlink(missing_ok=True)
        raise UserInputError(
            f"Cannot write to {out_dir}: {error.strerror}; choose another folder with "
            "--out."
        ) from None
