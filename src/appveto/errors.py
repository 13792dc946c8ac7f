"""Errors for people: every layer raises a subclass of :class:`AppvetoError`.

The library never prints or exits. Each error carries diagnostics that name the
input and the place in it (file, entry, offset, line, column) so the CLI can show
a one-line message per problem and the web layer can map it to a 4xx response.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in one input, located as precisely as the input allows."""

    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    entry: str | None = None
    offset: int | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
        parts = []
        if self.entry is not None:
            parts.append(f"entry '{self.entry}'")
        if self.offset is not None:
            parts.append(f"offset {self.offset:#x}")
        loc = f" ({', '.join(parts)})" if parts else ""
        return f"{where}{loc}: {self.message}" if where or loc else self.message


class AppvetoError(Exception):
    """Base of every error appveto raises on purpose."""

    def __init__(self, message: str, *, diagnostics: tuple[Diagnostic, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self._diagnostics = diagnostics or (Diagnostic(message),)

    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The located problems behind this error, at least one."""
        return self._diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self._diagnostics)


class ApkError(AppvetoError):
    """An APK (or a part of it) could not be read."""

    @classmethod
    def at(
        cls,
        message: str,
        *,
        file: str | None = None,
        entry: str | None = None,
        offset: int | None = None,
    ) -> ApkError:
        return cls(message, diagnostics=(Diagnostic(message, file=file, entry=entry, offset=offset),))


class LimitExceeded(ApkError):
    """An APK exceeds a configured safety limit (entries, inflated size, ratio)."""


class IpaError(AppvetoError):
    """An IPA (or a part of it) could not be read."""

    @classmethod
    def at(
        cls,
        message: str,
        *,
        file: str | None = None,
        entry: str | None = None,
        offset: int | None = None,
    ) -> IpaError:
        return cls(message, diagnostics=(Diagnostic(message, file=file, entry=entry, offset=offset),))


class KnowledgeBaseError(AppvetoError):
    """Reference data could not be loaded or updated."""


class PolicyError(AppvetoError):
    """One or more policy files are invalid; diagnostics hold every problem found."""


class FleetError(AppvetoError):
    """A directory or inventory file could not be imported, or the store failed."""


class ComplianceError(AppvetoError):
    """An evaluation or explanation cannot be made as asked (e.g. a person nobody is, or several are)."""


class ExportError(AppvetoError):
    """An enforcement artifact could not be produced."""


class ReportError(AppvetoError):
    """A report could not be rendered."""


class OutputError(AppvetoError):
    """An output file could not be written, or writing it was refused (an input, a symbolic
    link, a name already written in the same run)."""
