"""Unix accounts for the course hub, from a roster CSV (run as root).

    python -m hub.accounts create hub/roster.csv      # one account per row, plus the course account grader-rnn-course
    python -m hub.accounts remove hub/roster.csv      # delete the accounts this command made (and their homes)
    python -m hub.accounts passwords < users.txt       # set passwords, one `name:password` a line (chpasswd)

The roster has a header row and the columns id, role, first_name, last_name, email (hub/roster.example.csv);
role is student, grader or instructor. `id` is the login name, nbgrader's student id and the gradebook's key:
lower-case letters, digits, `-` and `_`, starting with a letter. The same file is imported into the gradebook
(`nbgrader db student import`, run by `python -m hub.course start`) and read by hub/jupyterhub_config.py for the
hub's users and groups, so one file says who is in the course.

Accounts made here carry the comment `rnn-course` (the GECOS field); `remove` deletes only those, never an
account that existed before.
"""
import argparse
import csv
import grp
import os
import pwd
import re
import subprocess
import sys

COURSE_ID = "rnn-course"
SERVICE_USER = f"grader-{COURSE_ID}"        # runs the formgrader service and owns the course directory
MARK = COURSE_ID                            # GECOS comment of the accounts made here
ROLES = ("student", "grader", "instructor")
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
COLUMNS = ("id", "role", "first_name", "last_name", "email")


def read_roster(path):
    """The roster's rows as dicts (columns COLUMNS); ValueError naming the row and the problem."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("id", "role") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"roster {path}: expected the columns {', '.join(COLUMNS)}; missing {', '.join(missing)}")
        rows, seen = [], set()
        for n, row in enumerate(reader, start=2):
            uid, role = (row.get("id") or "").strip(), (row.get("role") or "").strip().lower()
            if not NAME.match(uid):
                raise ValueError(f"roster {path}, line {n}: id {uid!r} is not a login name "
                                 "(expected lower-case letters, digits, - or _, starting with a letter)")
            if role not in ROLES:
                raise ValueError(f"roster {path}, line {n}: role {role!r}; expected one of {', '.join(ROLES)}")
            if uid in seen:
                raise ValueError(f"roster {path}, line {n}: id {uid!r} appears twice")
            seen.add(uid)
            rows.append({c: (row.get(c) or "").strip() for c in COLUMNS} | {"id": uid, "role": role})
    return rows


def by_role(rows, *roles):
    return [r["id"] for r in rows if r["role"] in roles]


def _exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _ours(name):
    return _exists(name) and pwd.getpwnam(name).pw_gecos.split(",")[0].endswith(f"[{MARK}]")


def create(rows, log=print):
    """Make the accounts (home directories 0700) that do not exist yet, and the course account."""
    made = []
    wanted = [(r["id"], f"{r['first_name']} {r['last_name']}".strip()) for r in rows]
    wanted.append((SERVICE_USER, "course grading account"))
    for name, full in wanted:
        if _exists(name):
            log(f"{name}: exists, kept")
            continue
        comment = f"{full} [{MARK}]".strip().replace(":", " ").replace(",", " ")
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", "--comment", comment, name], check=True)
        os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
        made.append(name)
        log(f"{name}: created")
    return made


def remove(rows, log=print):
    """Delete the accounts this module made (and their home directories); keep any other account."""
    for name in [r["id"] for r in rows] + [SERVICE_USER]:
        if not _exists(name):
            continue
        if not _ours(name):
            log(f"{name}: not made by this command, kept")
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], check=False)   # the user's own processes, by uid
        subprocess.run(["userdel", "--remove", name], check=True, capture_output=True)
        try:
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], check=False, capture_output=True)
        except KeyError:
            pass
        log(f"{name}: removed")


def set_passwords(lines):
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines if line.strip())
    for line in text.splitlines():
        name = line.split(":", 1)[0]
        if not _ours(name):
            raise ValueError(f"passwords: {name!r} is not an account made by hub.accounts")
    subprocess.run(["chpasswd"], input=text, text=True, check=True)


def main(argv=None):
    p = argparse.ArgumentParser(description="Unix accounts for the course hub, from a roster CSV.")
    sub = p.add_subparsers(dest="cmd", required=True)
    for cmd in ("create", "remove"):
        sub.add_parser(cmd).add_argument("roster")
    sub.add_parser("passwords")
    a = p.parse_args(argv)
    if os.geteuid() != 0:
        sys.exit("hub.accounts manages Unix accounts: run it as root")
    if a.cmd == "create":
        create(read_roster(a.roster))
    elif a.cmd == "remove":
        remove(read_roster(a.roster))
    else:
        set_passwords(sys.stdin.readlines())


if __name__ == "__main__":
    main()
