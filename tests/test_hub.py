"""A term on the course hub (issue 10): JupyterHub, nbgrader's exchange, a PostgreSQL gradebook, two graders.

The commands are those of book/exercises/instructors.md, "Running a term on a hub": `python -m hub.course start`
(accounts from a roster, PostgreSQL, the hub) and `python -m hub.course run -- nbgrader ...` (the instructor's
CLI as the course account). Everything else goes over HTTP to 127.0.0.1, as the students' and graders' pages do:
the hub's REST API, the students' servers (nbgrader's assignment_list endpoints and the contents API), the
formgrader service's API, and one student through headless Chromium (log in, Assignments tab, Fetch).

Needs root (it makes Unix accounts), Debian's postgresql, configurable-http-proxy in hub/node and JupyterHub:
`make hub-install` (a dependency of `make test`). Everything it makes is removed at the end.
"""
import csv
import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import nbformat
import pytest

from grading_helpers import ROOT, answer_cells, solution_path, solved

pytestmark = pytest.mark.hub
sys.path.insert(0, ROOT)
from hub import accounts, course, pg  # noqa: E402
from hub.client import Hub, free_ports  # noqa: E402

A = "a1_forward"                      # 10 autograded points (4 + 6) and a written answer worth 2
# The instructor's commands (run as the course account, `python -m hub.course run -- ...`), as the page shows them
AUTOGRADE = ("nbgrader", "autograde", A)
PENALTIES = ("python", "-m", "hub.penalties", A)
EXPORT = ("nbgrader", "export", "--to", "grades.csv")
PASSWORD = secrets.token_urlsafe(12)  # the browser student's, for this run only


def hub_command(*args, **kw):
    return subprocess.run([sys.executable, "-m", "hub.course", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, **kw)


@pytest.fixture(scope="module")
def term():
    if os.geteuid() != 0:
        pytest.skip("the hub test makes Unix accounts and runs servers as them: it needs root (CI runs as root)")
    missing = [what for what, ok in (("PostgreSQL (apt-get install postgresql)", _has_pg()),
                                     ("configurable-http-proxy (hub/node)", os.path.exists(course.PROXY)))
               if not ok]
    if missing:
        pytest.fail(f"the hub test needs {', '.join(missing)}: run `make hub-install`", pytrace=False)
    tag = "h" + secrets.token_hex(2)
    names = {"instructor": [f"{tag}-prof"], "grader": [f"{tag}-ta1", f"{tag}-ta2"],
             "student": [f"{tag}-s1", f"{tag}-s2", f"{tag}-s3"]}
    state = tempfile.mkdtemp(prefix="rnn-hub-")
    roster = os.path.join(state, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write("id,role,first_name,last_name,email\n")
        for role, ids in names.items():
            for i, uid in enumerate(ids):
                f.write(f"{uid},{role},First{i},Last{i},{uid}@example.edu\n")
    port, hub_port, api_port, svc_port, pg_port = free_ports(5)
    state_dir = os.path.join(state, "srv")
    try:
        started = time.time()
        proc = hub_command("start", "--roster", roster, "--state", state_dir, "--port", str(port),
                           "--hub-port", str(hub_port), "--proxy-api-port", str(api_port), "--service-port",
                           str(svc_port), "--pg-port", str(pg_port), "--late-penalty", "zero", "--detach")
        assert proc.returncode == 0, f"hub.course start failed:\n{proc.stdout}\n{proc.stderr}"
        settings = course.load_settings(state_dir)
        token = open(settings["admin_token_file"], encoding="ascii").read().strip()
        yield {"names": names, "state": state_dir, "settings": settings, "roster": roster,
               "hub": Hub(f"http://127.0.0.1:{port}", token), "url": f"http://127.0.0.1:{port}",
               "start_seconds": time.time() - started}
    finally:
        proc = hub_command("destroy", "--roster", roster, "--state", state_dir)
        shutil.rmtree(state, ignore_errors=True)
        assert proc.returncode == 0, f"hub.course destroy failed:\n{proc.stdout}\n{proc.stderr}"
        for ids in names.values():
            for uid in ids:
                with pytest.raises(KeyError):
                    __import__("pwd").getpwnam(uid)


def _has_pg():
    try:
        pg.bindir()
        return True
    except RuntimeError:
        return False


def pg_dump(port, path):
    return ["pg_dump", "-h", "127.0.0.1", "-p", port, "-U", "nbgrader", "-Fc", "-f", path, "rnn_course"]


def pg_restore(port, path):
    return ["pg_restore", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "--clean", "--if-exists", "-d",
            "rnn_course", path]


def instructor_cli(term, *cmd):
    proc = hub_command("run", "--state", term["state"], "--", *cmd)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def fill(release_nb, kind):
    """What a student hands in: the release with every answer (correct), with only the first function and the
    written answer (partial)."""
    sol = nbformat.read(solution_path(A), as_version=4)
    rel = nbformat.from_dict(release_nb)
    if kind == "correct":
        return solved(rel, sol)
    written = {c.metadata["nbgrader"]["grade_id"] for c in sol.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")}
    return solved(rel, sol, keep={answer_cells(sol)[0].metadata["nbgrader"]["grade_id"]} | written)


def test_a_term_on_the_hub(term):
    hub, names, settings = term["hub"], term["names"], term["settings"]
    (prof,), (ta1, ta2), (s1, s2, s3) = names["instructor"], names["grader"], names["student"]
    timings = {"hub start (accounts, PostgreSQL, hub)": term["start_seconds"]}

    # --- what start made: the exchange as nbgrader documents it, the gradebook on PostgreSQL, the roster in it
    mode = os.stat(settings["exchange"]).st_mode & 0o7777
    assert mode == 0o1777, f"the exchange {settings['exchange']} has mode {oct(mode)}; nbgrader needs it writable by all"
    assert settings["gradebook"].startswith("postgresql"), settings["gradebook"]
    with open(os.path.join(settings["course_dir"], "nbgrader_config.py"), encoding="utf-8") as f:
        assert f"c.CourseDirectory.db_url = {settings['gradebook']!r}" in f.read()
    users = {u["name"]: u for u in hub.api("GET", "/users").json()}
    assert {prof, ta1, ta2, s1, s2, s3} <= set(users)
    assert users[prof]["admin"] and not users[s1]["admin"]
    assert users[ta1]["groups"] == ["formgrade-rnn-course"] and users[s1]["groups"] == ["nbgrader-rnn-course"]

    # --- who sees what: students the Assignments endpoints and no formgrader; graders the course's formgrader
    t = time.time()
    for name in (s1, s2, s3):
        hub.start_server(name)
    timings["three students' servers started"] = time.time() - t
    I, G1, G2 = hub.user(prof), hub.user(ta1), hub.user(ta2)
    S = {n: hub.user(n) for n in (s1, s2, s3)}
    assert S[s1].assignments() == []
    for path in ("/formgrader/api/status", "/formgrader", "/api/contents"):
        r = S[s1].s.get(f"{term['url']}/services/rnn-course{path}", timeout=60, allow_redirects=False)
        assert r.status_code == 403, f"a student opened the formgrader service: {r.status_code}"
    r = S[s1].s.get(f"{term['url']}/user/{s1}/formgrader/api/status", timeout=60)
    assert r.status_code == 404, "the formgrader extension is enabled in a student's server"
    assert G1.formgrader("GET", "/status") == {"status": True}
    assert G2.formgrader("GET", "/status") == {"status": True}

    # --- release, with a due date
    t = time.time()
    I.formgrader_ok("POST", f"/assignment/{A}/assign")
    I.formgrader_ok("POST", f"/assignment/{A}/release")
    assert os.path.exists(os.path.join(settings["exchange"], "rnn-course", "outbound", A, A + ".ipynb"))

    # --- students fetch (s3 through the browser), fill and submit: two on time, s3 after the due date
    browser_fetch(term, s3)
    for name in (s1, s2):
        listed = S[name].fetch(A)
        assert any(a["assignment_id"] == A and a["status"] == "fetched" for a in listed), listed
    assert {a["status"] for a in S[s3].assignments() if a["assignment_id"] == A} == {"fetched"}
    for name, kind in ((s1, "correct"), (s2, "partial"), (s3, "correct")):
        nb = S[name].read_notebook(f"{A}/{A}.ipynb")
        S[name].write_notebook(f"{A}/{A}.ipynb", fill(nb, kind))
    S[s1].submit(A)
    S[s2].submit(A)
    due = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    I.formgrader("PUT", f"/assignment/{A}", json={"duedate_notimezone": due.isoformat(sep=" "),
                                                   "duedate_timezone": "UTC"})
    time.sleep(1.5)
    S[s3].submit(A)
    timings["release, fetch (3), fill, submit (3)"] = time.time() - t

    # --- collect and autograde: the course's sandboxed grader, the instructor's CLI as the course account
    I.formgrader_ok("POST", f"/assignment/{A}/collect")
    for name in (s1, s2, s3):
        assert os.path.exists(os.path.join(settings["course_dir"], "submitted", name, A, A + ".ipynb")), name
    t = time.time()
    proc = instructor_cli(term, *AUTOGRADE)
    timings["nbgrader autograde (3 submissions, sandboxed)"] = time.time() - t
    assert "submitted late" in proc.stderr or "late" in proc.stderr.lower(), proc.stderr[-2000:]

    subs = {x["student"]: x for x in G1.formgrader("GET", f"/submitted_notebooks/{A}/{A}")}
    assert set(subs) == {s1, s2, s3}
    assert (subs[s1]["code_score"], subs[s2]["code_score"], subs[s3]["code_score"]) == (10.0, 4.0, 10.0), subs

    # --- two graders score the written answers at the same time (each a share of the class, plus comments)
    manual = {s1: 2.0, s2: 1.0, s3: 2.0}
    work = {ta1: [s1, s3], ta2: [s2]}
    errors, t = [], time.time()

    def grade(grader, students):
        try:
            for name in students:
                grades = grader.formgrader("GET", "/grades", params={"submission_id": subs[name]["id"]})
                written = [g for g in grades if g["cell_type"] == "markdown"]
                assert len(written) == 1 and written[0]["needs_manual_grade"], written
                out = grader.formgrader("PUT", f"/grade/{written[0]['id']}",
                                        json={"manual_score": manual[name], "extra_credit": None})
                assert out["manual_score"] == manual[name], out
                for c in grader.formgrader("GET", "/comments", params={"submission_id": subs[name]["id"]}):
                    grader.formgrader("PUT", f"/comment/{c['id']}", json={"manual_comment": f"graded by {grader.name}"})
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=grade, args=(g, work[g.name])) for g in (G1, G2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(300)
    assert not errors, errors
    timings["two graders at once"] = time.time() - t
    subs = {x["student"]: x for x in I.formgrader("GET", f"/submitted_notebooks/{A}/{A}")}
    assert {n: subs[n]["written_score"] for n in manual} == manual, "a manual grade was lost"
    assert not any(subs[n]["needs_manual_grade"] for n in manual)

    # --- feedback: generated and released by the instructor, fetched by each student
    t = time.time()
    I.formgrader_ok("POST", f"/assignment/{A}/generate_feedback")
    I.formgrader_ok("POST", f"/assignment/{A}/release_feedback")
    for name in (s1, s2, s3):
        S[name].fetch_feedback(A)
        stamps = S[name].listdir(f"{A}/feedback")
        assert len(stamps) == 1, stamps
        html = S[name].server("GET", f"/api/contents/{A}/feedback/{stamps[0]}/{A}.html",
                              params={"content": 1}).json()["content"]
        assert "BEGIN HIDDEN TESTS" not in html and "hidden=True" not in html
    timings["feedback generated, released, fetched (3)"] = time.time() - t

    # --- the late penalty, again on the scores with the hand-given points (nbgrader sets it when autograding)
    proc = instructor_cli(term, *PENALTIES)
    assert f"{s3}: late, penalty 12" in proc.stdout and s1 not in proc.stdout, proc.stdout

    # --- the export: the right scores, the late penalty, nobody lost
    instructor_cli(term, *EXPORT)
    with open(os.path.join(settings["course_dir"], "grades.csv"), newline="", encoding="utf-8") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == A}
    assert set(rows) == {s1, s2, s3}
    got = {n: (float(rows[n]["raw_score"]), float(rows[n]["late_submission_penalty"] or 0), float(rows[n]["score"]))
           for n in rows}
    # nbgrader's LateSubmissionPlugin, penalty_method 'zero': late work scores 0 (the penalty is its raw score)
    assert got == {s1: (12.0, 0.0, 12.0), s2: (5.0, 0.0, 5.0), s3: (12.0, 12.0, 0.0)}, got

    # --- the gradebook's backup and restore, the page's commands: pg_dump while the hub runs; to restore, stop
    # the hub, start the database alone, pg_restore, and nothing graded is lost
    port = str(settings["pg_port"])
    dump = os.path.join(term["state"], "gradebook.dump")
    subprocess.run(pg_dump(port, dump), check=True, capture_output=True)
    assert hub_command("stop", "--state", term["state"]).returncode == 0
    pg.start(settings["pg"], settings["pg_port"])
    psql = ["psql", "-h", "127.0.0.1", "-p", port, "-U", "nbgrader", "-d", "rnn_course", "-tAc"]
    subprocess.run(psql + ["UPDATE grade SET manual_score = NULL"], check=True, capture_output=True)   # an accident
    subprocess.run(pg_restore(port, dump), check=True, capture_output=True)
    restored = subprocess.run(psql + ["SELECT count(*) FROM grade WHERE manual_score IS NOT NULL"], check=True,
                              capture_output=True, text=True).stdout.strip()
    assert restored == "3", f"{restored} hand-given grades after the restore; 3 were given"
    instructor_cli(term, "nbgrader", "export", "--to", "restored.csv")
    with open(os.path.join(settings["course_dir"], "restored.csv"), newline="", encoding="utf-8") as f:
        again = {r["student_id"]: (float(r["raw_score"]), float(r["late_submission_penalty"] or 0), float(r["score"]))
                 for r in csv.DictReader(f) if r["assignment"] == A}
    assert again == got
    print("\nhub term timings (s): " + json.dumps({k: round(v, 1) for k, v in timings.items()}))


# ---------------------------------------------------------------------------------------------------------------
# One student through headless Chromium: log in with a Unix password, open the Assignments tab, press Fetch.

def browser_fetch(term, student):
    from test_browser import CHROMEDRIVER, CHROMIUM
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("headless Chromium is needed (make chromium)", pytrace=False)
    subprocess.run([sys.executable, "-m", "hub.accounts", "passwords"], input=f"{student}:{PASSWORD}\n", text=True,
                   check=True, cwd=ROOT, capture_output=True)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.mkdtemp(prefix="hub-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-extensions", "--window-size=1280,1000",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    drv.set_page_load_timeout(120)
    wait = WebDriverWait(drv, 90)
    try:
        drv.get(f"{term['url']}/hub/login")
        drv.find_element(By.ID, "username_input").send_keys(student)
        drv.find_element(By.ID, "password_input").send_keys(PASSWORD)
        drv.find_element(By.ID, "login_submit").click()
        wait.until(lambda d: f"/user/{student}/tree" in d.current_url)
        # Jupyter Notebook 7: menu Nbgrader > Assignment List opens the Assignments tab
        wait.until(EC.element_to_be_clickable(
            (By.XPATH, "//*[contains(@class,'lm-MenuBar-itemLabel') and normalize-space()='Nbgrader']"))).click()
        item = wait.until(EC.element_to_be_clickable(
            (By.XPATH, "//*[contains(@class,'lm-Menu-itemLabel') and normalize-space()='Assignment List']")))
        menu = [e.text for e in drv.find_elements(By.CSS_SELECTOR, ".lm-Menu-itemLabel") if e.is_displayed()]
        item.click()
        wait.until(EC.presence_of_element_located((By.ID, "released_assignments_list")))
        button = wait.until(EC.element_to_be_clickable(
            (By.XPATH, f"//*[@id='released_assignments_list']//*[contains(., '{A}')]//button[normalize-space()='Fetch']")))
        button.click()
        wait.until(EC.presence_of_element_located(
            (By.XPATH, f"//*[@id='fetched_assignments_list']//*[contains(., '{A}')]")))
    except Exception:
        shot = os.path.join(tempfile.gettempdir(), "hub-browser-failure.png")
        drv.save_screenshot(shot)
        raise AssertionError(f"the browser student could not fetch {A} (screenshot {shot}); page:\n"
                             f"{drv.page_source[:3000]}")
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
    # a student's Nbgrader menu: the assignment and course lists, no formgrader or create-assignment tools
    assert "Assignment List" in menu and not any("Formgrader" in m or "Create" in m for m in menu), menu


# ---------------------------------------------------------------------------------------------------------------
# Quick checks that need no hub

def test_the_instructors_page_shows_the_tested_commands():
    page = open(os.path.join(ROOT, "book", "exercises", "instructors.md"), encoding="utf-8").read()
    section = page.split("## Running a term on a hub", 1)[1].split("\n## ", 1)[0]
    for cmd in (AUTOGRADE, PENALTIES, EXPORT):
        assert "python -m hub.course run -- " + " ".join(cmd) in section, cmd
    assert " ".join(pg_dump("5433", "gradebook-$(date +%F).dump")) in section
    assert " ".join(pg_restore("5433", "gradebook-2026-12-01.dump")) in section
    for words in ("python -m hub.course start --roster hub/roster.csv", "python -m hub.course stop --state",
                  "python -m hub.pg start /srv/rnn-course/pg --port 5433", "--late-penalty zero",
                  "--late-penalty course",
                  "python -m hub.accounts create hub/roster.csv", "python -m hub.accounts passwords"):
        assert words in section, words


def test_roster_is_validated(tmp_path):
    bad = tmp_path / "r.csv"
    bad.write_text("id,role\nAlice Smith,student\n")
    with pytest.raises(ValueError, match="is not a login name"):
        accounts.read_roster(bad)
    bad.write_text("id,role\nalice,teacher\n")
    with pytest.raises(ValueError, match="role 'teacher'"):
        accounts.read_roster(bad)
    bad.write_text("name,role\nalice,student\n")
    with pytest.raises(ValueError, match="missing id"):
        accounts.read_roster(bad)
    rows = accounts.read_roster(os.path.join(ROOT, "hub", "roster.example.csv"))
    assert accounts.by_role(rows, "student") and accounts.by_role(rows, "grader")


def test_late_penalty_is_configurable():
    assert course.late_penalty_config("course") == ""          # nbgrader_config.py's per-day penalty
    zero = course.late_penalty_config("zero")
    assert "LateSubmissionPlugin'" in zero and "penalty_method = 'zero'" in zero
    assert "plugin_class = PerDay" in course.late_penalty_config("grading.late.PerDay")
    with pytest.raises(ValueError, match="late_penalty"):
        course.late_penalty_config("half")


# ---------------------------------------------------------------------------------------------------------------
# The cluster's configuration files (hub/k8s/, hub/lti13_config.py): their syntax, and the parts they share with
# the hub tested above.

def _hub_config(tmp_path):
    """hub/jupyterhub_config.py evaluated with made-up settings, as JupyterHub loads it."""
    from traitlets.config import Config
    settings = {"course_id": "rnn-course", "students": ["s1"], "graders": ["ta1"], "instructors": ["prof"],
                "python_bin": "/venv/bin", "ip": "127.0.0.1", "port": 1, "hub_port": 2, "proxy_api_port": 3,
                "service_port": 4, "proxy": "/x/chp", "hub_dir": str(tmp_path), "repo": ROOT,
                "user_config": "/etc/u", "service_config": "/etc/f", "service_user": "grader-rnn-course",
                "course_dir": "/c", "service_home": "/home/g", "admin_token_file": str(tmp_path / "token")}
    (tmp_path / "token").write_text("t\n")
    (tmp_path / "s.json").write_text(json.dumps(settings))
    c = Config()
    env = dict(os.environ, RNN_HUB_SETTINGS=str(tmp_path / "s.json"))
    old = os.environ.copy()
    os.environ.update(env)
    try:
        exec(compile(open(os.path.join(ROOT, "hub", "jupyterhub_config.py")).read(), "jupyterhub_config.py", "exec"),
             {"get_config": lambda: c, "__file__": "jupyterhub_config.py"})
    finally:
        os.environ.clear()
        os.environ.update(old)
    return c


def test_cluster_values_match_the_tested_hub(tmp_path):
    import yaml
    c = _hub_config(tmp_path)
    values = yaml.safe_load(open(os.path.join(ROOT, "hub", "k8s", "z2jh-values.yaml")))
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    for name, role in values["hub"]["loadRoles"].items():
        assert sorted(role["scopes"]) == sorted(roles[name]["scopes"]), name
        assert role.get("groups", []) == roles[name].get("groups", []), name
    assert "rnn-course" in values["hub"]["services"] and any(s["name"] == "rnn-course" for s in c.JupyterHub.services)
    assert set(values["hub"]["extraConfig"]) == {"groups.py"}
    compile(values["hub"]["extraConfig"]["groups.py"], "groups.py", "exec")
    files = values["singleuser"]["extraFiles"]
    assert json.loads(files["server_extensions"]["stringData"]) == json.loads(course._extensions(formgrader=False))
    assert json.loads(files["lab_extensions"]["stringData"])["disabledExtensions"] == {
        "@jupyter/nbgrader:formgrader": True, "@jupyter/nbgrader:create-assignment": True}
    compile(files["nbgrader_config"]["stringData"], "nbgrader_config.py", "exec")
    assert values["hub"]["config"]["LTI13Authenticator"]["username_key"] == "sub"


def test_cluster_manifests_parse():
    import yaml
    ngshare = yaml.safe_load(open(os.path.join(ROOT, "hub", "k8s", "ngshare-values.yaml")))
    values = yaml.safe_load(open(os.path.join(ROOT, "hub", "k8s", "z2jh-values.yaml")))
    assert ngshare["ngshare"]["hub_api_token"] == values["hub"]["services"]["ngshare"]["apiToken"]
    docs = list(yaml.safe_load_all(open(os.path.join(ROOT, "hub", "k8s", "formgrader.yaml"))))
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"PersistentVolumeClaim", "ConfigMap", "Deployment", "Service"}
    compile(kinds["ConfigMap"]["data"]["nbgrader_config.py"], "nbgrader_config.py", "exec")
    env = {e["name"]: e.get("value") for e in kinds["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["JUPYTERHUB_SERVICE_PREFIX"] == "/services/rnn-course/"
    assert values["hub"]["services"]["rnn-course"]["url"].endswith(f":{kinds['Service']['spec']['ports'][0]['port']}")


def test_lti_config_loads():
    from traitlets.config import Config
    c = Config()
    exec(compile(open(os.path.join(ROOT, "hub", "lti13_config.py")).read(), "lti13_config.py", "exec"),
         {"get_config": lambda: c})
    assert c.JupyterHub.authenticator_class.endswith("LTI13Authenticator")
    assert c.LTI13Authenticator.username_key == "sub" and c.LTI13Authenticator.issuer.startswith("https://")
