"""Whole-process timing of `ccm-azure validate` next to `checkov --framework arm`.

Two workloads, each timed side by side in one run, the two tools taking turns so a
change in machine load hits both alike:

(a) the rendered offer: `ccm-azure build --out <tmp>` first, then both tools on
    that folder;
(b) the template pairs of ../shared/corpus/pairs, all of them in one process per
    tool: `ccm-azure validate PAIR...` (each pair a package) and `checkov -d` on
    their folder (skipped when the corpus is absent). Pairs on which checkov crashes
    are left out for both tools and named; which ones they are is found once by
    running checkov pair by pair, and remembered beside checkov's environment.

checkov is installed with pip into a virtual environment of this benchmark's own
(default ~/.cache/ccm-azure/benchmarks/checkov-<version>), never into the project's.
It runs with --skip-download, its own switch for working offline. Both tools run
with their bytecode cached, as after an install. Usage:

    python benchmarks/validate_vs_checkov.py [--runs N] [--corpus-runs N]
        [--checkov-version V] [--venv DIR] [--corpus DIR | --no-corpus]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

CHECKOV_VERSION = "3.3.30"
GOAL = 20.0
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pairs"
CACHE = Path.home() / ".cache" / "ccm-azure" / "benchmarks"


@dataclasses.dataclass
class Samples:
    label: str
    seconds: list[float] = dataclasses.field(default_factory=list)
    peak_kib: list[int] = dataclasses.field(default_factory=list)
    exit_codes: set[int] = dataclasses.field(default_factory=set)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def row(self) -> str:
        times = (self.median, min(self.seconds), max(self.seconds))
        columns = "".join(f"{t * 1000:9.0f} ms " for t in times)
        codes = ",".join(map(str, sorted(self.exit_codes)))
        peak = max(self.peak_kib) / 1024
        return f"{self.label:34} {columns}{peak:7.0f} MiB   exit {codes}"


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users run with cached bytecode
    return env


def timed_run(argv: Sequence[str], cwd: Path) -> tuple[float, int, int]:
    """Wall time, peak resident memory (KiB) and exit code of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=child_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, process.returncode


def side_by_side(
    commands: dict[str, list[str]], runs: int, cwd: Path
) -> dict[str, Samples]:
    samples = {label: Samples(label) for label in commands}
    for argv in commands.values():
        timed_run(argv, cwd)  # warm the bytecode and file caches
    for _ in range(runs):
        for label, argv in commands.items():
            seconds, peak, code = timed_run(argv, cwd)
            samples[label].seconds.append(seconds)
            samples[label].peak_kib.append(peak)
            samples[label].exit_codes.add(code)
    return samples


def ccm_azure_command() -> list[str]:
    script = Path(sys.executable).parent / "ccm-azure"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ccm_azure"]


def checkov_command(venv: Path, version: str) -> list[str]:
    """checkov from its own virtual environment, created and filled when missing."""
    checkov = venv / "bin" / "checkov"
    if not checkov.exists():
        print(f"Installing checkov {version} into {venv} ...", file=sys.stderr)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", f"checkov=={version}"],
            check=True,
        )
    return [str(checkov)]


def checkov_arguments(folders: Sequence[Path]) -> list[str]:
    directories = [a for folder in folders for a in ("-d", str(folder))]
    return [*directories, "--framework", "arm", "--skip-download", "--quiet"]


def crashing_pairs(checkov: list[str], pairs: list[Path], venv: Path) -> list[str]:
    """Pairs on which checkov ends with an exit code other than 0 or 1."""
    digest = hashlib.sha256()
    for pair in pairs:
        for file in sorted(pair.iterdir()):
            digest.update(file.name.encode() + file.read_bytes())
    memo = venv / f"crashes-{digest.hexdigest()[:16]}.json"
    if memo.is_file():
        crashed: list[str] = json.loads(memo.read_text())
        return crashed
    print(
        f"Running checkov on each of {len(pairs)} pairs once, to find the ones it "
        "crashes on (remembered for next time) ...",
        file=sys.stderr,
    )
    crashed = [
        pair.name
        for pair in pairs
        if timed_run([*checkov, *checkov_arguments([pair])], pair)[2] not in (0, 1)
    ]
    memo.write_text(json.dumps(crashed, indent=1))
    return crashed


def environment(checkov: list[str]) -> list[str]:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    version = subprocess.run(
        [*checkov, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    ours = subprocess.run(
        [*ccm_azure_command(), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return [
        f"date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"machine: {platform.platform()}; {os.cpu_count()} CPUs, {cpu}",
        f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"python: {platform.python_version()} ({sys.executable})",
        f"{ours}; checkov {version}",
    ]


def report(title: str, samples: dict[str, Samples], runs: int) -> float:
    ours, theirs = samples.values()
    ratio = theirs.median / ours.median
    print(f"\n{title}: {runs} runs of each, alternating")
    print(f"{'':34} {'median':>12} {'min':>12} {'max':>12} {'peak RSS':>11}")
    for sample in samples.values():
        print(sample.row())
    print(f"ratio (checkov median / ccm-azure validate median): {ratio:.1f}x")
    return ratio


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs on the offer")
    parser.add_argument("--corpus-runs", type=int, default=3)
    parser.add_argument("--checkov-version", default=CHECKOV_VERSION)
    parser.add_argument("--venv", type=Path, help="checkov's virtual environment")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-corpus", action="store_true")
    args = parser.parse_args(argv)
    venv = args.venv or CACHE / f"checkov-{args.checkov_version}"
    checkov = checkov_command(venv, args.checkov_version)
    ours = ccm_azure_command()

    print("ccm-azure validate vs checkov --framework arm, whole processes")
    for line in environment(checkov):
        print(f"  {line}")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run(
            [*ours, "build", "--out", str(work / "offer")],
            check=True,
            capture_output=True,
            env=child_environment(),
        )
        offer = side_by_side(
            {
                "ccm-azure validate": [*ours, "validate", str(work / "offer")],
                "checkov --framework arm": [
                    *checkov,
                    *checkov_arguments([work / "offer"]),
                ],
            },
            args.runs,
            work,
        )
        ratio = report("(a) the rendered offer (2 files)", offer, args.runs)
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(f"goal: at least {GOAL:.0f}x on the offer: {verdict}")

        if args.no_corpus or not args.corpus.is_dir():
            print(f"\n(b) corpus: skipped ({args.corpus} is absent or not wanted)")
            return 0
        pairs = sorted(p for p in args.corpus.iterdir() if p.is_dir())
        crashed = crashing_pairs(checkov, pairs, venv)
        kept = work / "corpus"
        for pair in pairs:
            if pair.name not in crashed:
                shutil.copytree(pair, kept / pair.name)
        kept_pairs = sorted(kept.iterdir())
        corpus = side_by_side(
            {
                "ccm-azure validate": [*ours, "validate", *map(str, kept_pairs)],
                "checkov --framework arm": [*checkov, *checkov_arguments([kept])],
            },
            args.corpus_runs,
            work,
        )
        files = sum(1 for p in kept_pairs for _ in p.glob("*.json"))
        report(
            f"(b) the corpus: {len(kept_pairs)} pairs, {files} files, in one process",
            corpus,
            args.corpus_runs,
        )
        if crashed:
            print(
                f"left out: {len(crashed)} pairs on which checkov crashes "
                f"(exit code 2): {', '.join(crashed)}"
            )
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
