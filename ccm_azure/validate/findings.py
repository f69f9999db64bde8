"""What a check reports: one finding per problem, with where it is and how to fix it."""

from __future__ import annotations

import dataclasses
import enum


class Severity(enum.Enum):
    """How Partner Center treats a finding."""

    ERROR = "error"  # blocks Marketplace certification, or breaks the deployment
    WARNING = "warning"  # reported by certification without blocking it
    NOTE = "note"  # worth knowing; never fails a run by default

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "note": 1}[self.value]


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    file: str
    path: str
    rule_id: str
    severity: Severity = dataclasses.field(compare=False)
    message: str = dataclasses.field(compare=False)
    arm_ttk: str | None = dataclasses.field(default=None, compare=False)
    line: int | None = dataclasses.field(default=None, compare=False)
    level: str = dataclasses.field(default="error", compare=False)
    """arm-ttk's own level for the same problem: error or warning."""
    error_id: str | None = dataclasses.field(default=None, compare=False)
    """arm-ttk's error id, where the test gives one (e.g. Parameter.Missing.Max)."""

    def format(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        name = f" [{self.arm_ttk}]" if self.arm_ttk else ""
        return (
            f"{where}: {self.severity.value} {self.rule_id}{name} at {self.path}: "
            f"{self.message}"
        )
