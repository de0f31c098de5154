"""Schemathesis' command line, with one CPython 3.11 defect worked around: hypothesis describes the lambdas
of its strategies (for their repr only) by `ast.parse` of their source, which deep in a recursive strategy
can raise "SystemError: AST constructor recursion depth mismatch". The description is cosmetic: an unknown
one changes nothing that is generated or sent."""
from __future__ import annotations

from hypothesis.internal import lambda_sources

_describe = lambda_sources._lambda_description


def _tolerant_description(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except SystemError:
        return "lambda: <unknown>"


lambda_sources._lambda_description = _tolerant_description

if __name__ == "__main__":
    import schemathesis.cli

    schemathesis.cli.schemathesis()
