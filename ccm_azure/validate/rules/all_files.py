"""Rules for every file of a package, whatever it holds.

arm-ttk's all-files test: every .json or .jsonc file must load. Loading is as lenient
as ARM's own reader (comments, trailing commas, byte-order marks), so what fails here
would fail in Azure too.
"""

from __future__ import annotations

from collections.abc import Iterator

from ccm_azure.validate.registry import Context, Problem, Report, rule


@rule(
    "file-valid-json",
    family="file",
    summary="Every JSON file of the package can be read.",
    arm_ttk="JSONFiles-Should-Be-Valid",
)
def valid_json(context: Context) -> Iterator[Report]:
    error = context.document.load_error
    if error is not None and context.document.parent is None:
        yield Problem(
            "$",
            f"the file is not valid JSON ({error}); fix it so Azure can read it.",
            error_id="Invalid.JSON",
        )
