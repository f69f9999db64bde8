"""Deployments to several regions at once, and the summary of how each one ended.

Each region is one deployment of its own, started and followed (or asked about with
what-if) in a thread of its own; Azure Resource Manager does the work in parallel, this
module only starts and watches. One region failing does not stop or hide the others:
every region's outcome is collected, the summary shows them all, and the exit code is
the first failed region's (in the order the regions were given). Ctrl-C stops the
following in every region, leaves ARM working, and says how to follow each deployment.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

import click

from ccm_azure import logs
from ccm_azure.deploy.errors import Interrupted
from ccm_azure.deploy.progress import Progress
from ccm_azure.deploy.runner import DeploymentRequest, DeploymentResult
from ccm_azure.errors import CcmAzureError, ExitCode

Work = Callable[[DeploymentRequest, Progress, threading.Event], Any]
"""What is done in one region: deploy it, or ask what deploying it would change."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How one region's work ended: a result (a deployment's, or what-if's changes)
    or one error."""

    request: DeploymentRequest
    result: Any = None
    error: CcmAzureError | None = None
    crash: Exception | None = None
    """An exception that is not a CcmAzureError: a bug. The other regions' results
    are shown first, then it is raised as it is."""

    @property
    def deployment(self) -> DeploymentResult | None:
        return self.result if isinstance(self.result, DeploymentResult) else None

    @property
    def state(self) -> str:
        if self.deployment is not None:
            return self.deployment.state
        if isinstance(self.error, Interrupted):
            return "Not followed"
        return "Failed (a bug in ccm-azure)" if self.crash is not None else "Failed"

    @property
    def exit_code(self) -> int:
        if self.crash is not None:
            return 1  # what Python exits with on the traceback that follows
        return int(self.error.exit_code) if self.error is not None else 0

    def as_json(self) -> dict[str, Any]:
        return {
            "region": self.request.location,
            "resourceGroup": self.request.resource_group,
            "deployment": self.request.deployment_name,
            "state": self.state,
            "exitCode": self.exit_code,
            "error": _redacted(self.error) or _crash_text(self.crash),
            "outputs": self.deployment.outputs if self.deployment is not None else {},
        }


def in_regions(requests: Sequence[DeploymentRequest], work: Work) -> list[Outcome]:
    """Do `work` for every region side by side; each region's outcome, in order.

    Each region reports its progress with its name in front. Ctrl-C stops the
    following in every region and raises one Interrupted saying what goes on.
    """
    stop = threading.Event()

    def one(request: DeploymentRequest) -> Outcome:
        progress = Progress(prefix=request.location)
        try:
            return Outcome(request, result=work(request, progress, stop))
        except CcmAzureError as error:
            return Outcome(request, error=error)
        except Exception as crash:  # a bug: kept, so the other regions still show
            return Outcome(request, crash=crash)

    pool = concurrent.futures.ThreadPoolExecutor(
        max_workers=len(requests), thread_name_prefix="ccm-region"
    )
    futures = [pool.submit(one, request) for request in requests]
    try:
        concurrent.futures.wait(futures)
    except KeyboardInterrupt:
        stop.set()
        try:
            pool.shutdown(wait=True)
        except KeyboardInterrupt:
            raise Interrupted(
                "Stopped without waiting for the regions: a deployment that had "
                "started goes on in Azure; see each region's with `ccm-azure status "
                f"{requests[0].deployment_name} --region REGION`."
            ) from None
        outcomes = [future.result() for future in futures]
        raise Interrupted(_interrupted_message(outcomes)) from None
    pool.shutdown(wait=True)
    return [future.result() for future in futures]


def _interrupted_message(outcomes: Sequence[Outcome]) -> str:
    """What Ctrl-C left in each region: done, going on in Azure, or not started."""
    parts = []
    for outcome in outcomes:
        region = outcome.request.location
        if outcome.error is not None:
            parts.append(f"{region}: {_redacted(outcome.error).rstrip('.')}")
        else:
            parts.append(f"{region}: {outcome.state}")
    return "Stopped following the regions. " + "; ".join(parts) + "."


def _redacted(error: CcmAzureError | None) -> str:
    return logs.RedactingFilter.redact(error.message) if error is not None else ""


def format_summary(outcomes: Sequence[Outcome], output: str) -> str:
    """Every region's outcome: JSON for scripts, or a table with one row per region."""
    if output == "json":
        return json.dumps([outcome.as_json() for outcome in outcomes], indent=2)
    from ccm_azure.deploy.command import table

    return table(
        ("Region", "Resource group", "Deployment", "State", "Nodes"),
        [
            (
                outcome.request.location,
                outcome.request.resource_group,
                outcome.request.deployment_name,
                outcome.state,
                _nodes_cell(outcome),
            )
            for outcome in outcomes
        ],
    )


def _nodes_cell(outcome: Outcome) -> str:
    if outcome.deployment is None:
        return f"exit {outcome.exit_code}"
    nodes = outcome.deployment.outputs.get("nodes")
    if not isinstance(nodes, list):
        return ""
    return ", ".join(
        f"{node.get('vmName')} ({node.get('privateIpAddress')})"
        for node in nodes
        if isinstance(node, dict)
    )


def _crash_text(crash: Exception | None) -> str:
    if crash is None:
        return ""
    text = logs.RedactingFilter.redact(str(crash))
    return f"a bug in ccm-azure ({type(crash).__name__}: {text}); please report it"


def raise_for_failures(outcomes: Sequence[Outcome]) -> None:
    """Raise one error naming the failed regions, with the first one's exit code.

    A region that met a bug has its exception raised instead, after the summary.
    """
    for outcome in outcomes:
        if outcome.crash is not None:
            raise outcome.crash
    failed = [outcome for outcome in outcomes if outcome.error is not None]
    if not failed:
        return
    for outcome in failed:
        click.echo(
            f"ccm-azure: error: {outcome.request.location}: {_redacted(outcome.error)}",
            err=True,
        )
    names = ", ".join(outcome.request.location for outcome in failed)
    raise CcmAzureError(
        f"{len(failed)} of {len(outcomes)} regions failed ({names}); each one's error "
        "is above, and every region's result is on stdout.",
        exit_code=ExitCode(failed[0].exit_code),
    )
