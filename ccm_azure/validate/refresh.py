"""`ccm-azure api-versions`: refresh the apiVersion table from a subscription.

The table shipped with ccm-azure covers the resource types of our own offer. Users who
validate other templates can have a complete one written from their subscription's
resource providers and pass it with `ccm-azure validate --api-versions FILE`. Only
this command, when it runs, imports the Azure SDK.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import click

from ccm_azure.errors import CcmAzureError, ExitCode


@click.command("api-versions")
@click.option(
    "--subscription", help="Subscription id.  [default: AZURE_SUBSCRIPTION_ID]"
)
@click.option(
    "--out",
    "out_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON file to write, for `ccm-azure validate --api-versions FILE`.",
)
@click.pass_context
def api_versions_command(
    ctx: click.Context, subscription: str | None, out_file: Path
) -> None:
    """Write the apiVersions of every resource type a subscription offers."""
    from azure.core.exceptions import AzureError, ClientAuthenticationError

    from ccm_azure.deploy import inputs
    from ccm_azure.deploy.command import DeploySettings
    from ccm_azure.deploy.credentials import close_credential, default_credential
    from ccm_azure.deploy.errors import sign_in_failed
    from ccm_azure.package import write_files
    from ccm_azure.validate.api_versions import refresh_from_azure

    subscription_id = inputs.resolve_subscription(subscription)
    settings = ctx.find_object(DeploySettings) or DeploySettings()
    factory = settings.credential_factory
    credential = factory() if factory is not None else default_credential()
    try:
        table = refresh_from_azure(credential, subscription_id)
    except ClientAuthenticationError as error:
        # The same words as deploy's: which credential failed and why, or that
        # Microsoft Entra ID could not be reached (exit 6 rather than 5).
        raise sign_in_failed(error) from None
    except AzureError as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CcmAzureError(
            f"Azure did not list the resource providers ({reason}); try again later.",
            exit_code=ExitCode.AZURE_UNAVAILABLE,
        ) from None
    finally:
        if factory is None:
            close_credential(credential)
    comment = (
        f"apiVersions of the resource providers of subscription {subscription_id}, "
        f"listed on {datetime.date.today().isoformat()} by `ccm-azure api-versions`."
    )
    written = write_files(
        out_file.parent, {out_file.name: table.to_json(comment).encode()}
    )
    click.echo(f"Wrote {len(table.table)} resource types to {written[0]}")
