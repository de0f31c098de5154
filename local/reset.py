"""`make reset`: delete the local run's data (the DynamoDB Local database, the stream positions and the
members' data exports), so the next `make run` starts empty and seeds the demo stores and keys again.
Logs stay.

Refuses while a local platform is serving from the same data folder: stop it first."""
from __future__ import annotations

import shutil
import sys

from local.endpoints import data_dir, endpoints_file, running_platform

# Only what the local run itself writes there; never the whole folder (LOYALTY_LOCAL_DATA may name any folder).
DATA_ENTRIES = ("dynamodb", "streams", "exports")


def main(argv: list[str] | None = None) -> int:
    folder = data_dir()
    base_url = running_platform(folder)
    if base_url:
        print(f"the local platform is running at {base_url} on {folder}: stop it (Ctrl-C) before `make reset`")
        return 1
    removed = []
    for name in DATA_ENTRIES:
        path = folder / name
        if path.exists():
            shutil.rmtree(path)
            removed.append(name)
    endpoints_file(folder).unlink(missing_ok=True)  # left behind by a run that was killed
    print(f"removed {', '.join(removed)} from {folder}; the next `make run` starts empty" if removed
          else f"nothing to remove in {folder}; the next `make run` starts empty")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
