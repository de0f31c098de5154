"""The REQUEST authorizer and API key management, over moto."""
from __future__ import annotations

import copy

import pytest

import authorizer
from loyalty.clients.domain import hash_secret
from loyalty.kernel.identity import DEFAULT_SCOPES, ClientKind, Scope

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/POST/v1/members"


def request_event(headers: dict | None, method_arn: str = METHOD_ARN) -> dict:
    """A REQUEST authorizer event as API Gateway (REST) sends it."""
    event = {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": "/v1/members",
        "path": "/v1/members",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} if headers is not None else None,
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "resourceId": "a1b2c3",
            "resourcePath": "/v1/members",
            "httpMethod": "POST",
            "extendedRequestId": "Xyz123AbCdEFg=",
            "requestTime": "18/Nov/2026:02:00:00 +0000",
            "path": "/v1/v1/members",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "v1",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1795485600000,
            "requestId": "6f1c0b4e-2d6a-4a63-9c3f-1f7b2a1e9d10",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "pos-terminal/4.2"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "apiId": "abc123",
        },
    }
    return event


def headers_with(name: str, value: str) -> dict:
    return {
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "Content-Type": "application/json",
        "User-Agent": "pos-terminal/4.2",
        "X-Forwarded-For": "203.0.113.10",
        name: value,
    }


def authorize(event: dict, ctx) -> dict:
    return authorizer.handler(copy.deepcopy(event), ctx)


@pytest.fixture
def pos_key(services):
    api_key, _record = services.api_key_service.create("pos-sh-jingan", ClientKind.POS, ["SH-JINGAN"],
                                                       description="till 1")
    return api_key


def statements(response: dict) -> list[dict]:
    return response["policyDocument"]["Statement"]


@pytest.mark.parametrize("header_name", ["X-Api-Key", "x-api-key", "X-API-KEY", "x-Api-key"])
def test_valid_key_allows_every_route_with_client_context(services, ctx, pos_key, header_name):
    response = authorize(request_event(headers_with(header_name, pos_key)), ctx)
    assert response["principalId"] == "pos-sh-jingan"
    [statement] = statements(response)
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert resources == ["arn:aws:execute-api:us-east-1:123456789012:abc123/v1/*/*"]
    context = response["context"]
    assert context["client_id"] == "pos-sh-jingan"
    assert context["kind"] == "pos"
    assert context["store_ids"] == "SH-JINGAN"
    assert set(context["scopes"].split()) == {s.value for s in DEFAULT_SCOPES[ClientKind.POS]}
    assert all(isinstance(v, str) for v in context.values())  # API Gateway passes strings only


def test_policy_is_for_the_api_and_stage_of_the_request(services, ctx, pos_key):
    event = request_event(headers_with("X-Api-Key", pos_key),
                          "arn:aws:execute-api:ap-east-1:210987654321:zz99yy/prod/GET/v1/members/mbr_X")
    [statement] = statements(authorize(event, ctx))
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert resources == ["arn:aws:execute-api:ap-east-1:210987654321:zz99yy/prod/*/*"]


def test_backoffice_key_context(services, ctx):
    api_key, _ = services.api_key_service.create("backoffice", ClientKind.BACKOFFICE, ["*"])
    context = authorize(request_event(headers_with("X-Api-Key", api_key)), ctx)["context"]
    assert context["store_ids"] == "*"
    assert set(context["scopes"].split()) == {s.value for s in Scope}


def test_explicit_scopes_and_several_stores(services, ctx):
    api_key, _ = services.api_key_service.create("pos-sh", ClientKind.POS, ["SH-XUHUI", "SH-JINGAN"],
                                                 scopes=[Scope.MEMBERS_READ])
    context = authorize(request_event(headers_with("X-Api-Key", api_key)), ctx)["context"]
    assert context["scopes"] == "members:read"
    assert context["store_ids"] == "SH-JINGAN SH-XUHUI"


@pytest.mark.parametrize("make_key", [
    lambda key: "lk_nosuchkey_" + key.split("_", 2)[2],                 # unknown key id
    lambda key: key[:-1] + ("x" if key[-1] != "x" else "y"),             # wrong secret
    lambda key: key + "extra",                                           # wrong secret, longer
    lambda key: key.split("_", 2)[2],                                    # secret alone
    lambda key: "Bearer " + key,                                         # not the key's shape
    lambda key: "lk_" + key.split("_", 2)[1],                            # missing secret
    lambda key: "",                                                      # empty header
], ids=["unknown-key", "wrong-secret", "longer-secret", "secret-only", "bearer", "no-secret", "empty"])
def test_bad_keys_are_unauthorized(services, ctx, pos_key, make_key):
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(request_event(headers_with("X-Api-Key", make_key(pos_key))), ctx)


def test_missing_header_is_unauthorized(services, ctx, pos_key):
    headers = headers_with("Authorization", pos_key)  # in the wrong header
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(request_event(headers), ctx)


def test_no_headers_at_all_is_unauthorized(services, ctx, pos_key):
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(request_event(None), ctx)


def test_revoked_key_is_unauthorized(services, ctx, pos_key):
    event = request_event(headers_with("X-Api-Key", pos_key))
    assert authorize(event, ctx)["principalId"] == "pos-sh-jingan"
    key_id = pos_key.split("_", 2)[1]
    assert services.api_key_service.revoke(key_id) is True
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(event, ctx)
    assert services.api_key_service.revoke(key_id) is False  # already revoked
    assert services.api_key_service.revoke("nosuchkey") is False


def test_revoking_one_key_leaves_the_clients_other_keys(services, ctx, pos_key):
    second, _ = services.api_key_service.create("pos-sh-jingan", ClientKind.POS, ["SH-JINGAN"], description="till 2")
    services.api_key_service.revoke(pos_key.split("_", 2)[1])
    assert authorize(request_event(headers_with("X-Api-Key", second)), ctx)["principalId"] == "pos-sh-jingan"


@pytest.mark.parametrize("kind", [ClientKind.POS, ClientKind.WEBSHOP, ClientKind.APP])
def test_only_backoffice_may_act_for_every_store(services, kind):
    from loyalty.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        services.api_key_service.create("client", kind, ["*"])
    assert err.value.field == "store_ids"
    with pytest.raises(InvalidInput):
        services.api_key_service.create("client", kind, ["SH-JINGAN", "*"])
    assert services.api_key_service.list() == []


def test_a_client_acts_for_at_least_one_store(services):
    from loyalty.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.api_key_service.create("client", ClientKind.POS, [])


def test_key_with_a_chosen_id_and_secret(services, ctx):
    api_key, record = services.api_key_service.create("pos-sh-jingan", ClientKind.POS, ["SH-JINGAN"],
                                                      key_id="demoshjingan", secret="pos-secret-sh-jingan")
    assert api_key == "lk_demoshjingan_pos-secret-sh-jingan"
    assert record.secret_hash == hash_secret("pos-secret-sh-jingan")
    assert services.api_key_service.authenticate(api_key).client_id == "pos-sh-jingan"


def test_key_ids_are_unique(services):
    services.api_key_service.create("a", ClientKind.POS, ["SH-JINGAN"], key_id="samekey")
    with pytest.raises(Exception):
        services.api_key_service.create("b", ClientKind.POS, ["HZ-XIHU"], key_id="samekey")
    [only] = services.api_key_service.list()
    assert only.client_id == "a"


def test_listing_shows_keys_without_secrets(services, clock):
    created = {}
    for client_id, kind, stores in [("pos-sh-jingan", ClientKind.POS, ["SH-JINGAN"]),
                                    ("webshop", ClientKind.WEBSHOP, ["WEB"]),
                                    ("backoffice", ClientKind.BACKOFFICE, ["*"])]:
        api_key, record = services.api_key_service.create(client_id, kind, stores)
        created[record.key_id] = api_key
    services.api_key_service.revoke(next(iter(created)))

    listed = services.api_key_service.list()
    assert {r.key_id for r in listed} == set(created)
    for record in listed:
        api_key = created[record.key_id]
        secret = api_key.split("_", 2)[2]
        dumped = record.model_dump_json()
        assert api_key not in dumped and secret not in dumped
        assert record.secret_hash == hash_secret(secret)
        assert record.secret_hash != secret
    revoked = [r for r in listed if not r.active]
    assert [r.key_id for r in revoked] == [next(iter(created))]
    assert revoked[0].revoked_at == clock.now()

    stored = services.table.scan()["Items"]
    for api_key in created.values():
        assert api_key.split("_", 2)[2] not in str(stored)


@pytest.mark.parametrize("key_id", ["till_1", "", "x" * 33, "till 1"])
def test_key_ids_that_could_not_be_parsed_back_are_refused(services, key_id):
    from loyalty.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput) as err:
        services.api_key_service.create("pos-sh-jingan", ClientKind.POS, ["SH-JINGAN"], key_id=key_id, secret="s3cret")
    assert err.value.field == "key_id"
    assert services.api_key_service.list() == []
