"""Run `ccm-azure validate` over every template pair of the corpus; print Markdown.

Each pair folder holds a main template, a createUiDefinition and a `source.json`
naming where they come from, which files belong to the pair and which one is the
main template. The pair's files are checked together, as one package, the way
`ccm-azure validate FILE FILE` checks them. A pair that cannot be checked, or a rule
that raises, is recorded and the survey goes on; the report says so. Usage:

    python benchmarks/corpus_report.py [CORPUS] [--as-of YYYY-MM-DD] [--top N]

CORPUS defaults to ../shared/corpus/pairs beside the repository.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import json
import re
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from ccm_azure.errors import CcmAzureError
from ccm_azure.validate import run
from ccm_azure.validate.findings import Finding, Severity

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pairs"
_QUOTED = re.compile(r"'[^']*'")


@dataclasses.dataclass
class Pair:
    """What validate made of one pair."""

    name: str
    files: list[str]
    """The pair's files, as source.json lists them."""
    read: list[str] = dataclasses.field(default_factory=list)
    """The files validate read (loaded or not)."""
    load_errors: dict[str, str] = dataclasses.field(default_factory=dict)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    could_not_run: str | None = None
    crash: str | None = None
    seconds: float = 0.0


def pair_files(folder: Path) -> tuple[list[Path], str | None]:
    """The pair's files and main template name, from source.json when it is there."""
    source = folder / "source.json"
    if source.is_file():
        meta = json.loads(source.read_text(encoding="utf-8"))
        names = sorted(meta.get("files") or {})
        return [folder / n for n in names], meta.get("main_template")
    return sorted(p for p in folder.glob("*.json")), None


def check_pair(folder: Path, as_of: datetime.date | None) -> Pair:
    paths, main = pair_files(folder)
    pair = Pair(folder.name, [p.name for p in paths])
    request = run.Request(paths=paths, as_of=as_of, main_template=main)
    start = time.perf_counter()
    try:
        validation = run.validate(request)
    except CcmAzureError as error:
        pair.could_not_run = error.message
    except Exception:  # a crash is what this survey looks for
        pair.crash = traceback.format_exc(limit=-3).strip().splitlines()[-1]
    else:
        pair.read = [Path(c.file).name for c in validation.files]
        pair.load_errors = {
            Path(c.file).name: c.load_error for c in validation.files if c.load_error
        }
        pair.findings = validation.findings
    pair.seconds = time.perf_counter() - start
    return pair


def survey(corpus: Path, as_of: datetime.date | None = None) -> list[Pair]:
    return [
        check_pair(folder, as_of)
        for folder in sorted(corpus.iterdir())
        if folder.is_dir()
    ]


def shape(message: str) -> str:
    """A message with its quoted names blanked, so alike findings count together."""
    return _QUOTED.sub("'…'", message)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(pairs: Sequence[Pair], corpus: Path, top: int = 20) -> str:
    findings = [f for p in pairs for f in p.findings]
    by_rule: dict[str, collections.Counter[Severity]] = collections.defaultdict(
        collections.Counter
    )
    pairs_by_rule: dict[str, set[str]] = collections.defaultdict(set)
    arm_ttk: dict[str, str] = {}
    for pair in pairs:
        for finding in pair.findings:
            by_rule[finding.rule_id][finding.severity] += 1
            pairs_by_rule[finding.rule_id].add(pair.name)
            arm_ttk[finding.rule_id] = finding.arm_ttk or "-"
    severities = collections.Counter(f.severity for f in findings)
    files_read = sum(len(p.read) for p in pairs)
    files_listed = sum(len(p.files) for p in pairs)
    seconds = sum(p.seconds for p in pairs)
    clean = sum(
        1
        for p in pairs
        if p.read and not any(f.severity is Severity.ERROR for f in p.findings)
    )

    lines = [
        "# ccm-azure validate over the template corpus",
        "",
        f"Corpus: `{corpus}`.",
        "",
        f"- {len(pairs)} pairs; {files_read} of {files_listed} listed files read; "
        f"{sum(len(p.load_errors) for p in pairs)} failed to load.",
        f"- {sum(1 for p in pairs if p.could_not_run)} pairs could not be checked; "
        f"{sum(1 for p in pairs if p.crash)} crashed.",
        f"- {clean} pairs without an error.",
        f"- {len(findings)} findings: {severities[Severity.ERROR]} errors, "
        f"{severities[Severity.WARNING]} warnings, {severities[Severity.NOTE]} notes.",
        f"- {seconds:.1f} s in validate (in process, slowest pair "
        f"{max((p.seconds for p in pairs), default=0):.2f} s).",
        "",
        "## Findings by rule",
        "",
        "| rule | arm-ttk test | errors | warnings | notes | pairs |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for rule_id in sorted(by_rule, key=lambda r: (-sum(by_rule[r].values()), r)):
        counts = by_rule[rule_id]
        lines.append(
            f"| {rule_id} | {arm_ttk[rule_id]} | {counts[Severity.ERROR]} | "
            f"{counts[Severity.WARNING]} | {counts[Severity.NOTE]} | "
            f"{len(pairs_by_rule[rule_id])} |"
        )

    messages = collections.Counter((f.rule_id, shape(f.message)) for f in findings)
    lines += [
        "",
        f"## Most frequent messages (top {top})",
        "",
        "| count | rule | message |",
        "| ---: | --- | --- |",
    ]
    for (rule_id, message), count in messages.most_common(top):
        lines.append(f"| {count} | {rule_id} | {_cell(message)} |")

    lines += ["", "## Files that failed to load", ""]
    failed = [(p.name, f, e) for p in pairs for f, e in sorted(p.load_errors.items())]
    lines += [f"- `{n}/{f}`: {_cell(e)}" for n, f, e in failed] or ["None."]

    lines += ["", "## Pairs not checked", ""]
    troubled = [
        f"- `{p.name}`: "
        + (
            f"could not run: {p.could_not_run}"
            if p.could_not_run
            else f"crashed: {p.crash}"
        )
        for p in pairs
        if p.could_not_run or p.crash
    ]
    missing = [
        f"- `{p.name}`: not read: {', '.join(sorted(set(p.files) - set(p.read)))}"
        for p in pairs
        if p.read and set(p.files) - set(p.read)
    ]
    lines += (troubled + missing) or ["None: every pair was read and checked."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--as-of", type=datetime.date.fromisoformat, default=None)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"No corpus at {args.corpus}.", file=sys.stderr)
        return 2
    pairs = survey(args.corpus, args.as_of)
    sys.stdout.write(markdown(pairs, args.corpus, args.top))
    return 1 if any(p.crash for p in pairs) else 0


if __name__ == "__main__":
    sys.exit(main())
