"""Loyalty platform shared code: domain, use cases and AWS adapters (deployed as a Lambda layer)."""
