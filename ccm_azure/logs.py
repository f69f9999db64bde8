"""Logging for the CLI: levels from --verbose/--debug, and secrets redacted everywhere.

Secrets are never logged on purpose. The redacting filter is the second line of
defence: once a secret is registered, any log record that would contain it, from our
code or from a library, has it replaced before it is written.
"""

from __future__ import annotations

import logging
import sys
from typing import ClassVar

REDACTED = "[redacted]"


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
    """Never let `value` reach a log line from here on."""
    if value:
        RedactingFilter.secrets.add(value)


def configure(*, verbose: bool = False, debug: bool = False) -> None:
    """Log to stderr: warnings by default, INFO with --verbose, all with --debug."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    root.setLevel(level)
    # azure-core logs every request at INFO; keep that for --debug only. When no
    # credential works, azure-identity logs a multi-line WARNING of its own; our one
    # error line says what to do, so that report waits for --verbose.
    logging.getLogger("azure").setLevel(logging.DEBUG if debug else logging.WARNING)
    identity = logging.DEBUG if debug else logging.INFO if verbose else logging.ERROR
    logging.getLogger("azure.identity").setLevel(identity)
