"""The offline commands, run the way a user runs them: a new process each time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ccm_azure", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_build_writes_both_files_and_the_zip(tmp_path: Path) -> None:
    result = run("build", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    dist = tmp_path / "dist"
    assert sorted(p.name for p in dist.iterdir()) == [
        "ccm-node-agent-1.0.0.zip",
        "createUiDefinition.json",
        "mainTemplate.json",
    ]
    assert re.search(r"Checks: \d+ rules, 0 errors, 0 warnings\.", result.stdout)
    assert "notice: the offer names no node-agent installer" in result.stderr
    with zipfile.ZipFile(dist / "ccm-node-agent-1.0.0.zip") as package:
        assert (
            package.read("mainTemplate.json")
            == (dist / "mainTemplate.json").read_bytes()
        )
    json.loads((dist / "createUiDefinition.json").read_text())


def test_build_is_byte_identical_from_run_to_run(tmp_path: Path) -> None:
    assert run("build", "--out", str(tmp_path / "a")).returncode == 0
    assert run("build", "--out", str(tmp_path / "b")).returncode == 0
    for name in (
        "mainTemplate.json",
        "createUiDefinition.json",
        "ccm-node-agent-1.0.0.zip",
    ):
        assert (tmp_path / "a" / name).read_bytes() == (
            tmp_path / "b" / name
        ).read_bytes()


def test_build_with_an_offer_file(tmp_path: Path) -> None:
    offer = tmp_path / "offer.toml"
    offer.write_text(
        '[installer]\nurl = "https://downloads.example.org/agent.tar.gz"\n'
        '[vm]\ndefault_size = "Standard_DC4ds_v3"\n'
    )
    result = run("build", "--offer", str(offer), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    assert "notice" not in result.stderr
    template = json.loads((tmp_path / "o" / "mainTemplate.json").read_text())
    assert template["parameters"]["vmSize"]["defaultValue"] == "Standard_DC4ds_v3"


@pytest.mark.parametrize(
    ("offer_text", "expected"),
    [
        ('[vm]\nsizes = ["Standard_DC2as_v5"]\n', "AMD SEV-SNP"),
        ("[vm]\nsise = 1\n", "unknown key 'vm.sise'"),
        ("[[[", "not valid TOML"),
        (None, "does not exist"),
    ],
)
def test_bad_offer_file_is_one_line_and_writes_nothing(
    tmp_path: Path, offer_text: str | None, expected: str
) -> None:
    offer = tmp_path / "offer.toml"
    if offer_text is not None:
        offer.write_text(offer_text)
    out = tmp_path / "out"
    result = run("build", "--offer", str(offer), "--out", str(out))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ccm-azure: error: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_render_and_package_on_their_own(tmp_path: Path) -> None:
    rendered = run("render", "--out", str(tmp_path / "r"))
    assert rendered.returncode == 0, rendered.stderr
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "createUiDefinition.json",
        "mainTemplate.json",
    ]
    packaged = run("package", "--out", str(tmp_path / "p"))
    assert packaged.returncode == 0, packaged.stderr
    assert [p.name for p in (tmp_path / "p").iterdir()] == ["ccm-node-agent-1.0.0.zip"]


def test_package_with_installer_archive(tmp_path: Path) -> None:
    archive = tmp_path / "installer.tar.gz"
    archive.write_bytes(b"\x1f\x8barchive")
    result = run("build", "--installer", str(archive), "--out", str(tmp_path / "o"))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "o" / "ccm-node-agent-1.0.0.zip") as package:
        assert "artifacts/installer.tar.gz" in package.namelist()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["build", "--nope"], "No such option"),
        (["build", "--out", ""], "give a folder name"),
        (["nosuchcommand"], "No such command"),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ccm-azure: error: ")
    assert expected in result.stderr


def test_verbose_logs_the_steps(tmp_path: Path) -> None:
    result = run("--verbose", "render", "--out", str(tmp_path))
    assert result.returncode == 0
    assert "INFO ccm_azure.build: Rendered mainTemplate.json" in result.stderr
    assert "notice: the offer names no node-agent installer" in result.stderr
    assert result.stdout.splitlines() == [
        str(tmp_path / "mainTemplate.json"),
        str(tmp_path / "createUiDefinition.json"),
    ]


def test_package_also_says_the_installer_is_missing(tmp_path: Path) -> None:
    result = run("package", "--out", str(tmp_path))
    assert result.returncode == 0
    assert "notice: the offer names no node-agent installer" in result.stderr


@pytest.mark.parametrize(
    "args", [["--help"], ["build", "--out", "{tmp}"], ["render", "--out", "{tmp}"]]
)
def test_offline_commands_do_not_import_the_azure_sdk(
    tmp_path: Path, args: list[str]
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code = (
        "import sys\n"
        "from ccm_azure.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'azure')\n"
        "print('AZURE:', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "AZURE: []" in result.stdout, result.stdout + result.stderr


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("build", "render", "package", "deploy"):
        assert f"  {command}" in result.stdout


def test_no_command_shows_the_help_not_an_error() -> None:
    result = run()

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: ccm-azure [OPTIONS] COMMAND [ARGS]...")
    assert "Commands:" in result.stderr
    assert "error" not in result.stderr.splitlines()[0]
