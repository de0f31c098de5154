"""Every domain error maps to a 4xx through the one mapping, with the one body shape."""
from __future__ import annotations

import inspect

import pytest

from loyalty.api import errors as api_errors
from loyalty.api.errors import body_for, status_for
from loyalty.domain import errors as domain_errors
from loyalty.domain.errors import DomainError

DOMAIN_ERRORS = sorted(
    (cls for _, cls in inspect.getmembers(domain_errors, inspect.isclass)
     if issubclass(cls, DomainError) and cls.__module__ == domain_errors.__name__),
    key=lambda cls: cls.__name__,
)


def test_the_module_defines_errors():
    assert len(DOMAIN_ERRORS) > 10


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__name__)
def test_every_domain_error_is_a_client_error(cls):
    assert 400 <= status_for(cls("boom")) < 500


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
    (domain_errors.PhoneAlreadyEnrolled("x"), 409),
    (domain_errors.EmailAlreadyEnrolled("x"), 409),
    (domain_errors.IdempotencyKeyReused("x"), 409),
    (domain_errors.ConcurrentUpdate("x"), 409),
    (domain_errors.InsufficientPoints("x"), 409),
    (domain_errors.BusinessRuleViolation("x"), 422),
    (api_errors.Unauthorized("x"), 401),
    (api_errors.PayloadTooLarge("x"), 413),
    (api_errors.MalformedJson("x"), 400),
    (api_errors.ValidationFailed("x"), 400),
])
def test_known_statuses(error, status):
    assert status_for(error) == status


def test_body_with_field_and_details():
    error = domain_errors.PhoneAlreadyEnrolled("a member with this phone number already exists", field="phone",
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
