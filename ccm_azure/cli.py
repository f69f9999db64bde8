"""The `ccm-azure` command. Thin: it parses options and calls the library.

Commands that talk to Azure are loaded only when they are run, so the offline ones
(`build`, `render`, `package`, `--help`) never import the Azure SDK.
"""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from ccm_azure import __version__, logs
from ccm_azure.errors import CcmAzureError, CheckFailed, ExitCode

LOGGER = logging.getLogger(__name__)

# Commands loaded on demand: name -> (module, attribute, one-line help).
_LAZY_COMMANDS = {
    "deploy": (
        "ccm_azure.deploy.command",
        "deploy",
        "Deploy an SGX node VM that enrols in CCM with a join token.",
    ),
    "status": (
        "ccm_azure.deploy.status",
        "status",
        "Show the state, outputs and operations of a node's deployment.",
    ),
    "delete": (
        "ccm_azure.deploy.teardown",
        "delete",
        "Delete what a node's deployment created, after confirmation.",
    ),
    "api-versions": (
        "ccm_azure.validate.refresh",
        "api_versions_command",
        "Write the apiVersion table of a subscription, for validate.",
    ),
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), *_LAZY_COMMANDS]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in _LAZY_COMMANDS:
            module, attribute, _ = _LAZY_COMMANDS[name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, name)

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        rows = [
            (name, command.get_short_help_str(limit=formatter.width))
            for name, command in sorted(self.commands.items())
        ]
        rows += [
            (name, help_text) for name, (_, _, help_text) in _LAZY_COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ccm-azure")
@click.option("--verbose", is_flag=True, help="Log the steps taken (stderr).")
@click.option(
    "--debug", is_flag=True, help="Log everything, secrets redacted (stderr)."
)
def main_group(verbose: bool, debug: bool) -> None:
    """Render, check, package and deploy the CCM node-agent offer for Azure SGX VMs."""
    logs.configure(verbose=verbose, debug=debug)


_offer_option = click.option(
    "--offer",
    "offer_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML file overriding the embedded offer description.",
)


def _folder(ctx: click.Context, param: click.Parameter, value: str) -> Path:
    if not value.strip():
        raise click.BadParameter("give a folder name, e.g. --out dist.")
    return Path(value)


_out_option = click.option(
    "--out",
    "out_dir",
    default="dist",
    show_default=True,
    callback=_folder,
    help="Folder to write to.",
)
_installer_option = click.option(
    "--installer",
    "installer_archive",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Node-agent installer archive to ship inside the Marketplace package.",
)


@main_group.command()
@_offer_option
@_out_option
@_installer_option
def build(
    offer_file: Path | None, out_dir: Path, installer_archive: Path | None
) -> None:
    """Render, check and package the offer (both files and the zip)."""
    from ccm_azure import build as build_module

    result = build_module.build(offer_file, out_dir, installer_archive)
    click.echo(result.summary())
    _notices(result.offer)


@main_group.command()
@_offer_option
@_out_option
@_installer_option
def render(
    offer_file: Path | None, out_dir: Path, installer_archive: Path | None
) -> None:
    """Write mainTemplate.json and createUiDefinition.json only."""
    from ccm_azure import build as build_module

    offer = build_module.prepare_offer(offer_file, installer_archive)
    for path in build_module.render_files(offer, out_dir):
        click.echo(str(path))
    _notices(offer)


@main_group.command()
@_offer_option
@_out_option
@_installer_option
def package(
    offer_file: Path | None, out_dir: Path, installer_archive: Path | None
) -> None:
    """Render and check the offer; write the Marketplace zip only."""
    from ccm_azure import build as build_module

    offer = build_module.prepare_offer(offer_file, installer_archive)
    click.echo(str(build_module.package_zip(offer, out_dir)))
    _notices(offer)


_FORMATS = ("text", "json", "sarif", "junit")  # ccm_azure.validate.report.FORMATS
_SEVERITIES = ("error", "warning", "note")


@main_group.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_format",
    type=click.Choice(_FORMATS),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to FILE instead of stdout (stdout gets a summary line).",
)
@click.option(
    "--fail-on",
    type=click.Choice(_SEVERITIES),
    default="error",
    show_default=True,
    help="Exit with 1 when a finding of this severity or higher remains.",
)
@click.option(
    "--as-of",
    metavar="YYYY-MM-DD",
    help="Judge apiVersion ages on this day (default: today).",
)
@click.option(
    "--api-versions",
    "api_versions_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Table of resource types and apiVersions (default: the one shipped).",
)
@click.option(
    "--main-template",
    metavar="NAME",
    help="File name of the main template (default: mainTemplate.json, "
    "azuredeploy.json or prereq.azuredeploy.json).",
)
@click.option(
    "--rule",
    "only_rules",
    multiple=True,
    metavar="ID",
    help="Run only this rule (id or arm-ttk name; repeatable).",
)
@click.option(
    "--skip-rule",
    "skip_rules",
    multiple=True,
    metavar="ID",
    help="Do not run this rule (id or arm-ttk name; repeatable).",
)
@click.option(
    "--suppressions",
    "suppressions_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="TOML file of suppressed findings (default: "
    ".ccm-azure-suppressions.toml here, if present).",
)
@click.option("--list-rules", is_flag=True, help="List the rules and exit.")
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[Path, ...],
    output_format: str,
    output_file: Path | None,
    fail_on: str,
    as_of: str | None,
    api_versions_file: Path | None,
    main_template: str | None,
    only_rules: tuple[str, ...],
    skip_rules: tuple[str, ...],
    suppressions_file: Path | None,
    list_rules: bool,
) -> None:
    """Check templates, forms and Marketplace zips the way certification does.

    PATH is a template or createUiDefinition file, a folder, or a Marketplace zip.
    Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
    2 the files could not be checked.
    """
    from ccm_azure.validate import report
    from ccm_azure.validate import run as run_module
    from ccm_azure.validate.findings import Severity

    if list_rules:
        click.echo(run_module.rule_table(), nl=False)
        return
    request = run_module.Request(
        paths=paths,
        fail_on=Severity(fail_on),
        as_of=run_module.parse_date(as_of) if as_of else None,
        api_versions_file=api_versions_file,
        main_template=main_template,
        only=only_rules,
        skip=skip_rules,
        suppressions_file=suppressions_file,
    )
    validation = run_module.validate(request)
    text = report.render(validation, output_format)
    if output_file is None:
        click.echo(text, nl=False)
    else:
        run_module.write_report(output_file, text)
        click.echo(report.summary(validation))
    ctx.exit(int(validation.exit_code))


def _notices(offer: Any) -> None:
    from ccm_azure import build as build_module

    for notice in build_module.installer_notices(offer):
        click.echo(f"notice: {notice}", err=True)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: one line on stderr and a documented exit code for every failure."""
    try:
        return main_group.main(args=argv, prog_name="ccm-azure", standalone_mode=False)
    except CcmAzureError as error:
        message = logs.RedactingFilter.redact(error.message)
        click.echo(f"ccm-azure: error: {message}", err=True)
        if isinstance(error, CheckFailed):
            for line in error.details:
                click.echo(line, err=True)
        sys.exit(int(error.exit_code))
    except click.exceptions.Abort:
        click.echo("ccm-azure: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
    except click.exceptions.NoArgsIsHelpError as error:
        # `ccm-azure` alone, or a group without its command: the help is the answer.
        click.echo(error.format_message(), err=True)
        sys.exit(int(ExitCode.USAGE))
    except click.UsageError as error:
        command = error.ctx.command_path if error.ctx else "ccm-azure"
        click.echo(
            f"ccm-azure: error: {error.format_message()} (see '{command} --help')",
            err=True,
        )
        sys.exit(error.exit_code)
    except click.ClickException as error:
        click.echo(f"ccm-azure: error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("ccm-azure: interrupted", err=True)
        sys.exit(int(ExitCode.INTERRUPTED))
