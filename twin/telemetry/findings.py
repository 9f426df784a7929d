"""Problems found in telemetry files, each with its file and line: errors stop the run, notes are reported."""

from __future__ import annotations

from dataclasses import dataclass, field

from twin.errors import SpecError, SpecIssue


@dataclass
class Findings:
    """Errors (bad input: exit 2) and notes (handled, but the reader should know), in the order found.

    Notes of one kind on one series are kept once, with how many more times they occurred,
    so a flapping exporter does not bury the report.
    """

    errors: list[SpecIssue] = field(default_factory=list)
    notes: list[SpecIssue] = field(default_factory=list)
    _index: dict[tuple, int] = field(default_factory=dict, repr=False)
    _more: dict[int, int] = field(default_factory=dict, repr=False)

    def error(self, file: str, line: int | None, what: str, message: str) -> None:
        self.errors.append(SpecIssue(str(file), line, None, what, message))

    def note(self, file: str, line: int | None, what: str, message: str, key: tuple | None = None) -> None:
        """A handled problem; with `key`, only the first of its kind is kept and the rest are counted."""
        if key is not None and key in self._index:
            i = self._index[key]
            self._more[i] = self._more.get(i, 0) + 1
            return
        if key is not None:
            self._index[key] = len(self.notes)
        self.notes.append(SpecIssue(str(file), line, None, what, message))

    def note_lines(self) -> list[str]:
        """Every note as text, with `(and N more like it)` where repeats were folded."""
        return [str(n) + (f" (and {self._more[i]} more like it)" if i in self._more else "") for i, n in enumerate(self.notes)]

    def raise_errors(self, strict: bool = False) -> None:
        """SpecError with every error (and with `strict`, every note) at once; nothing when clean."""
        issues = self.errors + (self.notes if strict else [])
        if issues:
            raise SpecError(issues)
