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


class ProviderError(CrossrankError):
    """A hosted rerank API answered with an error, or could not be reached. `status` is the HTTP status, if any."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class AuthenticationError(ProviderError):
    """The API key is missing, wrong or not allowed to use this model (401/403)."""


class RateLimitError(ProviderError):
    """The provider kept answering 429 after every retry."""


class ProviderRequestError(ProviderError, InvalidInputError):
    """The provider rejected the request itself (400/404/413/422): retrying will not help."""


class ProviderUnavailableError(ProviderError):
    """Timeouts, connection errors, 5xx or malformed answers, after every retry."""
