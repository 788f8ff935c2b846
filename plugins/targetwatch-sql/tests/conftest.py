"""Real databases for the ``sql`` source's tests: SQLite and DuckDB files, and a PostgreSQL
server started for the session when PostgreSQL is installed (skipped, saying why, when not)."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlkit import PG_PASSWORD, PG_USER, Backend, PgServer


def _pg_bindir() -> Path | None:
    candidates = [os.path.dirname(p) for p in (shutil.which("initdb"), shutil.which("pg_ctl")) if p]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True) + ["/usr/local/bin"]
    for folder in candidates:
        if os.access(os.path.join(folder, "initdb"), os.X_OK) and os.access(os.path.join(folder, "pg_ctl"), os.X_OK):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PgServer]:
    """A PostgreSQL server on 127.0.0.1 (and a socket in its own temporary folder), with
    password authentication over TCP, stopped and removed at the end of the session.

    PostgreSQL refuses to run as root: as root, the server runs as ``nobody``."""
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL not installed: no initdb and pg_ctl on PATH, in /usr/lib/postgresql/*/bin or /usr/local/bin")
    base = Path(tempfile.mkdtemp(prefix="tw-sql-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        if shutil.which("setpriv") is None:
            shutil.rmtree(base, ignore_errors=True)
            pytest.skip("PostgreSQL cannot run as root and setpriv (to run it as nobody) is not installed")
        prefix = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
    (base / "pw").write_text(PG_PASSWORD + "\n", encoding="utf-8")
    if prefix:
        os.chown(base / "pw", nobody.pw_uid, nobody.pw_gid)
    data, port = base / "data", _free_port()
    env = {**os.environ, "LC_ALL": "C", "HOME": str(base)}

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*prefix, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=base)

    started = False
    try:
        init = run(str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, f"--pwfile={base / 'pw'}", "--auth-local=trust",
                   "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
        if init.returncode != 0:
            pytest.skip(f"PostgreSQL installed but initdb failed here: {init.stderr.strip()[-300:]}")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-t", "30", "-o", options, "start")
        started = True
        if start.returncode != 0:
            log = (base / "log").read_text(errors="replace")[-300:] if (base / "log").exists() else ""
            pytest.skip(f"PostgreSQL installed but would not start here: {start.stderr.strip()[-300:]} {log}")
        yield PgServer("127.0.0.1", port, PG_USER, PG_PASSWORD)
    finally:
        if started:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "-t", "30", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", "duckdb", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each real database in turn; a table created through it is dropped afterwards."""
    name = request.param
    if name == "sqlite":
        yield Backend(name, f"sqlite:///{tmp_path / 'obs.sqlite'}")
    elif name == "duckdb":
        yield Backend(name, f"duckdb:///{tmp_path / 'obs.duckdb'}")
    else:
        server: PgServer = request.getfixturevalue("postgres_server")
        schema = f"t_{uuid.uuid4().hex[:12]}"  # each test its own schema: no leftovers between tests
        backend = Backend(name, server.url(), schema=schema)
        backend.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield backend
        finally:
            backend.execute(f'DROP SCHEMA "{schema}" CASCADE')
