"""arm-ttk's own unit-test cases, run through our rules (skipped without ../shared).

Each case of the manifest is one test. A case we knowingly disagree with is listed in
KNOWN_DISAGREEMENTS with the reason, and must keep disagreeing (strict xfail).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccm_azure.validate import conformance
from ccm_azure.validate.api_versions import ApiVersions
from ccm_azure.validate.registry import Settings

ROOT = Path(__file__).resolve().parents[2].parent / "shared/conformance/arm-ttk"

KNOWN_DISAGREEMENTS: dict[str, str] = {
    "Allowed-Values-Should-Actually-Be-Allowed/pass/LocationValueAllowed": (
        "the form's createOrUpdate OptionsGroup offers Create and Update while the "
        "template parameter allows only 'test', a real violation of the rule; arm-ttk "
        "passes the case only because its text matching cannot follow "
        "basics('actionSection').createOrUpdate into a basics section"
    ),
    "Outputs-Must-Be-Present-In-Template-Parameters/warn/OutputIncorrectType": (
        "a case from upstream's Warn folder, which its harness never runs: the output "
        "swarmRootDiskSize names no template parameter, which arm-ttk's own active "
        "check reports as an error too"
    ),
}


def _cases() -> list[dict[str, str]]:
    manifest = ROOT / "manifest.json"
    if not manifest.is_file():
        return []
    cases: list[dict[str, str]] = json.loads(manifest.read_text(encoding="utf-8"))[
        "cases"
    ]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(
        as_of=conformance.RUN_DATE,
        api_versions=ApiVersions.from_file(ROOT / conformance.API_TABLE),
    )


@pytest.mark.skipif(not CASES, reason=f"{ROOT} is not present")
@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(
            case,
            id=case["case"],
            marks=[pytest.mark.xfail(reason=KNOWN_DISAGREEMENTS[case["case"]])]
            if case["case"] in KNOWN_DISAGREEMENTS
            else [],
        )
        for case in CASES
    ],
)
def test_case_agrees_with_arm_ttk(entry: dict[str, str], settings: Settings) -> None:
    outcome = conformance.run_case(ROOT, entry, settings)
    assert outcome.agrees, outcome.detail


def test_runner_prints_the_count(capsys: pytest.CaptureFixture[str]) -> None:
    if not CASES:
        pytest.skip(f"{ROOT} is not present")
    conformance.main([str(ROOT)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.endswith(f"of {len(CASES)} cases agree")
