from pathlib import Path

from local.openapi import render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_document_matches_the_routes_and_models():
    committed = (ROOT / "docs/openapi.json").read_text()
    assert committed == render(), "docs/openapi.json is stale: run `make openapi` and commit it"


def test_every_declared_route_is_documented():
    import json

    from infra.resources import routes

    document = json.loads((ROOT / "docs/openapi.json").read_text())
    for route, function in routes():
        assert route.method.lower() in document["paths"].get(route.path, {}), f"{route.method} {route.path} ({function.name})"
