"""The deploy command's inputs that the offer does not decide.

The join token, the subscription, the VM's sign-in (an SSH public key, or a password)
and the names of what gets created. Each comes from a flag, an environment variable or
a file, is checked here before anything talks to Azure, and a bad one gives one line
that says how to fix it. Error messages never quote the join token or the password.

This module imports nothing from the Azure SDK.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import click

from ccm_azure import offer as offer_module
from ccm_azure.errors import UserInputError

TOKEN_ENV = "CCM_JOIN_TOKEN"  # noqa: S105 - the name of a variable, not a secret
PASSWORD_ENV = "CCM_ADMIN_PASSWORD"  # noqa: S105
SUBSCRIPTION_ENV = "AZURE_SUBSCRIPTION_ID"

DEFAULT_VM_NAME = "ccm-node"
DEFAULT_KEY_FILES = ("id_ed25519.pub", "id_rsa.pub")
SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa")
"""The OpenSSH key types Azure accepts for Linux VMs."""
MIN_RSA_BITS = 2048

_GUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_VM_NAME = re.compile(offer_module.VM_NAME_PATTERN)
_RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]")
_SSH_KEY_LINE = re.compile(r"^(\S+)\s+([A-Za-z0-9+/]+={0,2})(?:\s+(.*))?$")
_SSH_SOURCE = re.compile(offer_module.SSH_SOURCE_PATTERN)
_JOIN_TOKEN = re.compile(offer_module.JOIN_TOKEN_PATTERN)
BOM = "\ufeff"


def stdin_is_terminal() -> bool:
    """Whether a hidden prompt can be shown (a person is at the keyboard)."""
    return sys.stdin is not None and sys.stdin.isatty()


# --- join token ---------------------------------------------------------------------


def read_join_token(
    token: str | None,
    token_file: Path | None,
    *,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """The join token from --token, --token-file, CCM_JOIN_TOKEN or a hidden prompt."""
    if token is not None and token_file is not None:
        raise UserInputError(
            "Give the join token once: --token or --token-file, not both."
        )
    if token is not None:
        return check_join_token(token, "--token")
    if token_file is not None:
        return check_join_token(_read_token_file(token_file), "--token-file")
    if TOKEN_ENV in environ:
        return check_join_token(environ[TOKEN_ENV], TOKEN_ENV)
    if stdin_is_terminal():
        entered = click.prompt(
            "Join token (from the CCM console)", hide_input=True, err=True
        )
        return check_join_token(str(entered), "the prompt")
    raise UserInputError(
        f"No join token given; pass --token-file FILE or set {TOKEN_ENV} (copy the "
        "token from the CCM console: Compute Nodes, Enroll node)."
    )


def _unreadable(error: Exception) -> str:
    """Why a file could not be read, in plain words."""
    if isinstance(error, UnicodeDecodeError):
        return "it is not UTF-8 text"
    return getattr(error, "strerror", None) or type(error).__name__


def _read_token_file(path: Path) -> str:
    # The path is never quoted: a token pasted after --token-file by mistake would
    # otherwise end up in the error line.
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(
            "The file given to --token-file does not exist; pass the path of a file "
            "that holds the join token (not the token itself)."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = _unreadable(error)
        raise UserInputError(
            f"Cannot read the file given to --token-file ({reason}); pass the path "
            "of a text file that holds the join token."
        ) from None
    # Notepad and other Windows editors start UTF-8 files with a byte-order mark.
    text = text.removeprefix(BOM)
    for ending in ("\r\n", "\n"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text


def check_join_token(token: str, source: str) -> str:
    """`token` if the offer's join-token pattern takes it; the error never quotes it."""
    if _JOIN_TOKEN.fullmatch(token):
        return token
    raise UserInputError(
        f"The join token from {source} {_why_not_a_token(token)}; copy it again from "
        "the CCM console (Compute Nodes, Enroll node)."
    )


def _why_not_a_token(token: str) -> str:
    if not token.strip():
        return "is empty"
    if any(character.isspace() for character in token):
        return "contains white space, so it is not one token"
    if not all(" " < character <= "~" for character in token):
        return (
            "contains a character that is not printable ASCII (an invisible one such "
            "as a byte-order mark or NUL, or a letter outside ASCII)"
        )
    low, high = offer_module.JOIN_TOKEN_MIN_LENGTH, offer_module.JOIN_TOKEN_MAX_LENGTH
    return f"has {len(token)} characters, but join tokens have {low} to {high}"


# --- subscription -------------------------------------------------------------------


def resolve_subscription(
    value: str | None, *, environ: Mapping[str, str] = os.environ
) -> str:
    """The subscription id from --subscription, else AZURE_SUBSCRIPTION_ID."""
    # Limitation: only ids are taken. az also takes subscription names, which would
    # need a call to the Subscriptions API before any check could fail offline.
    source = "--subscription"
    if value is not None and not value.strip():
        raise UserInputError(
            "--subscription is empty; give a subscription id, or leave the option out "
            f"to use {SUBSCRIPTION_ENV}."
        )
    chosen = (value or "").strip()
    if not chosen:
        source = SUBSCRIPTION_ENV
        chosen = environ.get(SUBSCRIPTION_ENV, "").strip()
    if not chosen:
        raise UserInputError(
            f"No Azure subscription given; pass --subscription ID or set "
            f"{SUBSCRIPTION_ENV} (`az account show --query id -o tsv` prints the "
            "current one)."
        )
    if not _GUID.fullmatch(chosen):
        raise UserInputError(
            f"Subscription '{chosen}' from {source} is not a subscription id; give "
            "its id (a GUID), as listed by `az account list -o table`."
        )
    return chosen.lower()


# --- VM sign-in ---------------------------------------------------------------------


def read_ssh_key(path: Path | None, *, home: Path | None = None) -> str:
    """The OpenSSH public key line from `path`, else from ~/.ssh."""
    if path is None:
        folder = (home or Path.home()) / ".ssh"
        found = [
            folder / name for name in DEFAULT_KEY_FILES if (folder / name).is_file()
        ]
        if not found:
            raise UserInputError(
                f"No SSH public key found ({', '.join(DEFAULT_KEY_FILES)} in "
                f"{folder}); pass --ssh-key FILE, create a key with `ssh-keygen -t "
                "ed25519`, or use --admin-password."
            )
        path = found[0]
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(
            f"SSH key file {path} does not exist; check the path given to --ssh-key."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = _unreadable(error)
        raise UserInputError(
            f"Cannot read SSH key file {path} ({reason}); pass an OpenSSH public key "
            "file (.pub)."
        ) from None
    return check_ssh_key(text.removeprefix(BOM), str(path))


def check_ssh_key(text: str, source: str) -> str:
    """The one OpenSSH public key line in `text`, if Azure will accept it."""
    if "PRIVATE KEY" in text:
        raise UserInputError(
            f"{source} is a private key; pass the public key (the .pub file beside "
            "it) to --ssh-key."
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    not_a_key = (
        f"{source} is not an OpenSSH public key line ('ssh-ed25519 AAAA...' or "
        "'ssh-rsa AAAA...'); pass the .pub file that `ssh-keygen` wrote."
    )
    if len(lines) != 1:
        if len(lines) > 1:
            raise UserInputError(
                f"{source} holds {len(lines)} lines; pass a file with exactly one "
                "OpenSSH public key."
            )
        raise UserInputError(not_a_key)
    match = _SSH_KEY_LINE.match(lines[0])
    if not match:
        raise UserInputError(not_a_key)
    key_type, encoded = match.group(1), match.group(2)
    if key_type not in SSH_KEY_TYPES:
        raise UserInputError(
            f"{source} holds a {key_type} key; Azure accepts only "
            f"{' and '.join(SSH_KEY_TYPES)} keys for Linux VMs (`ssh-keygen -t "
            "ed25519`)."
        )
    try:
        fields = _ssh_fields(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        raise UserInputError(not_a_key) from None
    if not fields or fields[0] != key_type.encode():
        raise UserInputError(not_a_key)
    if key_type == "ssh-rsa" and (len(fields) < 3 or _bits(fields[2]) < MIN_RSA_BITS):
        raise UserInputError(
            f"{source} is an RSA key shorter than {MIN_RSA_BITS} bits, which Azure "
            "refuses; create a new key with `ssh-keygen -t ed25519`."
        )
    return lines[0]


def _ssh_fields(blob: bytes) -> list[bytes]:
    """The length-prefixed fields of an SSH public key blob (RFC 4253, section 6.6)."""
    fields: list[bytes] = []
    offset = 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError("truncated length")
        size = int.from_bytes(blob[offset : offset + 4], "big")
        offset += 4
        if offset + size > len(blob):
            raise ValueError("truncated field")
        fields.append(blob[offset : offset + size])
        offset += size
    return fields


def _bits(number: bytes) -> int:
    return int.from_bytes(number, "big").bit_length()


def read_admin_password(*, environ: Mapping[str, str] = os.environ) -> str:
    """The VM administrator password from CCM_ADMIN_PASSWORD or a hidden prompt."""
    if PASSWORD_ENV in environ:
        return check_admin_password(environ[PASSWORD_ENV], PASSWORD_ENV)
    if stdin_is_terminal():
        entered = click.prompt(
            "VM administrator password",
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
        return check_admin_password(str(entered), "the prompt")
    raise UserInputError(
        f"--admin-password needs the password in {PASSWORD_ENV}, or a terminal to "
        "ask for it; set the variable or use an SSH key instead."
    )


def check_admin_password(password: str, source: str) -> str:
    """`password` if Azure's rules for Linux VM passwords accept it."""
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if not 12 <= len(password) <= 72 or classes < 3:
        raise UserInputError(
            f"The password from {source} does not meet Azure's rules: 12 to 72 "
            "characters with three of lower case, upper case, digits and symbols."
        )
    return password


# --- names --------------------------------------------------------------------------


def check_vm_name(name: str) -> str:
    """`name` if it can be the VM's name and host name."""
    if not _VM_NAME.fullmatch(name):
        raise UserInputError(
            f"VM name '{name}' is not valid; use 1 to "
            f"{offer_module.VM_NAME_MAX_LENGTH} letters, digits and hyphens, "
            "starting and ending with a letter or digit."
        )
    return name


def deployment_name(vm_name: str) -> str:
    """The ARM deployment name for a node; the same VM always gets the same one."""
    return f"ccm-azure-{vm_name}"


def node_names(vm_name: str, count: int) -> tuple[str, ...]:
    """The VM names of a deployment of `count` nodes, as the template names them.

    One node keeps the name it was given, so that an existing node deployed again is
    updated in place; more are numbered from 1.
    """
    if count == 1:
        return (vm_name,)
    return tuple(f"{vm_name}-{index}" for index in range(1, count + 1))


def default_resource_group(region: str) -> str:
    """The resource group used when -g is not given: one per region."""
    return f"ccm-node-{region}"


def check_resource_group(name: str) -> str:
    """`name` if Azure allows it as a resource group name."""
    if not _RESOURCE_GROUP.fullmatch(name):
        raise UserInputError(
            f"Resource group name '{name}' is not valid; use up to 90 letters, digits, "
            "'_', '-', '.', '(' and ')', not ending in '.'."
        )
    return name


def check_ssh_source(prefix: str) -> str:
    """`prefix` if it can open SSH: empty (no SSH rule) or one IPv4 address/prefix."""
    prefix = prefix.strip()
    if prefix.lower() in {"0.0.0.0/0", "0.0.0.0", "*", "any", "internet"}:  # noqa: S104
        raise UserInputError(
            f"SSH source '{prefix}' would open SSH to everyone, which the node never "
            "does; give your own address or prefix (such as 203.0.113.7 or "
            "203.0.113.0/24)."
        )
    if not _SSH_SOURCE.fullmatch(prefix):
        raise UserInputError(
            f"SSH source '{prefix}' is not one IPv4 address or a prefix of /8 or "
            "longer (such as 203.0.113.7 or 203.0.113.0/24); shorter prefixes would "
            "open SSH to most of the internet."
        )
    return prefix
