"""Problems found in a submission, in the words a clerk can act on."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One error or warning. `row`/`column` are the clerk's row number and header (None: file-level)."""

    rule: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    severity: str = "error"

    def as_json(self) -> dict:
        from .receipts import safe_text  # local: receipts imports this module

        return {
            "row": self.row,
            "column": safe_text(_clip(self.column)) if self.column is not None else None,
            "value": safe_text(_clip(self.value)) if self.value is not None else None,
            "rule": self.rule,
            "message": safe_text(self.message),
        }


ECHO_MAX = 200  # characters of a value or header a receipt repeats back


def _clip(text: object) -> str:
    """A receipt points at a cell; it need not repeat 30 000 characters of it (200 errors on such
    cells would make a receipt of megabytes). The count says how long the cell really is."""
    s = str(text)
    return s if len(s) <= ECHO_MAX else f"{s[:ECHO_MAX]}…（共 {len(s)} 个字符）"


class FileRejected(Exception):
    """The file as a whole cannot be taken: what happened and what to do, in Chinese."""

    def __init__(self, rule: str, message: str, action: str = ""):
        super().__init__(message)
        self.rule = rule
        self.kind: str | None = None  # what was understood before the refusal, for the receipt
        self.period = None
        self.message = message + (f"。{action}" if action else "")

    def problem(self) -> Problem:
        return Problem(rule=self.rule, message=self.message)


@dataclass
class Findings:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def add(self, p: Problem) -> None:
        (self.errors if p.severity == "error" else self.warnings).append(p)
