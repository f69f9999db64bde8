"""The Marketplace zip and the all-or-nothing writes."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from ccm_azure.errors import UserInputError
from ccm_azure.offer import Offer
from ccm_azure.package import build_zip, package_name, write_files
from ccm_azure.render import render_offer


def test_zip_has_both_files_at_the_root(offer: Offer) -> None:
    rendered = render_offer(offer)
    data = build_zip(rendered)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["mainTemplate.json", "createUiDefinition.json"]
        assert archive.read("mainTemplate.json") == rendered.files["mainTemplate.json"]
        assert archive.testzip() is None
    assert package_name(offer) == "ccm-node-agent-1.0.0.zip"


def test_zip_is_byte_identical(offer: Offer) -> None:
    assert build_zip(render_offer(offer)) == build_zip(render_offer(offer))


def test_zip_ships_the_installer_artifact(offer: Offer, tmp_path: Path) -> None:
    archive = tmp_path / "agent-installer.tar.gz"
    archive.write_bytes(b"\x1f\x8b installer bytes")
    rendered = render_offer(offer.with_archive(archive))
    with zipfile.ZipFile(io.BytesIO(build_zip(rendered))) as package:
        assert package.namelist() == [
            "mainTemplate.json",
            "createUiDefinition.json",
            "artifacts/agent-installer.tar.gz",
        ]
        assert package.read("artifacts/agent-installer.tar.gz") == archive.read_bytes()


def test_write_files_leaves_nothing_half_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = write_files(out, {"a.json": b"{}\n", "b.json": b"[]\n"})
    assert [p.name for p in written] == ["a.json", "b.json"]
    assert sorted(p.name for p in out.iterdir()) == ["a.json", "b.json"]


def test_write_files_refuses_a_file_as_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "dist"
    blocker.write_text("I am a file")
    with pytest.raises(UserInputError, match="--out"):
        write_files(blocker, {"a.json": b"{}"})
    assert blocker.read_text() == "I am a file"


def test_write_files_cleans_up_when_one_file_fails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.json").mkdir()  # a folder where a file must go: os.replace fails
    with pytest.raises(UserInputError, match="other than a file"):
        write_files(out, {"a.json": b"{}", "b.json": b"[]"})
    leftovers = sorted(p.name for p in out.iterdir())
    assert leftovers == ["b.json"]
