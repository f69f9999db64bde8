"""The errors a user can cause or meet, and the exit code each one ends with.

Every error here carries a one-line message that says what is wrong and how to fix it.
The CLI prints that line on stderr and exits with the error's code; it never shows a
traceback for one of these.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Exit codes of the `ccm-azure` command (documented in the README)."""

    OK = 0
    FINDINGS = 1  # checks found errors in the rendered or given templates
    USAGE = 2  # bad command line or bad input (offer file, region, size, label, token)
    AZURE_REJECTED = 3  # Azure refused the deployment before creating anything
    DEPLOYMENT_FAILED = 4  # the deployment started and then failed in Azure
    AUTHENTICATION = 5  # no credential could get a token for Azure
    AZURE_UNAVAILABLE = 6  # Azure could not be reached or kept failing
    NOT_AVAILABLE = 7  # the size or its vCPU quota is not there for this subscription
    INTERRUPTED = 130  # Ctrl-C


class CcmAzureError(Exception):
    """Base of every error that is reported to the user as one line."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, exit_code: ExitCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UserInputError(CcmAzureError):
    """A value the user gave (flag, file, environment variable) is not acceptable."""

    exit_code = ExitCode.USAGE


class OfferError(UserInputError):
    """The offer description (embedded or from --offer FILE) is invalid."""


class CheckFailed(CcmAzureError):
    """Rendered files did not pass the checks; nothing was written."""

    exit_code = ExitCode.FINDINGS

    def __init__(self, message: str, details: list[str]) -> None:
        super().__init__(message)
        self.details = details
