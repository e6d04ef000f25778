"""Errors crossrank raises for problems a user can fix; each message says what to do."""

from __future__ import annotations


class CrossrankError(Exception):
    """Base class of every error crossrank raises on purpose."""


class InvalidInputError(CrossrankError, ValueError):
    """The caller passed something crossrank cannot score (wrong type, empty query, bad file)."""


class ModelNotFoundError(CrossrankError):
    """A model name or path could not be resolved to files on disk."""


class BackendUnavailableError(CrossrankError):
    """The requested backend, device or precision is not installed or not supported here."""
