"""Where the local run keeps its data and tells other commands how to reach it.

Imports nothing but the standard library, so operator commands (`ops.admin --local`, `make invoke`,
`make reset`) can find a running local platform without importing the runner itself.

The data folder is `.local-data/` in the checkout, or the folder named by LOYALTY_LOCAL_DATA (the
end-to-end tests point it at a fresh temporary folder)."""
from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_VARIABLE = "LOYALTY_LOCAL_DATA"
DEFAULT_DATA_DIR = ROOT / ".local-data"


def data_dir() -> Path:
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured).resolve() if configured else DEFAULT_DATA_DIR


def endpoints_file(folder: Path | None = None) -> Path:
    """The file a running local platform writes (base URL, service endpoints, table and queues)."""
    return (folder or data_dir()) / "endpoints.json"


ENDPOINTS_FILE = endpoints_file()


def read_endpoints(folder: Path | None = None) -> dict | None:
    """What the local platform using `folder` wrote at start, or None when it is not running."""
    path = endpoints_file(folder)
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def running_platform(folder: Path | None = None) -> str | None:
    """The base URL of the local platform serving from `folder`, if one answers its health check; a
    file left behind by a run that was killed does not count."""
    endpoints = read_endpoints(folder)
    base_url = (endpoints or {}).get("base_url")
    if not base_url:
        return None
    try:
        with urllib.request.urlopen(f"{base_url}/_local/health", timeout=2) as response:  # noqa: S310 (loopback)
            return base_url if response.status == 200 else None
    except OSError:
        return None
