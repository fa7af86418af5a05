"""A private PostgreSQL server for the tests: Debian's ``postgresql``, run as an unprivileged user.

:class:`PostgresServer` makes a fresh cluster in a temporary folder (``initdb``),
starts it on a Unix socket in that folder only (no TCP port), owned by
``nobody`` when the tests run as root (PostgreSQL refuses to run as root), and
stops it afterwards.  Each test course gets its own database (nbgrader's
assignment names are unique per database: one database per course).

Where the server binaries are missing the tests that need it are skipped,
unless ``CNN_COURSE_REQUIRE_POSTGRES=1`` (set by ``make test``, which installs
the package), where they fail instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

REQUIRE_ENV = "CNN_COURSE_REQUIRE_POSTGRES"
SERVER_USER = "nobody"


def server_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server binaries (newest version), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                   key=lambda p: int(Path(p).parent.parent.name))
    return Path(found[-1]).parent if found else None


class PostgresServer:
    """One running PostgreSQL cluster on a private Unix socket."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="cnn-course-pg-"))
        self.data, self.socket = self.base / "data", self.base / "socket"
        self.socket.mkdir()
        self.user = None
        if os.geteuid() == 0:
            self.user = pwd.getpwnam(SERVER_USER)
            os.chmod(self.base, 0o755)
            os.chown(self.socket, self.user.pw_uid, self.user.pw_gid)
            self.data.mkdir(mode=0o700)
            os.chown(self.data, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *cmd: str) -> subprocess.CompletedProcess:
        def drop():
            if self.user is not None:
                os.setgid(self.user.pw_gid)
                os.setuid(self.user.pw_uid)
        proc = subprocess.run([str(self.bindir / cmd[0]), *cmd[1:]], preexec_fn=drop,
                              check=False,
                              capture_output=True, text=True, cwd=self.base,
                              env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"})
        if proc.returncode != 0:
            log = self.socket / "server.log"
            raise RuntimeError(f"{cmd[0]} failed (exit {proc.returncode}): {proc.stdout}{proc.stderr}"
                               + (log.read_text()[-2000:] if log.exists() else ""))
        return proc

    def start(self) -> PostgresServer:
        """``initdb`` (trust authentication, local socket only), then ``pg_ctl start``."""
        self._run("initdb", "-D", str(self.data), "-U", "grader", "--auth=trust", "-E", "UTF8")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.socket / "server.log"),
                  "-o", f"-c listen_addresses='' -c unix_socket_directories='{self.socket}' "
                        f"-c fsync=off -c max_connections=50",
                  "start")
        return self

    def stop(self) -> None:
        """Stop the server and delete its cluster."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        except RuntimeError:
            pass
        shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create database ``name``; return its SQLAlchemy URL (psycopg 3 driver)."""
        self._run("createdb", "-h", str(self.socket), "-U", "grader", name)
        return self.url(name)

    def url(self, name: str) -> str:
        """The SQLAlchemy URL of database ``name`` on this server."""
        return f"postgresql+psycopg://grader@/{name}?host={self.socket}"
