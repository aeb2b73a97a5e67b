"""Driving the course hub over HTTP, as a browser's pages do: the hub's REST API (servers, tokens), each user's
Jupyter server (nbgrader's assignment_list endpoints: list, fetch, submit, fetch_feedback; the contents API) and
the formgrader service's API. Used by tests/test_hub.py and benchmarks/bench_hub.py; only 127.0.0.1."""
import json
import socket
import time

import requests

COURSE = "rnn-course"


class HubError(RuntimeError):
    pass


def _check(r, what):
    if r.status_code >= 400:
        raise HubError(f"{what}: HTTP {r.status_code}: {r.text[:2000]}")
    return r


class Hub:
    def __init__(self, url, admin_token, timeout=300):
        self.url = url.rstrip("/")
        self.admin = requests.Session()
        self.admin.headers["Authorization"] = f"token {admin_token}"
        self.timeout = timeout

    def api(self, method, path, **kw):
        r = self.admin.request(method, f"{self.url}/hub/api{path}", timeout=self.timeout, **kw)
        return _check(r, f"{method} /hub/api{path}")

    def token(self, user, note="course hub client"):
        """A fresh API token of `user` (the admin asks the hub for it), with the user's own permissions."""
        return self.api("POST", f"/users/{user}/tokens", json={"note": note, "expires_in": 3600}).json()["token"]

    def user(self, name):
        return User(self, name, self.token(name))

    def start_server(self, name, timeout=180):
        """Ask the hub to start `name`'s server and wait until it is ready."""
        r = self.admin.post(f"{self.url}/hub/api/users/{name}/server", timeout=self.timeout)
        if r.status_code not in (201, 202, 400):      # 400: already running
            _check(r, f"start {name}'s server")
        deadline = time.time() + timeout
        while True:
            info = self.api("GET", f"/users/{name}").json()
            if info.get("server") and not info.get("pending"):
                return info["server"]
            if time.time() > deadline:
                raise HubError(f"{name}'s server did not start within {timeout} s: {info}")
            time.sleep(0.3)

    def stop_server(self, name):
        r = self.admin.delete(f"{self.url}/hub/api/users/{name}/server", timeout=self.timeout)
        if r.status_code not in (202, 204, 400):
            _check(r, f"stop {name}'s server")


class User:
    """One user's view: their own server and, for the formgrade group, the course's formgrader service."""

    def __init__(self, hub, name, token):
        self.hub, self.name = hub, name
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"token {token}"

    def _req(self, method, url, what, **kw):
        return _check(self.s.request(method, url, timeout=self.hub.timeout, **kw), f"{self.name}: {what}")

    # the user's own server ------------------------------------------------------------------------------------
    def server(self, method, path, **kw):
        return self._req(method, f"{self.hub.url}/user/{self.name}{path}", f"{method} {path}", **kw)

    def assignments(self):
        out = self.server("GET", "/assignments", params={"course_id": COURSE}).json()
        if not out.get("success"):
            raise HubError(f"{self.name}: list assignments: {out}")
        return out["value"]

    def _action(self, action, assignment):
        out = self.server("POST", f"/assignments/{action}", data={"course_id": COURSE, "assignment_id": assignment})
        out = out.json()
        if not out.get("success"):
            raise HubError(f"{self.name}: {action} {assignment}: {out.get('value', out)}")
        return out["value"]

    def fetch(self, assignment):
        return self._action("fetch", assignment)

    def submit(self, assignment):
        return self._action("submit", assignment)

    def fetch_feedback(self, assignment):
        return self._action("fetch_feedback", assignment)

    def read_notebook(self, path):
        return self.server("GET", f"/api/contents/{path}", params={"content": 1}).json()["content"]

    def write_notebook(self, path, nb):
        body = {"type": "notebook", "format": "json", "content": json.loads(json.dumps(nb))}
        return self.server("PUT", f"/api/contents/{path}", json=body).json()

    def listdir(self, path):
        return [e["name"] for e in self.server("GET", f"/api/contents/{path}").json()["content"]]

    # the formgrader service ----------------------------------------------------------------------------------
    def formgrader(self, method, path, **kw):
        r = self._req(method, f"{self.hub.url}/services/{COURSE}/formgrader/api{path}", f"formgrader {method} {path}",
                      **kw)
        return r.json()

    def formgrader_ok(self, method, path, **kw):
        out = self.formgrader(method, path, **kw)
        if isinstance(out, dict) and out.get("success") is False:
            raise HubError(f"{self.name}: formgrader {method} {path}:\n{out.get('log', '')}\n{out.get('error', '')}")
        return out


def free_ports(n):
    """n distinct free TCP ports on 127.0.0.1 (for the hub, its proxy, its service and PostgreSQL)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports
