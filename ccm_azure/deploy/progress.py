"""What the user sees on stderr while Azure works.

On a terminal a spinner shows the deployment's state and the time spent; anywhere else
(a pipeline, a log file) only plain status lines are written, one per change of state,
so logs stay readable. Results never go here: they go to stdout.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from rich.console import Console


class Poller(Protocol):
    """The part of azure-core's LROPoller that progress reporting needs."""

    def done(self) -> bool: ...

    def status(self) -> str: ...

    def wait(self, timeout: float | None = None) -> None: ...


class Progress:
    """Status lines and, on a terminal, a live spinner, all on stderr."""

    def __init__(self, console: Console | None = None, *, prefix: str = "") -> None:
        """`prefix` names whose progress this is when several run side by side (a
        fleet's regions): each line starts with it, and no spinner is shown, since
        a terminal can show only one."""
        if console is None:
            from rich.console import Console

            console = Console(stderr=True, highlight=False)
        self.console = console
        self.prefix = prefix

    @property
    def interactive(self) -> bool:
        return self.console.is_terminal and not self.prefix

    def step(self, message: str) -> None:
        """Say what is being done or what was just done, as one line."""
        if self.prefix:
            message = f"{self.prefix}: {message}"
        self.console.print(message, markup=False, soft_wrap=True)

    def follow(self, poller: Poller, what: str) -> None:
        """Report on `poller` until it is done; its errors are left to `result()`.

        Success gets a last line; any other end is for the caller's error to tell.
        """
        started = time.monotonic()
        last = ""
        if self.interactive:
            with self.console.status(what) as spinner:
                while not poller.done():
                    elapsed = int(time.monotonic() - started)
                    spinner.update(f"{what}: {poller.status()} ({elapsed} s)")
                    _wait(poller, 0.5)
        else:
            while not poller.done():
                state = poller.status()
                # The poller takes its final state a moment before it is done.
                if state != last and state.lower() not in FINAL_STATES:
                    self.step(f"{what}: {state}")
                    last = state
                _wait(poller, 2.0)
        state = poller.status()
        if state.lower() == "succeeded":
            elapsed = int(time.monotonic() - started)
            self.step(f"{what}: {state} after {elapsed} s")


FINAL_STATES = frozenset({"succeeded", "failed", "canceled"})
"""ARM provisioning states after which nothing more happens (lower case)."""


def _wait(poller: Poller, timeout: float) -> None:
    # wait() re-raises the polling thread's error; result() raises it again later,
    # where the caller translates it, so it is not handled here.
    with contextlib.suppress(Exception):
        poller.wait(timeout)
