"""Importing the deploy command loads no Azure SDK; the entry point runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CANARY_TOKEN

PROBE = """
import json, sys
import {module}
loaded = [name for name in sys.modules if name.split(".")[0] in {banned}]
print(json.dumps(sorted(loaded)))
"""


@pytest.mark.parametrize(
    "module",
    ["ccm_azure.deploy", "ccm_azure.deploy.command", "ccm_azure.deploy.inputs"],
)
def test_importing_does_not_import_the_azure_sdk(module: str) -> None:
    banned = ["azure", "msal", "rich", "jinja2"]
    code = PROBE.format(module=module, banned=banned)

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert json.loads(completed.stdout) == []


def test_the_deploy_help_needs_no_azure_sdk() -> None:
    code = (
        "import sys\n"
        "from ccm_azure.deploy.command import deploy\n"
        "try:\n"
        "    deploy.main(['--help'], prog_name='ccm-azure deploy')\n"
        "except SystemExit:\n"
        "    pass\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'azure'], 'azure'\n"
    )

    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert "--region" in completed.stdout
    assert "-l, --location" in completed.stdout or "--location" in completed.stdout


def test_bad_input_through_the_installed_entry_point(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text(CANARY_TOKEN + "\n")
    arguments = ["deploy", "--region", "westeurope", "--token-file", str(token)]

    completed = subprocess.run(
        [sys.executable, "-m", "ccm_azure", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.count("\n") == 1
    assert completed.stderr.startswith("ccm-azure: error: Region 'westeurope'")
    assert CANARY_TOKEN not in completed.stderr
