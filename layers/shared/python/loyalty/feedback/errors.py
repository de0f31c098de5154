"""Errors of the feedback workflow."""
from __future__ import annotations

from loyalty.kernel.errors import Conflict, NotFound


class FeedbackNotFound(NotFound):
    code = "FEEDBACK_NOT_FOUND"


class InvalidTransition(Conflict):
    """A workflow step the item's current status does not allow (e.g. anything after resolved)."""

    code = "INVALID_STATUS_TRANSITION"


class ReopenWindowClosed(Conflict):
    """The member asked to reopen feedback after the configured window."""

    code = "REOPEN_WINDOW_CLOSED"
