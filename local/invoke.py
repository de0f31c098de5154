"""Invoke one function with an event file against the running local platform (`make run`):

    make invoke FUNCTION=members EVENT=events/members/enroll.json
"""
from __future__ import annotations

import json
import sys
import urllib.request

from local.endpoints import read_endpoints


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print(__doc__)
        return 2
    function, event_file = args
    endpoints = read_endpoints()
    if endpoints is None:
        print("the local platform is not running: start it with `make run`")
        return 1
    base_url = endpoints["base_url"]
    with open(event_file, "rb") as handle:
        payload = handle.read()
    request = urllib.request.Request(f"{base_url}/_local/invoke/{function}", data=payload, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310 (loopback only)
        print(json.dumps(json.loads(response.read()), indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
