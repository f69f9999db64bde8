"""Whole-process timing of the offline commands.

Runs each command as a fresh process several times and prints the median and the
spread, next to the cost of merely importing the Azure SDK packages that `deploy`
needs, which offline commands must never pay. Usage:

    python benchmarks/offline_commands.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

SDK_IMPORT = (
    "import azure.identity, azure.mgmt.resource.resources, "
    "azure.mgmt.resource.deployments, azure.mgmt.compute"
)


def timed(argv: list[str], runs: int) -> list[float]:
    subprocess.run(argv, check=True, capture_output=True)  # warm the .pyc files
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    python = sys.executable
    with tempfile.TemporaryDirectory() as out:
        cases = {
            "python (bare interpreter)": [python, "-c", "pass"],
            "ccm-azure --help": [python, "-m", "ccm_azure", "--help"],
            "ccm-azure build": [python, "-m", "ccm_azure", "build", "--out", out],
            "import of the Azure SDK alone": [python, "-c", SDK_IMPORT],
        }
        print(f"{'command':34} {'median':>9} {'min':>9} {'max':>9}   ({runs} runs)")
        for label, argv in cases.items():
            samples = timed(argv, runs)
            print(
                f"{label:34} {statistics.median(samples) * 1000:7.0f}ms "
                f"{min(samples) * 1000:7.0f}ms {max(samples) * 1000:7.0f}ms"
            )


if __name__ == "__main__":
    main()
