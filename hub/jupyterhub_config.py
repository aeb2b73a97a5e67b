"""JupyterHub configuration of the course hub (JupyterHub 6, one machine). Started by `python -m hub.course start`
(`make hub`), which writes the settings file this reads (RNN_HUB_SETTINGS) and prepares everything it names:

  - users: the roster's accounts (hub/accounts.py), logging in with their Unix password (PAM); instructors are
    hub admins;
  - each user's server: the course's Python environment (`jupyterhub-singleuser`, the local process spawner,
    running as the user), with the user-server configuration folder first on JUPYTER_CONFIG_PATH: nbgrader's
    exchange and course id, the *Assignments* tab (assignment_list, course_list, validate) and no formgrader or
    create-assignment tools;
  - the formgrader: a hub-managed service named after the course, a Jupyter server running as the course
    account grader-rnn-course in the course directory, opened by the members of the group formgrade-rnn-course
    (the instructors and graders) at /services/rnn-course/formgrader, as nbgrader's "JupyterHub with multiple
    graders" set-up describes. Its gradebook is the PostgreSQL database (hub/pg.py);
  - course-admin: a service holding the admin role's token (a file only root reads) for scripts and tests.
"""
import json
import os

c = get_config()  # noqa: F821 (JupyterHub provides it)

S = json.load(open(os.environ["RNN_HUB_SETTINGS"], encoding="utf-8"))
COURSE = S["course_id"]
STUDENTS, GRADERS, INSTRUCTORS = S["students"], S["graders"], S["instructors"]
BIN = S["python_bin"]                  # the course environment's bin/ (jupyterhub-singleuser, nbgrader, alembic)

# --- where the hub listens and keeps its own state -------------------------------------------------------------
c.JupyterHub.ip = S["ip"]
c.JupyterHub.port = S["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = S["hub_port"]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{S['proxy_api_port']}"
c.ConfigurableHTTPProxy.command = [S["proxy"]]
c.ConfigurableHTTPProxy.pid_file = os.path.join(S["hub_dir"], "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(S["hub_dir"], "jupyterhub.sqlite")   # the hub's own state
c.JupyterHub.cookie_secret_file = os.path.join(S["hub_dir"], "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(S["hub_dir"], "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True      # stopping the hub stops every user's server
c.JupyterHub.log_level = S.get("log_level", "INFO")

# --- who may log in ---------------------------------------------------------------------------------------------
# An LTI 1.3 login from Canvas or Moodle replaces this block (hub/lti13_config.py shows how).
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = set(STUDENTS + GRADERS + INSTRUCTORS)
c.Authenticator.admin_users = set(INSTRUCTORS)

# nbgrader's groups: formgrade-<course> opens the formgrader service, nbgrader-<course> lists the course for its
# members (course_list).
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": GRADERS + INSTRUCTORS},
    f"nbgrader-{COURSE}": {"users": STUDENTS},
}
c.JupyterHub.load_roles = [
    {"name": f"formgrade-{COURSE}", "groups": [f"formgrade-{COURSE}"],
     "scopes": [f"access:services!service={COURSE}", "list:services", f"read:services!service={COURSE}"]},
    {"name": f"nbgrader-{COURSE}", "groups": [f"nbgrader-{COURSE}"],
     "scopes": ["list:services", f"read:services!service={COURSE}"]},
    # a server's own token carries its owner's permissions (course_list asks the hub for the owner's groups)
    {"name": "server", "scopes": ["inherit"]},
    {"name": "admin", "services": ["course-admin"]},
]

# --- each user's server: the course's Python environment, run as the user -------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [os.path.join(BIN, "jupyterhub-singleuser")]
c.Spawner.default_url = "/tree"          # Jupyter Notebook 7's file browser, with nbgrader's Assignments tab
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
_env = {
    "PATH": BIN + ":/usr/local/bin:/usr/bin:/bin",
    "PYTHONPATH": S["repo"],             # rnn_ref from the course repository, as the book uses it
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
}
c.Spawner.environment = dict(_env, JUPYTER_CONFIG_PATH=S["user_config"])

# --- the formgrader, one service for the course, shared by its graders ----------------------------------------
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": f"http://127.0.0.1:{S['service_port']}",
        "command": [os.path.join(BIN, "jupyterhub-singleuser")],
        "user": S["service_user"],
        "cwd": S["course_dir"],
        "environment": dict(_env, JUPYTER_CONFIG_PATH=S["service_config"], HOME=S["service_home"],
                            JUPYTERHUB_DEFAULT_URL="/formgrader"),
    },
    {"name": "course-admin", "api_token": open(S["admin_token_file"], encoding="ascii").read().strip()},
]
