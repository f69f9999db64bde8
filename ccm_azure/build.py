"""The offline pipeline: offer -> render -> check -> package, and what gets written.

`ccm-azure build` runs all of it; `render` and `package` run their part. Nothing is
written unless every step before it succeeded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path

from ccm_azure import package as package_module
from ccm_azure import validate
from ccm_azure.errors import CheckFailed
from ccm_azure.offer import Offer, load_offer
from ccm_azure.render import MAIN_TEMPLATE, UI_DEFINITION, RenderedOffer, render_offer
from ccm_azure.validate import Finding, Package, Severity
from ccm_azure.validate.files import document
from ccm_azure.validate.run import settings

LOGGER = logging.getLogger(__name__)


def prepare_offer(offer_file: Path | None, installer_archive: Path | None) -> Offer:
    offer = load_offer(offer_file)
    LOGGER.info("Loaded the offer from the %s", offer.source)
    if installer_archive is not None:
        if offer.installer.url:
            LOGGER.warning(
                "the installer archive %s replaces installer.url %s",
                installer_archive,
                offer.installer.url,
            )
        offer = offer.with_archive(installer_archive)
    return offer


def render(offer: Offer) -> RenderedOffer:
    rendered = render_offer(offer)
    for name, data in rendered.files.items():
        LOGGER.info("Rendered %s (%d bytes)", name, len(data))
    return rendered


def check_rendered(offer: Offer, rendered: RenderedOffer) -> list[Finding]:
    """Run every rule on the rendered files; raise CheckFailed on any error."""
    package = Package(
        [
            document(name, rendered.files[name], main_names=(MAIN_TEMPLATE.lower(),))
            for name in (MAIN_TEMPLATE, UI_DEFINITION)
        ]
    )
    # The same settings as `ccm-azure validate`: the shipped apiVersion table, today.
    findings = validate.check(package, settings(offer=offer))
    LOGGER.info(
        "Ran %d rules on the rendered offer: %d findings",
        len(validate.RULES),
        len(findings),
    )
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        raise CheckFailed(
            f"the rendered offer fails {len(errors)} check(s); nothing was written.",
            [finding.format() for finding in findings],
        )
    return findings


def installer_notices(offer: Offer) -> list[str]:
    if offer.installer.is_set:
        return []
    return [
        "the offer names no node-agent installer, so the rendered template cannot "
        "install the agent yet; set installer.url (and installer.sha256) in an offer "
        "file passed with --offer, or ship the archive with --installer FILE."
    ]


@dataclasses.dataclass(frozen=True)
class BuildResult:
    offer: Offer
    written: list[Path]
    findings: list[Finding]
    notices: list[str]

    def summary(self) -> str:
        offer = self.offer
        lines = [
            f"Built node-agent offer {offer.version} from the {offer.source}: "
            f"regions {', '.join(offer.regions)}; {len(offer.sizes)} SGX sizes "
            f"(default {offer.default_size}); "
            f"{', '.join(i.key for i in offer.images)}; "
            f"attestation {offer.default_attestation} by default.",
        ]
        for path in self.written:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            lines.append(f"  {path}  {path.stat().st_size} bytes  sha256:{digest}")
        warnings = sum(1 for f in self.findings if f.severity is Severity.WARNING)
        lines.append(
            f"Checks: {len(validate.RULES)} rules, 0 errors, {warnings} warnings."
        )
        lines.extend(f"  {f.format()}" for f in self.findings)
        return "\n".join(lines)


def build(
    offer_file: Path | None, out_dir: Path, installer_archive: Path | None
) -> BuildResult:
    offer = prepare_offer(offer_file, installer_archive)
    rendered = render(offer)
    findings = check_rendered(offer, rendered)
    files = dict(rendered.files)
    files[package_module.package_name(offer)] = package_module.build_zip(rendered)
    written = package_module.write_files(out_dir, files)
    return BuildResult(offer, written, findings, installer_notices(offer))


def render_files(offer: Offer, out_dir: Path) -> list[Path]:
    return package_module.write_files(out_dir, render(offer).files)


def package_zip(offer: Offer, out_dir: Path) -> Path:
    rendered = render(offer)
    check_rendered(offer, rendered)
    name = package_module.package_name(offer)
    data = package_module.build_zip(rendered)
    return package_module.write_files(out_dir, {name: data})[0]
