"""`ccm-azure status`: where a node's deployment is, and what it did.

It reads the deployment `deploy` made (by the node's name or the deployment's), and
prints its state, when it started and how long it ran, its outputs once it succeeded,
and its operations. A failed or canceled deployment ends with the same one line and
exit code `deploy` would have given. `--wait` follows a deployment that is still
running, which is how to pick it up again after Ctrl-C or `deploy --no-wait`.

Importing this module imports no Azure SDK module.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import logging
from collections.abc import Sequence
from typing import Any

import click

from ccm_azure.deploy import errors, lookup
from ccm_azure.deploy.command import (
    DeploySettings,
    format_outputs,
    output_option,
    table,
)
from ccm_azure.deploy.runner import (
    DeploymentReads,
    output_values,
    resource_name_of,
)
from ccm_azure.errors import CcmAzureError

LOGGER = logging.getLogger(__name__)


@click.command("status")
@lookup.target_options
@output_option("Format of the report printed on stdout.")
@click.option(
    "--wait",
    is_flag=True,
    help="Follow a deployment that is still running until it ends.",
)
@click.pass_context
def status(
    ctx: click.Context,
    /,
    name: str,
    resource_group: str | None,
    region: str | None,
    subscription: str | None,
    output: str,
    wait: bool,
) -> None:
    """Show the state, outputs and operations of a node's deployment.

    NAME is the node's name as given to deploy -n (default ccm-node), or the
    deployment's name (ccm-azure-NODE); a fleet's nodes are one deployment, named
    after the fleet. Exit codes: 0 succeeded or still running; 2 bad input, or no
    such deployment or resource group; 3 Azure refused the read; 4 failed or
    canceled (7 when Azure had no capacity or quota for the size); 5 sign-in
    failed; 6 Azure unreachable or failing; 130 Ctrl-C.
    """
    target = lookup.resolve_target(name, resource_group, region, subscription)
    settings = ctx.find_object(DeploySettings) or DeploySettings()
    with lookup.Session(target, settings) as session:
        deployment = session.deployment()
        if wait and not lookup.is_final(deployment):
            deployment = follow(session, deployment, settings.polling_interval)
        operations = session.operations()
    report = Report.of(target, deployment, operations)
    click.echo(report.render(output))
    outcome = report.outcome(target.situation())
    if outcome is not None:
        raise outcome


# --- following a running deployment ---------------------------------------------------


def follow(
    session: lookup.Session, deployment: dict[str, Any], interval: float
) -> dict[str, Any]:
    """Read the deployment until it ends, showing its state on stderr."""
    from ccm_azure.deploy.progress import Progress

    target = session.target
    watch = DeploymentReads(session.deployment, deployment, interval)
    try:
        Progress().follow(watch, f"Deploying {target.deployment_name}")
    except KeyboardInterrupt:
        raise errors.Interrupted(
            f"Stopped following deployment '{target.deployment_name}', which goes on "
            f"in Azure; follow it again with `ccm-azure status "
            f"{target.deployment_name} -g {target.resource_group} --wait`."
        ) from None
    if watch.error is not None:
        raise watch.error
    return watch.deployment


# --- the report ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Operation:
    """One deployment operation: which resource, and how it went."""

    resource_type: str
    resource_name: str
    state: str
    status_code: str
    error_code: str
    timestamp: str

    @classmethod
    def of(cls, operation: dict[str, Any]) -> Operation:
        found = operation.get("properties") or {}
        target = found.get("targetResource") or {}
        error = errors.operation_error(found)
        codes = [item.code for item in errors.flatten_error(error) if item.code]
        return cls(
            resource_type=str(target.get("resourceType") or ""),
            resource_name=(
                resource_name_of(str(target["id"]))
                if target.get("id")
                else str(
                    target.get("resourceName")
                    or found.get("provisioningOperation")
                    or ""
                )
            ),
            state=str(found.get("provisioningState") or ""),
            status_code=str(found.get("statusCode") or ""),
            error_code=codes[-1] if codes else "",
            timestamp=str(found.get("timestamp") or ""),
        )

    def as_json(self) -> dict[str, str]:
        return {
            "resourceType": self.resource_type,
            "resourceName": self.resource_name,
            "state": self.state,
            "statusCode": self.status_code,
            "errorCode": self.error_code,
        }


@dataclasses.dataclass(frozen=True)
class Report:
    """What `status` prints: never a parameter, so never a secure one."""

    name: str
    resource_group: str
    state: str
    started: datetime.datetime | None
    duration: datetime.timedelta | None
    outputs: dict[str, Any]
    error: dict[str, Any]
    operations: Sequence[Operation]
    raw_operations: Sequence[dict[str, Any]]

    @classmethod
    def of(
        cls,
        target: lookup.Target,
        deployment: dict[str, Any],
        operations: Sequence[dict[str, Any]],
    ) -> Report:
        found = lookup.properties(deployment)
        state = lookup.state(deployment)
        ended, duration = _timestamp(found), _duration(found)
        started = ended - duration if ended and duration is not None else None
        return cls(
            name=target.deployment_name,
            resource_group=target.resource_group,
            state=state,
            started=started,
            duration=duration,
            outputs=output_values(deployment) if state == "Succeeded" else {},
            error=found.get("error") or {},
            operations=sorted(
                (Operation.of(operation) for operation in operations),
                key=lambda operation: operation.timestamp,
            ),
            raw_operations=operations,
        )

    def outcome(self, situation: errors.Situation) -> CcmAzureError | None:
        """The error a failed or canceled deployment ends with; None otherwise."""
        if self.state.lower() == "canceled":
            return errors.canceled(situation)
        if self.state.lower() == "failed":
            return errors.failed(
                self.error or {"code": "DeploymentFailed"},
                situation,
                errors.failed_resources(self.raw_operations),
            )
        return None

    def render(self, output: str) -> str:
        if output == "json":
            return json.dumps(self.as_json(), indent=2, ensure_ascii=False)
        return self.as_table()

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "resourceGroup": self.resource_group,
            "state": self.state,
            "started": _iso(self.started),
            "durationSeconds": (
                round(self.duration.total_seconds()) if self.duration else None
            ),
        }
        if self.state == "Succeeded":
            document["outputs"] = self.outputs
        if self.error:
            document["error"] = {
                "code": self.error.get("code", ""),
                "message": self.error.get("message", ""),
            }
        document["operations"] = [operation.as_json() for operation in self.operations]
        return document

    def as_table(self) -> str:
        facts = [
            ("Deployment", self.name),
            ("Resource group", self.resource_group),
            ("State", self.state),
            ("Started", _iso(self.started) or "-"),
            ("Duration", _spoken(self.duration)),
        ]
        width = max(len(label) for label, _ in facts)
        lines = [f"{label + ':':<{width + 1}}  {value}" for label, value in facts]
        if self.state == "Succeeded":
            lines += ["", "Outputs", format_outputs(self.outputs, "table")]
        rows = [
            (
                operation.resource_type or "-",
                operation.resource_name or "-",
                operation.state,
                operation.status_code or "-",
                operation.error_code or "-",
            )
            for operation in self.operations
        ]
        headers = ("Resource type", "Name", "State", "Status", "Error")
        lines += ["", "Operations", table(headers, rows)]
        return "\n".join(lines)


def _timestamp(found: dict[str, Any]) -> datetime.datetime | None:
    """ARM's `timestamp`: the time of the deployment's last change of state."""
    text = str(found.get("timestamp") or "")
    if not text:
        return None
    import isodate  # type: ignore[import-untyped]  # the Azure SDK's own parser

    try:
        parsed: datetime.datetime = isodate.parse_datetime(text)
    except (ValueError, isodate.ISO8601Error):
        LOGGER.debug("Unreadable deployment timestamp %r", text)
        return None
    return parsed


def _duration(found: dict[str, Any]) -> datetime.timedelta | None:
    text = str(found.get("duration") or "")
    if not text:
        return None
    import isodate

    try:
        parsed = isodate.parse_duration(text)
    except (ValueError, isodate.ISO8601Error):
        LOGGER.debug("Unreadable deployment duration %r", text)
        return None
    return parsed if isinstance(parsed, datetime.timedelta) else None


def _iso(moment: datetime.datetime | None) -> str:
    if moment is None:
        return ""
    utc = moment.astimezone(datetime.UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat() + "Z"


def _spoken(duration: datetime.timedelta | None) -> str:
    if duration is None:
        return "-"
    minutes, seconds = divmod(round(duration.total_seconds()), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
