"""A sandbox that runs the VM bootstrap script offline.

The script sees a fake root (``CCM_ROOT``), an os-release fixture
(``CCM_OS_RELEASE``) and stub ``apt-get``, ``apt-key``, ``curl``, ``gpg`` and
``systemctl`` commands first on ``PATH``; the stubs record their arguments in
``state/calls.log``. The installer it fetches is a real script that records the
arguments and environment it was started with.
"""

from __future__ import annotations

import base64
import io
import os
import shlex
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "arm_templates" / "scripts" / "install-node-agent.sh"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The query string stands in for a SAS token, which must never be logged.
INSTALLER_URL = "https://downloads.example.com/ccm/node-agent-4.31.tar.gz?sig=SASSECRET"
MICROSOFT_KEY_URL = "https://packages.microsoft.com/keys/microsoft.asc"
INTEL_KEY_URL = "https://download.01.org/intel-sgx/sgx_repo/ubuntu/intel-sgx-deb.key"
JOIN_TOKEN = "ccm-join-0123456789abcdef"


def b64(value: str) -> str:
    """Encode a value the way the ARM template's base64() does."""
    return base64.b64encode(value.encode()).decode()


def contract_args(
    *,
    token: str = JOIN_TOKEN,
    attestation: str = "DCAP",
    url: str | None = INSTALLER_URL,
    file: str | None = None,
    sha256: str | None = None,
) -> list[str]:
    """Build the command line the template's commandToExecute passes."""
    args = ["--join-token-b64", b64(token), "--attestation-type", attestation]
    if url is not None:
        args += ["--installer-url-b64", b64(url)]
    if file is not None:
        args += ["--installer-file", file]
    if sha256 is not None:
        args += ["--installer-sha256", sha256]
    return args


@dataclass(frozen=True)
class Run:
    """What one run of the script returned and printed."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def last_stdout_line(self) -> str:
        return _last_line(self.stdout)

    @property
    def last_stderr_line(self) -> str:
        return _last_line(self.stderr)


def make_archive(members: dict[str, bytes], *, top_dir: str | None = None) -> bytes:
    """A gzip'd tar archive of ``members``, optionally with a directory entry."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        if top_dir:
            directory = tarfile.TarInfo(top_dir)
            directory.type = tarfile.DIRTYPE
            directory.mode = 0o755
            archive.addfile(directory)
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def _last_line(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    return lines[-1] if lines else ""


class Sandbox:
    """A temporary VM: fake root, working directory, stubs and served files."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.bin = base / "bin"
        self.root = base / "root"
        self.work = base / "work"
        self.served = base / "served"
        self.state = base / "state"
        self.tmp = base / "tmp"
        for directory in (self.root, self.work, self.served, self.state, self.tmp):
            directory.mkdir()
        shutil.copytree(FIXTURES / "stubs", self.bin)
        self.curl_map = self.state / "curl-map.tsv"
        self.curl_map.touch()
        self.installer_record = self.state / "installer-argv"
        self.os_release = FIXTURES / "os-release" / "ubuntu-20.04"
        self.env: dict[str, str] = {}
        self._served_count = 0

        self.serve(MICROSOFT_KEY_URL, b"-----BEGIN PGP PUBLIC KEY BLOCK-----\nMS\n")
        self.serve(INTEL_KEY_URL, b"-----BEGIN PGP PUBLIC KEY BLOCK-----\nINTEL\n")
        self.serve(INSTALLER_URL, self.installer_archive(top_dir="node-agent-4.31"))

    def use_os(self, name: str) -> None:
        self.os_release = FIXTURES / "os-release" / name

    def serve(self, url: str, content: bytes | None) -> None:
        """Make the curl stub answer ``url`` with ``content``; None means 404."""
        served = ""
        if content is not None:
            self._served_count += 1
            path = self.served / f"{self._served_count}.bin"
            path.write_bytes(content)
            served = str(path)
        with self.curl_map.open("a") as curl_map:
            curl_map.write(f"{url}\t{served}\n")

    def installer_script(self, exit_code: int = 0) -> bytes:
        """An installer.sh that records its argv, directory and environment."""
        record = shlex.quote(str(self.installer_record))
        return (
            "#!/bin/bash\n"
            f"printf '%s\\0' \"$@\" > {record}\n"
            f"pwd > {record}.cwd\n"
            f"env -0 > {record}.env\n"
            "echo 'installer: enrolling this node'\n"
            f"exit {exit_code}\n"
        ).encode()

    def installer_archive(self, *, top_dir: str | None, exit_code: int = 0) -> bytes:
        """A real tar.gz holding installer.sh at its root or under ``top_dir``."""
        prefix = f"{top_dir}/" if top_dir else ""
        members = {
            f"{prefix}installer.sh": self.installer_script(exit_code),
            f"{prefix}node-agent.deb": b"not really a package",
        }
        return make_archive(members, top_dir=top_dir)

    def run(self, args: list[str]) -> Run:
        env = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', os.defpath)}",
            "LANG": "C.UTF-8",
            "TMPDIR": str(self.tmp),
            "CCM_ROOT": str(self.root),
            "CCM_OS_RELEASE": str(self.os_release),
            "CCM_RETRY_DELAY": "0",
            "STUB_STATE": str(self.state),
            "STUB_CURL_MAP": str(self.curl_map),
            **self.env,
        }
        completed = subprocess.run(
            ["bash", str(SCRIPT), *args],
            cwd=self.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    def calls(self, command: str) -> list[list[str]]:
        """The argument lists the stub ``command`` was called with, in order."""
        log = self.state / "calls.log"
        if not log.exists():
            return []
        calls = [line.split("\t") for line in log.read_text().splitlines()]
        return [call[1:] for call in calls if call[0] == command]

    def installed_packages(self) -> list[str]:
        return [
            argument
            for call in self.calls("apt-get")
            if "install" in call
            for argument in call[call.index("install") + 1 :]
        ]

    @property
    def installer_argv(self) -> list[str] | None:
        """The installer's arguments, or None when it never ran."""
        if not self.installer_record.exists():
            return None
        return self.installer_record.read_bytes().decode().split("\0")[:-1]

    @property
    def installer_cwd(self) -> Path:
        return Path(self.installer_record.with_suffix(".cwd").read_text().strip())

    @property
    def installer_environment(self) -> bytes:
        return self.installer_record.with_suffix(".env").read_bytes()

    def root_file(self, path: str) -> Path:
        return self.root / path.lstrip("/")
