"""Run arm-ttk's own unit-test cases against our rules and count how many agree.

The cases come from Azure/arm-ttk's unit tests, with a manifest naming for each one the
test to run and the expected result. They are run as upstream runs them: only the named
test; a pass case must run that test on at least one file and get no error from it; a
fail case must get at least one error, and where a `.should.be.txt` file names an error
id or message, every error must carry it. Warnings never count.

    python -m ccm_azure.validate.conformance [PATH-TO/arm-ttk] [--verbose]

prints `N of M cases agree` and lists every disagreement. The apiVersion tests are run
with the table and the date upstream's expectations were written against.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ccm_azure.validate import check, files
from ccm_azure.validate.api_versions import ApiVersions
from ccm_azure.validate.registry import BY_ARM_TTK, Settings

DEFAULT_ROOT = Path(__file__).resolve().parents[2].parent / "shared/conformance/arm-ttk"
# Upstream's expectations hold on the day the arm-ttk snapshot was taken.
RUN_DATE = datetime.date(2026, 2, 13)
API_TABLE = "_support/module-cache-2023-11-13/AllAzureResources.cache.json"


@dataclasses.dataclass(frozen=True)
class Outcome:
    test: str
    case: str
    expect: str
    agrees: bool
    detail: str


def expected_error(case_path: Path) -> str | None:
    """The error id or message a `.should.be.txt` beside the case demands, if any."""
    stem = case_path.name
    for suffix in (".jsonc", ".json"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    marker = case_path.with_name(stem + ".should.be.txt")
    if marker.is_file():
        return marker.read_text(encoding="utf-8-sig").strip()
    return None


def run_case(root: Path, entry: dict[str, str], settings: Settings) -> Outcome:
    test, case, expect = entry["test"], entry["case"], entry["expect"]
    rule = BY_ARM_TTK.get(test.lower())
    if rule is None:
        return Outcome(test, case, expect, False, "no rule implements this test")
    path = root / case
    package = files.load(path)
    ran = any(rule.applies_to(d, package) for d in package.documents)
    findings = check(package, settings, only=[rule])
    errors = [f for f in findings if f.level == "error"]
    if expect == "pass":
        if not ran:
            return Outcome(test, case, expect, False, "the rule ran on no file")
        if errors:
            first = errors[0]
            detail = f"{len(errors)} error(s), first: {first.path}: {first.message}"
            return Outcome(test, case, expect, False, detail)
        return Outcome(test, case, expect, True, "")
    if not errors:
        return Outcome(test, case, expect, False, "no error reported")
    wanted = expected_error(path)
    if wanted is not None:
        wrong = [f for f in errors if wanted not in (f.error_id, f.message)]
        if wrong:
            detail = f"expected {wanted}, got {wrong[0].error_id or wrong[0].message}"
            return Outcome(test, case, expect, False, detail)
    return Outcome(test, case, expect, True, "")


def run(root: Path) -> list[Outcome]:
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    settings = Settings(
        as_of=RUN_DATE, api_versions=ApiVersions.from_file(root / API_TABLE)
    )
    return [run_case(root, entry, settings) for entry in manifest["cases"]]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="arm-ttk conformance of ccm-azure.")
    parser.add_argument("root", nargs="?", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--verbose", action="store_true", help="list agreeing cases")
    args = parser.parse_args(argv)
    if not (args.root / "manifest.json").is_file():
        print(f"No manifest.json under {args.root}.", file=sys.stderr)
        return 2
    outcomes = run(args.root)
    agreeing = sum(o.agrees for o in outcomes)
    for outcome in outcomes:
        if args.verbose or not outcome.agrees:
            mark = "ok  " if outcome.agrees else "DIFF"
            print(f"{mark} {outcome.test}: {outcome.case} (expect {outcome.expect})")
            if outcome.detail:
                print(f"       {outcome.detail}")
    print(f"{agreeing} of {len(outcomes)} cases agree")
    return 0 if agreeing == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
