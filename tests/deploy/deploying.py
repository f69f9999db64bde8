"""Running `ccm-azure deploy` in process, as a user would, and what tests check."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner
from conftest import CANARY_TOKEN
from vcr.persisters.filesystem import FilesystemPersister

from ccm_azure import cli, logs
from ccm_azure.deploy.command import DeploySettings
from ccm_azure.errors import ExitCode


@dataclasses.dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None


def run(
    arguments: Sequence[str],
    credential: Any = None,
    polling_interval: float = 0,
    *,
    factory: Callable[[], Any] | None = None,
    debug: bool = False,
    verbose: bool = False,
    command: str = "deploy",
    stdin: str | None = None,
) -> Outcome:
    """`ccm-azure [--debug] [--verbose] COMMAND ARGUMENTS`, signed in with `credential`.

    `stdin` is what the user types (answers to prompts).

    No credential means the real credential chain. Nothing waits: status polls and
    retries of throttled or failed requests go out at once.
    """
    if factory is None and credential is not None:
        factory = lambda: credential  # noqa: E731
    settings = DeploySettings(
        credential_factory=factory,
        polling_interval=polling_interval,
        retry_backoff=0,
    )
    group = cli.main_group
    with_settings = functools.partial(type(group).main, group, obj=settings)
    root = logging.getLogger()
    names = [*logs.LIBRARY_LOGGERS, "azure.identity"]
    loggers = [root, *(logging.getLogger(name) for name in names)]
    handlers, levels = root.handlers[:], [logger.level for logger in loggers]
    exception: BaseException | None = None
    try:
        with (
            CliRunner().isolation(input=stdin) as (stdout, stderr, _),
            mock.patch.object(group, "main", with_settings),
        ):
            try:
                flags = ["--debug"] * debug + ["--verbose"] * verbose
                code = cli.main([*flags, command, *arguments])
            except SystemExit as exit:
                code = exit.code
            except Exception as error:  # a bug: let the test show it
                exception, code = error, -1
            return Outcome(
                int(code or 0),
                stdout.getvalue().decode(),
                stderr.getvalue().decode(),
                exception,
            )
    finally:
        # The CLI configures logging for the process; give pytest its own back.
        root.handlers[:] = handlers
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def assert_no_canary(result: Outcome, caplog: pytest.LogCaptureFixture) -> None:
    # caplog.text holds each record as it was logged, before the CLI's redaction.
    assert caplog.records, "nothing was logged: the capture is not working"
    assert CANARY_TOKEN not in result.stdout
    assert CANARY_TOKEN not in result.stderr
    assert CANARY_TOKEN not in caplog.text


def assert_one_line_error(result: Outcome, code: ExitCode) -> str:
    assert result.exception is None, result.exception
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("ccm-azure: error: ")
    assert "Traceback" not in result.stderr
    return lines[-1]


def interactions(cassette: Any) -> list[str]:
    """The requests of the test's own cassette, in recorded order, without the shared
    answers a `vcr` marker plays alongside it."""
    own = cassette.requests[: _own_count(cassette)]
    return [f"{request.method} {request.path}" for request in own]


class WithSharedAnswers(FilesystemPersister):  # type: ignore[misc]
    """vcrpy's file persister that also loads conftest.PREFLIGHT_PASSES's cassettes
    after the named one, as pytest-recording does for a `vcr` marker's cassettes."""

    @classmethod
    def load_cassette(cls, cassette_path: Any, serializer: Any) -> Any:
        from conftest import CASSETTES, PREFLIGHT_PASSES

        requests, responses = super().load_cassette(cassette_path, serializer)
        for name in PREFLIGHT_PASSES.args:
            more = super().load_cassette(CASSETTES / name, serializer)
            requests, responses = [*requests, *more[0]], [*responses, *more[1]]
        return requests, responses


def _own_count(cassette: Any) -> int:
    """How many interactions the test's own cassette holds.

    pytest-recording loads cassettes named in a `vcr` marker (conftest.PREFLIGHT_PASSES)
    after the test's own, so the own ones come first.
    """
    import yaml

    with open(cassette._path, encoding="utf-8") as file:
        return len(yaml.safe_load(file)["interactions"])


def all_played(cassette: Any) -> bool:
    """Every interaction of the test's own cassette was played.

    The shared preflight answers are left out: a run that Azure or the input refused
    before the preflight never asks for them.
    """
    return all(cassette.play_counts[index] for index in range(_own_count(cassette)))
