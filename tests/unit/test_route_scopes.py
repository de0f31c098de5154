"""Every API route declares the scope it needs, so a client without it is refused before its body is read."""
from __future__ import annotations

import importlib

import pytest

from infra.resources import routes


@pytest.mark.parametrize("route,function", routes(), ids=lambda v: getattr(v, "path", getattr(v, "name", "")))
def test_every_route_has_a_scope_checked_before_the_body(route, function):
    module = importlib.import_module(function.handler.rsplit(".", 1)[0])
    assert f"{route.method} {route.path}" in module.SCOPES
