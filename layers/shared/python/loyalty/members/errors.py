"""Errors of enrollment and profile changes."""
from __future__ import annotations

from loyalty.kernel.errors import Conflict, NotFound


class PhoneAlreadyEnrolled(Conflict):
    code = "PHONE_ALREADY_ENROLLED"


class EmailAlreadyEnrolled(Conflict):
    code = "EMAIL_ALREADY_ENROLLED"


class ExportNotFound(NotFound):
    code = "EXPORT_NOT_FOUND"
