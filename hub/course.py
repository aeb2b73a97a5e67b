"""The course hub on one machine, in one command (run as root; `make hub` runs `start` in the foreground).

    python -m hub.course start --roster hub/roster.csv [--state /srv/rnn-course] [--port 8000] [--detach]
    python -m hub.course run   [--state DIR] -- nbgrader autograde a1_forward   # as the course account
    python -m hub.course stop  [--state DIR]                                     # hub, servers, PostgreSQL
    python -m hub.course destroy --roster hub/roster.csv [--state DIR]           # stop, remove accounts and DIR

`start` does, in order (each step keeps what an earlier start made):
  1. the Unix accounts of the roster and the course account grader-rnn-course (hub/accounts.py);
  2. the state folder DIR: exchange/ (nbgrader's exchange, world-writable as nbgrader documents, with the
     sticky bit so nobody deletes another's files), pg/ (the gradebook's PostgreSQL cluster), hub/ (the hub's
     own database, cookie secret and admin token, root only), etc/ (the Jupyter configuration of the users'
     servers and of the formgrader), course/ (the course directory, owned by grader-rnn-course: its
     nbgrader_config.py loads the repository's, so autograding is the course's sandboxed grader; source/ is a
     copy of the repository's solutions/);
  3. PostgreSQL on 127.0.0.1 (hub/pg.py) and the gradebook: the roster's students imported;
  4. JupyterHub with hub/jupyterhub_config.py, configurable-http-proxy from hub/node (installed by `make hub`).
"""
import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from . import accounts, pg

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(os.path.abspath(sys.executable))   # keep the venv's bin/, not the interpreter's realpath
PROXY = os.path.join(REPO, "hub", "node", "node_modules", ".bin", "configurable-http-proxy")
DEFAULT_STATE = "/srv/rnn-course"


def paths(state):
    state = os.path.abspath(state)
    return {
        "state": state,
        "exchange": os.path.join(state, "exchange"),
        "pg": os.path.join(state, "pg"),
        "hub_dir": os.path.join(state, "hub"),
        "user_config": os.path.join(state, "etc", "user"),
        "service_config": os.path.join(state, "etc", "formgrader"),
        "course_dir": os.path.join(state, "course"),
        "settings": os.path.join(state, "hub", "settings.json"),
        "admin_token_file": os.path.join(state, "hub", "admin_token"),
        "log": os.path.join(state, "hub", "jupyterhub.log"),
    }


def load_settings(state):
    with open(paths(state)["settings"], encoding="utf-8") as f:
        return json.load(f)


def make_reachable(path, log=print):
    """Let the course's accounts reach `path` (the Python environment, the repository): give o+x to each parent
    folder that lacks it. Only traversal: nobody can list those folders. (pyenv puts Python under /root.)"""
    path = os.path.realpath(path)
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        d = os.sep.join(parts[:i]) or os.sep
        if os.path.isdir(d):
            mode = os.stat(d).st_mode
            if not mode & 0o001:
                os.chmod(d, mode | 0o001)
                log(f"{d}: made traversable (o+x) so the course's accounts reach {path}")


def _write(path, text, mode=0o644, owner=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _extensions(formgrader):
    ext = "nbgrader.server_extensions."
    return json.dumps({"ServerApp": {"jpserver_extensions": {
        ext + "formgrader": formgrader, ext + "assignment_list": not formgrader,
        ext + "course_list": not formgrader, ext + "validate_assignment": True}}}, indent=2) + "\n"


def late_penalty_config(late_penalty):
    """nbgrader config lines for the late penalty: 'course' (the course's own setting in nbgrader_config.py: a
    percentage per day late, grading.late.LatePenalty), 'none' or 'zero' (nbgrader's LateSubmissionPlugin), or
    the dotted name of another late-penalty plugin class."""
    if late_penalty == "course":
        return ""
    if late_penalty in ("none", "zero"):
        return ("c.AssignLatePenalties.plugin_class = 'nbgrader.plugins.LateSubmissionPlugin'\n"
                f"c.LateSubmissionPlugin.penalty_method = {late_penalty!r}\n")
    if "." not in late_penalty:
        raise ValueError(f"late_penalty: expected 'course', 'none', 'zero' or a plugin's dotted class name, got "
                         f"{late_penalty!r}")
    module, name = late_penalty.rsplit(".", 1)
    return f"from {module} import {name}\nc.AssignLatePenalties.plugin_class = {name}\n"


def course_config(p, db_url, course_id, late_penalty):
    return (
        "# Written by `python -m hub.course start`: the hub's course directory. Everything else comes from the\n"
        "# course repository's nbgrader_config.py (the sandboxed, parallel grader included).\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({os.path.join(REPO, 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {p['course_dir']!r}\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
        "c.CourseDirectory.source_directory = 'source'\n"
        f"c.CourseDirectory.db_url = {db_url!r}   # PostgreSQL: several graders write at once\n"
        f"c.Exchange.root = {p['exchange']!r}\n"
        "c.DueDates.path = ''   # on the hub, due dates are set in the formgrader (the gradebook's own)\n"
        + late_penalty_config(late_penalty))


def run_as(user, cmd, cwd, env=None, **kw):
    """Run cmd as `user` (root runs this) with the course environment's bin/ first on PATH."""
    home = pwd.getpwnam(user).pw_dir
    full = ["runuser", "-u", user, "--", "env", f"HOME={home}", f"USER={user}",
            f"PATH={BIN}:/usr/local/bin:/usr/bin:/bin", f"PYTHONPATH={REPO}",
            "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1"] + [f"{k}={v}" for k, v in (env or {}).items()] + list(cmd)
    return subprocess.run(full, cwd=cwd, **kw)


def prepare(roster, state, port=8000, hub_port=8081, proxy_api_port=8001, service_port=9999, pg_port=5433,
            late_penalty="course", log=print):
    """Steps 1-3 of `start`: accounts, folders, configuration, PostgreSQL and the gradebook's students."""
    if os.geteuid() != 0:
        raise SystemExit("the course hub makes accounts and runs servers as them: run it as root")
    if not os.path.exists(PROXY):
        raise SystemExit(f"configurable-http-proxy is missing ({PROXY}): run `make hub-install`")
    rows = accounts.read_roster(roster)
    course_id = accounts.COURSE_ID
    p = paths(state)
    for target in (sys.executable, REPO):
        make_reachable(target, log)
    accounts.create(rows, log)
    svc = pwd.getpwnam(accounts.SERVICE_USER)

    os.makedirs(p["state"], exist_ok=True)
    os.chmod(p["state"], 0o755)
    make_reachable(p["state"], log)
    os.makedirs(p["exchange"], exist_ok=True)
    os.chmod(p["exchange"], 0o1777)               # nbgrader: the exchange is readable and writable by everyone
    os.makedirs(p["hub_dir"], exist_ok=True)
    os.chmod(p["hub_dir"], 0o700)
    if not os.path.exists(p["admin_token_file"]):
        _write(p["admin_token_file"], secrets.token_hex(32) + "\n", mode=0o600)

    # the users' servers: the exchange, the course, the Assignments tab, no instructor tools
    exchange_cfg = (f"c = get_config()  # noqa: F821\nc.CourseDirectory.course_id = {course_id!r}\n"
                    f"c.Exchange.root = {p['exchange']!r}\n"
        "c.DueDates.path = ''   # on the hub, due dates are set in the formgrader (the gradebook's own)\n")
    _write(os.path.join(p["user_config"], "nbgrader_config.py"), exchange_cfg)
    _write(os.path.join(p["user_config"], "jupyter_server_config.json"), _extensions(formgrader=False))
    _write(os.path.join(p["user_config"], "labconfig", "page_config.json"), json.dumps({"disabledExtensions": {
        "@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True}}, indent=2) + "\n")
    # the formgrader service
    _write(os.path.join(p["service_config"], "nbgrader_config.py"), exchange_cfg)
    _write(os.path.join(p["service_config"], "jupyter_server_config.json"), _extensions(formgrader=True))
    for d in (os.path.join(p["state"], "etc"), p["user_config"], p["service_config"],
              os.path.join(p["user_config"], "labconfig")):
        os.chmod(d, 0o755)

    pg_url = pg.start(p["pg"], pg_port)
    log(f"gradebook: {pg_url}")

    os.makedirs(p["course_dir"], exist_ok=True)
    source = os.path.join(p["course_dir"], "source")
    if not os.path.isdir(source):
        shutil.copytree(os.path.join(REPO, "solutions"), source,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    _write(os.path.join(p["course_dir"], "nbgrader_config.py"), course_config(p, pg_url, course_id, late_penalty))
    students = os.path.join(p["course_dir"], "students.csv")
    with open(students, "w", encoding="utf-8") as f:
        f.write("id,first_name,last_name,email\n")
        for r in rows:
            if r["role"] == "student":
                f.write(f"{r['id']},{r['first_name']},{r['last_name']},{r['email']}\n")
    subprocess.run(["chown", "-R", f"{svc.pw_uid}:{svc.pw_gid}", p["course_dir"]], check=True)
    os.chmod(p["course_dir"], 0o700)
    run_as(accounts.SERVICE_USER, ["nbgrader", "db", "student", "import", "students.csv"], p["course_dir"],
           check=True, capture_output=True, text=True)

    settings = dict(
        p, course_id=course_id, repo=REPO, python_bin=BIN, proxy=PROXY, ip="127.0.0.1", port=port,
        hub_port=hub_port, proxy_api_port=proxy_api_port, service_port=service_port, pg_port=pg_port,
        gradebook=pg_url, service_user=accounts.SERVICE_USER, service_home=svc.pw_dir,
        students=accounts.by_role(rows, "student"), graders=accounts.by_role(rows, "grader"),
        instructors=accounts.by_role(rows, "instructor"))
    _write(p["settings"], json.dumps(settings, indent=2) + "\n", mode=0o600)
    return settings


def _free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def launch(state, timeout=120):
    """Step 4: start JupyterHub in the background; return its Popen once its API answers."""
    s = load_settings(state)
    for name in ("port", "hub_port", "proxy_api_port", "service_port"):
        if not _free(s[name]):
            raise SystemExit(f"port {s[name]} ({name}) is taken: stop what uses it or pick another")
    env = dict(os.environ, RNN_HUB_SETTINGS=s["settings"], PATH=f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
               PYTHONPATH=REPO)
    logf = open(s["log"], "ab")
    proc = subprocess.Popen([os.path.join(BIN, "jupyterhub"), "-f", os.path.join(REPO, "hub", "jupyterhub_config.py")],
                            cwd=s["hub_dir"], env=env, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + timeout
    url = f"http://127.0.0.1:{s['port']}/hub/api/"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterHub exited ({proc.returncode}); its log: {s['log']}\n" + tail(s["log"]))
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.time() > deadline:
            proc.terminate()
            raise RuntimeError(f"JupyterHub did not answer within {timeout} s; its log:\n" + tail(s["log"]))
        time.sleep(0.5)
    return proc


def tail(path, n=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return ""


def stop(state, timeout=60):
    """Stop the hub (it stops the users' servers, the formgrader and the proxy), then PostgreSQL."""
    p = paths(state)
    pidfile = os.path.join(p["hub_dir"], "jupyterhub.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pid = None
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    if os.waitpid(pid, os.WNOHANG)[0]:    # our own child (`start` in the foreground): reaped
                        break
                except ChildProcessError:                # started by another process (`start --detach`)
                    pass
                os.kill(pid, 0)
                time.sleep(0.2)
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # the proxy, should the hub have died without stopping it
    try:
        with open(os.path.join(p["hub_dir"], "proxy.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGTERM)
    except (OSError, ValueError, ProcessLookupError):
        pass
    pg.stop(p["pg"])


def destroy(roster, state):
    stop(state)
    accounts.remove(accounts.read_roster(roster))
    shutil.rmtree(paths(state)["state"], ignore_errors=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description="The course hub on one machine.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("--roster", required=True)
    st.add_argument("--state", default=DEFAULT_STATE)
    for name, default in (("port", 8000), ("hub-port", 8081), ("proxy-api-port", 8001), ("service-port", 9999),
                          ("pg-port", 5433)):
        st.add_argument("--" + name, type=int, default=default)
    st.add_argument("--late-penalty", default="course",
                    help="'course' (nbgrader_config.py's per-day penalty), 'none', 'zero' (nbgrader's plugin: late "
                         "work scores 0) or a plugin's dotted class name")
    st.add_argument("--detach", action="store_true", help="return once the hub answers, leaving it running")
    rn = sub.add_parser("run")
    rn.add_argument("--state", default=DEFAULT_STATE)
    rn.add_argument("command", nargs=argparse.REMAINDER)
    for name in ("stop", "destroy"):
        x = sub.add_parser(name)
        x.add_argument("--state", default=DEFAULT_STATE)
        if name == "destroy":
            x.add_argument("--roster", required=True)
    a = ap.parse_args(argv)

    if a.cmd == "start":
        prepare(a.roster, a.state, a.port, a.hub_port, a.proxy_api_port, a.service_port, a.pg_port, a.late_penalty)
        proc = launch(a.state)
        print(f"The course hub is at http://127.0.0.1:{a.port}/ (log: {paths(a.state)['log']}); graders open "
              f"http://127.0.0.1:{a.port}/services/{accounts.COURSE_ID}/formgrader")
        if a.detach:
            return 0

        def interrupted(signum, frame):
            raise KeyboardInterrupt
        signal.signal(signal.SIGINT, interrupted)      # Ctrl-C, also when started from a script
        signal.signal(signal.SIGTERM, interrupted)     # `kill`, a service manager
        try:
            proc.wait()
        except KeyboardInterrupt:
            pass
        stop(a.state)
    elif a.cmd == "run":
        cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
        return run_as(accounts.SERVICE_USER, cmd, paths(a.state)["course_dir"]).returncode
    elif a.cmd == "stop":
        stop(a.state)
    else:
        destroy(a.roster, a.state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
