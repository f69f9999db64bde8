"""Join token, subscription, SSH key, password and names: checked before any request."""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path

import pytest
from conftest import CANARY_TOKEN, SSH_PUBLIC_KEY

from ccm_azure import offer as offer_module
from ccm_azure.deploy import inputs
from ccm_azure.errors import UserInputError

SUBSCRIPTION = "3F2B8C1D-9A4E-4F60-8B7D-2C5E1A9F0D43"


def ssh_line(*fields: bytes, comment: str = "me@host") -> str:
    blob = b"".join(struct.pack(">I", len(field)) + field for field in fields)
    return f"{fields[0].decode()} {base64.b64encode(blob).decode()} {comment}"


def rsa_key(bits: int) -> str:
    modulus = (1 << (bits - 1)) | 1
    return ssh_line(b"ssh-rsa", b"\x01\x00\x01", modulus.to_bytes(bits // 8 + 1, "big"))


# --- join token ---------------------------------------------------------------------


def test_token_flag_wins(tmp_path: Path) -> None:
    assert inputs.read_join_token(CANARY_TOKEN, None, environ={}) == CANARY_TOKEN


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_token_file_loses_one_trailing_newline(tmp_path: Path, ending: str) -> None:
    path = tmp_path / "token"
    path.write_bytes((CANARY_TOKEN + ending).encode())

    assert inputs.read_join_token(None, path, environ={}) == CANARY_TOKEN


def test_token_file_with_two_newlines_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(CANARY_TOKEN + "\n\n")

    with pytest.raises(UserInputError, match="white space") as caught:
        inputs.read_join_token(None, path, environ={})
    assert CANARY_TOKEN not in str(caught.value)


def test_missing_token_file(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="does not exist"):
        inputs.read_join_token(None, tmp_path / "nope", environ={})


def test_a_token_file_path_is_never_quoted(tmp_path: Path) -> None:
    for path in (Path(CANARY_TOKEN), Path(CANARY_TOKEN * 200), tmp_path):
        with pytest.raises(UserInputError) as caught:
            inputs.read_join_token(None, path, environ={})
        assert CANARY_TOKEN not in str(caught.value)
        assert "--token-file" in str(caught.value)


def test_one_byte_order_mark_leaves_a_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_bytes(b"\xef\xbb\xbf" + CANARY_TOKEN.encode() + b"\r\n")

    assert inputs.read_join_token(None, path, environ={}) == CANARY_TOKEN


def test_a_byte_order_mark_outside_a_token_file_is_refused() -> None:
    token = "\ufeff" + CANARY_TOKEN

    with pytest.raises(UserInputError, match="not printable ASCII"):
        inputs.read_join_token(token, None, environ={})
    with pytest.raises(UserInputError, match="not printable ASCII"):
        inputs.read_join_token(None, None, environ={inputs.TOKEN_ENV: token})


def test_the_token_check_is_the_offers_pattern() -> None:
    pattern = re.compile(offer_module.JOIN_TOKEN_PATTERN)
    samples = [
        CANARY_TOKEN,
        "x" * 16,
        "x" * 8192,
        "x" * 15,
        "x" * 8193,
        CANARY_TOKEN + "\n",
        CANARY_TOKEN + "\x00",
        "\ufeff" + CANARY_TOKEN,
        CANARY_TOKEN + "\u00e9",
        "~!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}",
    ]
    for token in samples:
        accepted = pattern.fullmatch(token) is not None
        try:
            inputs.check_join_token(token, "--token")
        except UserInputError as error:
            assert not accepted, token
            assert token.strip() not in str(error)
        else:
            assert accepted, token


def test_token_flag_and_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="not both"):
        inputs.read_join_token(CANARY_TOKEN, tmp_path / "t", environ={})


def test_token_from_the_environment() -> None:
    environ = {inputs.TOKEN_ENV: CANARY_TOKEN}

    assert inputs.read_join_token(None, None, environ=environ) == CANARY_TOKEN


def test_token_is_asked_for_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[bool] = []

    def prompt(text: str, **options: object) -> str:
        asked.append(bool(options.get("hide_input")))
        return CANARY_TOKEN

    monkeypatch.setattr(inputs, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(inputs.click, "prompt", prompt)

    assert inputs.read_join_token(None, None, environ={}) == CANARY_TOKEN
    assert asked == [True]


def test_no_token_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "stdin_is_terminal", lambda: False)

    with pytest.raises(UserInputError, match="CCM_JOIN_TOKEN"):
        inputs.read_join_token(None, None, environ={})


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("\t\n", "empty"),
        ("CANARY-JOIN TOKEN-9f27c1", "white space"),
        ("CANARY-JOIN-TOKEN-9f27c1\u00a0", "white space"),
        ("short", "characters"),
        ("\ufeffCANARY-JOIN-TOKEN-9f27c1", "not printable ASCII"),
        ("CANARY-JOIN-TOKEN-9f27c1\x00", "not printable ASCII"),
        ("CANARY-JOIN-TOKEN-9f27c1\x1b[0m", "not printable ASCII"),
        ("CANARY-JOIN-TOKEN-9f27c1\u200b", "not printable ASCII"),
    ],
)
def test_bad_tokens_are_refused_without_quoting_them(token: str, reason: str) -> None:
    with pytest.raises(UserInputError, match=reason) as caught:
        inputs.check_join_token(token, "--token")
    if token.strip():
        assert token.strip() not in str(caught.value)
    assert "\n" not in str(caught.value)


# --- subscription -------------------------------------------------------------------


def test_subscription_flag_then_environment() -> None:
    environ = {inputs.SUBSCRIPTION_ENV: "00000000-0000-0000-0000-000000000001"}

    assert inputs.resolve_subscription(SUBSCRIPTION, environ=environ) == (
        SUBSCRIPTION.lower()
    )
    assert inputs.resolve_subscription(None, environ=environ).endswith("0001")


def test_missing_subscription() -> None:
    with pytest.raises(UserInputError, match="--subscription ID or set AZURE_SUB"):
        inputs.resolve_subscription(None, environ={})


def test_subscription_name_is_refused() -> None:
    with pytest.raises(UserInputError, match="AZURE_SUBSCRIPTION_ID is not a sub"):
        inputs.resolve_subscription(None, environ={inputs.SUBSCRIPTION_ENV: "Prod"})


def test_an_empty_subscription_flag_is_refused_not_defaulted() -> None:
    environ = {inputs.SUBSCRIPTION_ENV: "00000000-0000-0000-0000-000000000001"}

    with pytest.raises(UserInputError, match="--subscription is empty"):
        inputs.resolve_subscription("", environ=environ)


# --- SSH key ------------------------------------------------------------------------


def test_default_key_prefers_ed25519(tmp_path: Path) -> None:
    folder = tmp_path / ".ssh"
    folder.mkdir()
    (folder / "id_rsa.pub").write_text(rsa_key(3072) + "\n")
    (folder / "id_ed25519.pub").write_text(SSH_PUBLIC_KEY + "\n")

    assert inputs.read_ssh_key(None, home=tmp_path) == SSH_PUBLIC_KEY


def test_default_key_falls_back_to_rsa(tmp_path: Path) -> None:
    folder = tmp_path / ".ssh"
    folder.mkdir()
    (folder / "id_rsa.pub").write_text(rsa_key(3072) + "\n")

    assert inputs.read_ssh_key(None, home=tmp_path).startswith("ssh-rsa ")


def test_no_key_at_all(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="ssh-keygen -t ed25519"):
        inputs.read_ssh_key(None, home=tmp_path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "private key"),
        ("", "not an OpenSSH public key"),
        ("ssh-ed25519\n", "not an OpenSSH public key"),
        ("ssh-ed25519 not-base64!! me", "not an OpenSSH public key"),
        (SSH_PUBLIC_KEY.replace("ssh-ed25519", "ssh-rsa", 1), "not an OpenSSH"),
        (ssh_line(b"ecdsa-sha2-nistp256", b"nistp256", b"\x04" * 65), "accepts only"),
        (rsa_key(1024), "shorter than 2048"),
        (SSH_PUBLIC_KEY + "\n" + SSH_PUBLIC_KEY, "2 lines"),
    ],
)
def test_bad_keys_are_refused(text: str, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "key.pub"
    path.write_text(text)

    with pytest.raises(UserInputError, match=reason):
        inputs.read_ssh_key(path)


def test_a_key_without_comment_is_fine() -> None:
    line = " ".join(SSH_PUBLIC_KEY.split()[:2])

    assert inputs.check_ssh_key(line + "\n", "key") == line


# --- password -------------------------------------------------------------------------


def test_password_from_the_environment() -> None:
    environ = {inputs.PASSWORD_ENV: "Correct-Horse-42"}

    assert inputs.read_admin_password(environ=environ) == "Correct-Horse-42"


@pytest.mark.parametrize(
    "password", ["short1A!", "alllowercaseletters", "NoDigitsOrSigns"]
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(UserInputError, match="Azure's rules") as caught:
        inputs.check_admin_password(password, "CCM_ADMIN_PASSWORD")
    assert password not in str(caught.value)


def test_no_password_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "stdin_is_terminal", lambda: False)

    with pytest.raises(UserInputError, match="CCM_ADMIN_PASSWORD"):
        inputs.read_admin_password(environ={})


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ccm-node", "n", "Node2", "a" * 54])
def test_good_vm_names(name: str) -> None:
    assert inputs.check_vm_name(name) == name


@pytest.mark.parametrize("name", ["", "-node", "node-", "node_1", "a" * 55, "nö"])
def test_bad_vm_names(name: str) -> None:
    with pytest.raises(UserInputError, match="VM name"):
        inputs.check_vm_name(name)


def test_names_derive_from_the_vm_and_the_region() -> None:
    assert inputs.deployment_name("ccm-node") == "ccm-azure-ccm-node"
    assert len(inputs.deployment_name("a" * 54)) <= 64
    assert inputs.default_resource_group("eastus") == "ccm-node-eastus"


@pytest.mark.parametrize("name", ["rg.", "", "a/b", "x" * 91])
def test_bad_resource_groups(name: str) -> None:
    with pytest.raises(UserInputError, match="Resource group"):
        inputs.check_resource_group(name)


@pytest.mark.parametrize("prefix", ["", "203.0.113.7", "203.0.113.0/24"])
def test_good_ssh_sources(prefix: str) -> None:
    assert inputs.check_ssh_source(prefix) == prefix


@pytest.mark.parametrize("prefix", ["*", "0.0.0.0/0", "Internet", "300.1.1.1"])
def test_bad_ssh_sources(prefix: str) -> None:
    with pytest.raises(UserInputError, match="SSH source"):
        inputs.check_ssh_source(prefix)


@pytest.mark.parametrize("prefix", ["*", "0.0.0.0/0", "Internet"])
def test_ssh_open_to_everyone_is_called_that(prefix: str) -> None:
    with pytest.raises(UserInputError, match="would open SSH to everyone"):
        inputs.check_ssh_source(prefix)


def test_a_token_file_that_is_a_folder_is_refused_without_its_path(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "CANARY-JOIN-TOKEN-9f27c1"
    folder.mkdir()

    with pytest.raises(UserInputError) as refused:
        inputs.read_join_token(None, folder)

    assert "Cannot read the file given to --token-file" in str(refused.value)
    assert folder.name not in str(refused.value)


def test_a_key_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "id_ed25519.pub"
    path.write_bytes(b"\xef\xbb\xbf" + SSH_PUBLIC_KEY.encode() + b"\n")

    assert inputs.read_ssh_key(path) == SSH_PUBLIC_KEY


# --- labels from the command line -----------------------------------------------------


def test_the_same_label_twice_is_named_as_given_twice() -> None:
    with pytest.raises(UserInputError, match="Label key 'env' is given twice"):
        offer_module.parse_labels(["env:prod", "env:prod"])
    with pytest.raises(UserInputError, match="Label key 'env' is given twice"):
        offer_module.parse_labels(["env:prod", "env:test"])
    with pytest.raises(UserInputError, match="differ only in case"):
        offer_module.parse_labels(["env:prod", "Env:prod"])


@pytest.mark.parametrize(
    "text", ["env:prod\n", "env:pr\nod", "env:a\tb", "env:\x00", "e\x1bnv:prod"]
)
def test_control_characters_in_labels_are_refused(text: str) -> None:
    with pytest.raises(UserInputError, match="control character") as caught:
        offer_module.parse_labels([text])
    assert "\n" not in str(caught.value)


def test_the_label_value_pattern_is_applied() -> None:
    value = re.compile(offer_module.LABEL_VALUE_PATTERN)

    assert value.fullmatch("prod") and not value.fullmatch("prod\n")
    assert offer_module.parse_labels(["env:pr od", "team:a:b"]) == {
        "env": "pr od",
        "team": "a:b",
    }
