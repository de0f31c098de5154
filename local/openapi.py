"""The OpenAPI document, generated from the routes and pydantic models of every API function.
`make openapi` writes docs/openapi.json; a test fails when the committed copy is stale."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server

from infra.resources import API_KEY_HEADER, FUNCTIONS

ROOT = Path(__file__).resolve().parent.parent
for entry in (ROOT / "functions", ROOT / "layers/shared/python"):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

DESCRIPTION = """One member, one balance, one history across every store, the webshop and the app.

Every request carries the client's API key in the `X-Api-Key` header. Errors share one shape:
`{"error": {"code": "STABLE_CODE", "message": "...", "field": "offending.field"}}`.
Money is a decimal string in the program's currency; points are integers."""


def build_document() -> dict:
    app = APIGatewayRestResolver(enable_validation=True)
    for spec in FUNCTIONS:
        if spec.routes:
            module = importlib.import_module(spec.handler.rsplit(".", 1)[0])
            app.include_router(module.router)
    schema = app.get_openapi_json_schema(
        title="Loyalty platform API",
        version="1.0.0",
        description=DESCRIPTION,
        servers=[Server(url="http://127.0.0.1:3000", description="local run (make run)")],
        security_schemes={"ApiKey": APIKey(name=API_KEY_HEADER, **{"in": APIKeyIn.header})},
        security=[{"ApiKey": []}],
    )
    return json.loads(schema)


def render() -> str:
    return json.dumps(build_document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="write to this file instead of stdout")
    args = parser.parse_args()
    text = render()
    if args.write:
        args.write.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
