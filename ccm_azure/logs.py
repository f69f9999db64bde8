"""Logging for the CLI: levels from --verbose/--debug, and secrets redacted everywhere.

Secrets are never logged on purpose. The redacting filter is the second line of
defence: once a secret is registered, any log record that would contain it, from our
code or from a library, has it replaced before it is written.
"""

from __future__ import annotations

import base64
import logging
import sys
from typing import ClassVar

REDACTED = "[redacted]"
LIBRARY_LOGGERS = ("azure", "msal", "urllib3")
"""Loggers of the libraries `deploy` uses, quiet unless --verbose or --debug."""


class RedactingFilter(logging.Filter):
    """Replaces registered secret values in every record that passes through."""

    secrets: ClassVar[set[str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        for secret in self.secrets:
            message = message.replace(secret, REDACTED)
        record.msg = message
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        return True

    @classmethod
    def redact(cls, text: str) -> str:
        for secret in cls.secrets:
            text = text.replace(secret, REDACTED)
        return text


def register_secret(value: str) -> None:
    """Never let `value`, plain or in base64, reach a log line from here on.

    The template passes the join token to the VM's command line in base64, so an
    echoed command line carries it in that form.
    """
    if value:
        RedactingFilter.secrets.add(value)
        RedactingFilter.secrets.add(base64.b64encode(value.encode()).decode())


def configure(*, verbose: bool = False, debug: bool = False) -> None:
    """Log to stderr: warnings by default, INFO with --verbose, all with --debug."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    root.setLevel(level)
    # The libraries below speak for themselves only with --verbose or --debug.
    # azure-core logs every request at INFO, so that waits for --debug. Otherwise
    # they log multi-line reports of what our one error line already says: the
    # credential chain's WARNING when no credential works, the SDK models' WARNING
    # with a traceback for every error answer without a JSON body.
    for name in LIBRARY_LOGGERS:
        library = logging.WARNING if verbose else logging.CRITICAL
        logging.getLogger(name).setLevel(logging.DEBUG if debug else library)
    identity = logging.INFO if verbose else logging.CRITICAL
    logging.getLogger("azure.identity").setLevel(logging.DEBUG if debug else identity)
