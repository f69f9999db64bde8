"""`ccm-azure api-versions`, replayed from the providers-list cassette."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ccm_azure.cli import main_group
from ccm_azure.deploy.command import DeploySettings

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "validate"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


class FakeCredential:
    """Hands out a fake token without any HTTP."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", 4_102_444_800)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-token", 4_102_444_800)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return {
        "filter_headers": ["authorization", "x-ms-client-request-id", "user-agent"],
        "match_on": ("method", "scheme", "host", "port", "path", "query"),
        "allow_playback_repeats": False,
    }


@pytest.mark.vcr(record_mode="none")
@pytest.mark.default_cassette("refresh_api_versions.yaml")
def test_writes_a_table_validate_reads(tmp_path: Path, vcr: Any) -> None:
    out = tmp_path / "api-versions.json"
    result = CliRunner().invoke(
        main_group,
        ["api-versions", "--subscription", SUBSCRIPTION, "--out", str(out)],
        obj=DeploySettings(credential_factory=FakeCredential, polling_interval=0),
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Wrote ")
    table = json.loads(out.read_text())
    assert "2026-03-01" in table["microsoft.compute/virtualmachines"]
    assert "ccm-azure api-versions" in table["$comment"]
    assert vcr.all_played

    from ccm_azure.validate.api_versions import ApiVersions

    assert ApiVersions.from_file(out).versions("microsoft.compute/virtualmachines")


def test_needs_a_subscription(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    from ccm_azure.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["api-versions", "--out", str(tmp_path / "t.json")])
    assert exited.value.code == 2
    assert not (tmp_path / "t.json").exists()
