"""Exceptions raised by riskmap.

Every error the user can cause derives from :class:`RiskmapError` and also from the standard
exception it resembles, so callers may catch either. The CLI and the app catch
``RiskmapError`` once per action and show its message; anything else is a bug.
"""

from __future__ import annotations


class RiskmapError(Exception):
    """Base class of every error riskmap raises on purpose."""


class SchemaError(RiskmapError, ValueError):
    """Incident data does not fit the incident model."""


class InputFileError(RiskmapError, ValueError):
    """An input file is unusable as a whole (unreadable, empty, binary, missing columns)."""


class StoreError(RiskmapError, OSError):
    """The incident store cannot be read or written."""


class GazetteerError(RiskmapError, ValueError):
    """A gazetteer file is malformed."""


class SettingsError(RiskmapError, ValueError):
    """A setting has an invalid value."""
