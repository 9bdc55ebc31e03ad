"""A throwaway PostgreSQL cluster in a temporary folder, from Debian's server binaries (initdb, pg_ctl).

PostgreSQL refuses to run as root: as root (CI) the cluster belongs to the `postgres` user that Debian's package
creates. It listens on 127.0.0.1 at a free port with trust authentication and is removed at exit.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

MISSING = "Debian's PostgreSQL server is missing: apt-get install postgresql (.ci/run installs it)"


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    user: str
    db: str

    def connect(self):
        import psycopg2  # the optional `postgres` extra: imported when a deploy test runs, not when collected

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.db)

    def env(self) -> dict[str, str]:
        """The DAGSTER_PG_* variables deploy/dagster.yaml reads."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port), "DAGSTER_PG_USER": self.user,
                "DAGSTER_PG_PASSWORD": "unused-with-trust", "DAGSTER_PG_DB": self.db}


def server_bin() -> str:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    assert found, MISSING
    return os.path.dirname(found[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def throwaway_cluster(db: str = "dagster", user: str = "dagster") -> Iterator[Cluster]:
    bin_dir = server_bin()
    owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
    root = tempfile.mkdtemp(prefix="retention-pg-")  # not pytest's tmp_path: root's 0700 folders hide it
    data, log = os.path.join(root, "data"), os.path.join(root, "server.log")
    if owner:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    run_as = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []} if owner else {}

    def run(*args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, cwd=root, **run_as)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"

    port = free_port()
    try:
        run(f"{bin_dir}/initdb", "-D", data, "-U", user, "-A", "trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        run(f"{bin_dir}/pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start")
        try:
            import psycopg2  # the optional `postgres` extra
            from psycopg2 import sql

            con = psycopg2.connect(host="127.0.0.1", port=port, user=user, dbname="postgres")
            try:
                con.autocommit = True  # CREATE DATABASE runs outside a transaction
                con.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
            finally:
                con.close()
            yield Cluster("127.0.0.1", port, user, db)
        finally:
            run(f"{bin_dir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
