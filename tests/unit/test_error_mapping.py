"""Every domain error maps to a 4xx through the one mapping, with the one body shape."""
from __future__ import annotations

import pytest

import importlib
import pkgutil

import loyalty
from loyalty.feedback import errors as feedback_errors
from loyalty.kernel import errors as domain_errors
from loyalty.kernel.errors import DomainError
from loyalty.members import errors as member_errors
from loyalty.platform import errors as api_errors
from loyalty.platform.errors import STATUS_BY_ERROR, body_for, status_for
from loyalty.points import errors as points_errors


def _all_error_classes() -> list[type[DomainError]]:
    """Every DomainError subclass defined anywhere in the package (every module imported first)."""
    for module in pkgutil.walk_packages(loyalty.__path__, "loyalty."):
        importlib.import_module(module.name)
    found, todo = set(), [DomainError]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("loyalty.") and sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda cls: cls.__name__)


DOMAIN_ERRORS = _all_error_classes()


def test_the_package_defines_errors():
    assert len(DOMAIN_ERRORS) > 25


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_has_its_own_entry_in_the_one_mapping(cls):
    assert cls in STATUS_BY_ERROR, f"{cls.__name__} has no HTTP status in loyalty.platform.errors"


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_domain_error_is_a_client_error(cls):
    assert 400 <= status_for(cls("boom")) < 500


def test_an_unmapped_error_has_no_silent_default():
    class Unlisted(DomainError):
        code = "UNLISTED"

    with pytest.raises(LookupError):
        status_for(Unlisted("boom"))


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_domain_error_has_its_own_code(cls):
    assert cls.code.isupper()
    subclasses_with_same_code = [c for c in DOMAIN_ERRORS if c is not cls and c.code == cls.code]
    assert subclasses_with_same_code == []


@pytest.mark.parametrize(("error", "status"), [
    (domain_errors.InvalidInput("x"), 400),
    (domain_errors.StoreNotFound("x"), 400),
    (domain_errors.MemberNotFound("x"), 404),
    (domain_errors.NotFound("x"), 404),
    (domain_errors.StoreNotAllowed("x"), 403),
    (domain_errors.MissingScope("x"), 403),
    (member_errors.PhoneAlreadyEnrolled("x"), 409),
    (member_errors.EmailAlreadyEnrolled("x"), 409),
    (domain_errors.IdempotencyKeyReused("x"), 409),
    (domain_errors.ConcurrentUpdate("x"), 409),
    (points_errors.InsufficientPoints("x"), 409),
    (points_errors.RulesVersionConflict("x"), 409),
    (points_errors.SubmittedTooLate("x"), 422),
    (points_errors.PurchaseNotFound("x"), 404),
    (feedback_errors.FeedbackNotFound("x"), 404),
    (feedback_errors.InvalidTransition("x"), 409),
    (domain_errors.BusinessRuleViolation("x"), 422),
    (api_errors.Unauthorized("x"), 401),
    (api_errors.PayloadTooLarge("x"), 413),
    (api_errors.MalformedJson("x"), 400),
    (api_errors.ValidationFailed("x"), 400),
])
def test_known_statuses(error, status):
    assert status_for(error) == status


def test_body_with_field_and_details():
    error = member_errors.PhoneAlreadyEnrolled("a member with this phone number already exists", field="phone",
                                               details={"hint": "look the member up"})
    assert body_for(error) == {"error": {
        "code": "PHONE_ALREADY_ENROLLED",
        "message": "a member with this phone number already exists",
        "field": "phone",
        "details": {"hint": "look the member up"},
    }}


def test_body_without_field_has_only_code_and_message():
    assert body_for(domain_errors.MemberNotFound("no such member")) == {
        "error": {"code": "MEMBER_NOT_FOUND", "message": "no such member"},
    }


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_body_shape_for_every_error(cls):
    body = body_for(cls("message text", field="some_field"))
    assert set(body) == {"error"}
    assert body["error"] == {"code": cls.code, "message": "message text", "field": "some_field"}
