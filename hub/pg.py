"""The course hub's gradebook server: a private PostgreSQL cluster (Debian's `postgresql` package), listening on
127.0.0.1 only, run by the `postgres` Unix account.

    python -m hub.pg start DATADIR --port 5433     # initdb the first time, then pg_ctl start; creates the database
    python -m hub.pg stop DATADIR
    python -m hub.pg url --port 5433               # the db_url nbgrader's gradebook uses

Several graders (formgrader requests, `nbgrader autograde`, `nbgrader export`) write one gradebook at once; a
PostgreSQL server takes concurrent writers, one SQLite file does not. Authentication is `trust` for connections
from 127.0.0.1 of this machine: the cluster listens on no other address. On a machine where untrusted users have
shell accounts, set a password (`ALTER ROLE nbgrader PASSWORD ...`), use `-A scram-sha-256` and put the password
in the grader account's ~/.pgpass (see book/exercises/instructors.md, "Running a term on a hub").
"""
import argparse
import glob
import os
import pwd
import shutil
import subprocess
import sys
import time

DATABASE = "rnn_course"
ROLE = "nbgrader"


def bindir():
    """Where Debian puts the PostgreSQL server programs (initdb and pg_ctl are not on PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (`make hub` does it)")
    return os.path.dirname(found[-1])


def db_url(port, host="127.0.0.1", database=DATABASE):
    return f"postgresql+psycopg2://{ROLE}@{host}:{port}/{database}"


def _as_postgres(cmd, **kw):
    """Run a command as the postgres account (root runs this; the server refuses to run as root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd, proc.stdout, proc.stderr)
    return proc


def _explain(e):
    return RuntimeError(f"{' '.join(e.cmd)} failed ({e.returncode}):\n{e.stdout}\n{e.stderr}")


def _psql(port, sql, database="postgres"):
    return _as_postgres([os.path.join(bindir(), "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                         "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql]).stdout.strip()


def start(datadir, port, timeout=60):
    """initdb (first time) and start the cluster in datadir on 127.0.0.1:port; create the role and database."""
    datadir = os.path.abspath(datadir)
    pg = pwd.getpwnam("postgres")
    if not os.path.exists(os.path.join(datadir, "PG_VERSION")):
        os.makedirs(datadir, mode=0o700, exist_ok=True)
        os.chown(datadir, pg.pw_uid, pg.pw_gid)
        try:
            _as_postgres([os.path.join(bindir(), "initdb"), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                          "-D", datadir])
        except subprocess.CalledProcessError as e:
            raise _explain(e) from None
    sockdir = os.path.join(datadir, "sockets")
    os.makedirs(sockdir, exist_ok=True)
    os.chown(sockdir, pg.pw_uid, pg.pw_gid)
    try:
        _as_postgres([os.path.join(bindir(), "pg_ctl"), "-D", datadir, "-l", os.path.join(datadir, "server.log"),
                      "-w", "-t", str(timeout), "-o",
                      f"-k {sockdir} -p {int(port)} -c listen_addresses=127.0.0.1 -c max_connections=200", "start"])
    except subprocess.CalledProcessError as e:
        raise _explain(e) from None
    deadline = time.time() + timeout
    while True:
        try:
            _psql(port, "select 1")
            break
        except subprocess.CalledProcessError:
            if time.time() > deadline:
                raise
            time.sleep(0.2)
    if _psql(port, f"select 1 from pg_roles where rolname = '{ROLE}'") != "1":
        _psql(port, f"create role {ROLE} login")
    if _psql(port, f"select 1 from pg_database where datname = '{DATABASE}'") != "1":
        _psql(port, f"create database {DATABASE} owner {ROLE}")
    return db_url(port)


def stop(datadir, timeout=60):
    datadir = os.path.abspath(datadir)
    if os.path.exists(os.path.join(datadir, "postmaster.pid")):
        _as_postgres([os.path.join(bindir(), "pg_ctl"), "-D", datadir, "-w", "-t", str(timeout),
                      "-m", "fast", "stop"])


def destroy(datadir):
    stop(datadir)
    shutil.rmtree(datadir, ignore_errors=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("datadir")
    s.add_argument("--port", type=int, default=5433)
    t = sub.add_parser("stop")
    t.add_argument("datadir")
    u = sub.add_parser("url")
    u.add_argument("--port", type=int, default=5433)
    a = p.parse_args(argv)
    if a.cmd == "start":
        print(start(a.datadir, a.port))
    elif a.cmd == "stop":
        stop(a.datadir)
    else:
        print(db_url(a.port))


if __name__ == "__main__":
    sys.exit(main())
