"""The grading pipeline end to end, in temporary course directories: nbgrader generate_assignment, autograde
(every student in one run, through the course's sandboxed grader), generate_feedback and export, on made-up
submissions, through nbgrader's Python API in-process.

For every assignment: the solution scores every autograded point, the untouched student version 0, a half-done
submission the points of the part it did. On a1_forward, a zoo of bad submissions: each costs only its author,
the batch goes on, and the autograde log has a line naming the student and the problem. (Hostile submissions
are in test_redteam.py.)"""
import os

import nbformat
import pytest

from grading_helpers import ASSIGNMENTS, ROOT, Course, a1_zoo, answer_cells, first_answer_only, read_csv, \
    solution_path, solved

pytestmark = [pytest.mark.grading, pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning"),
              pytest.mark.filterwarnings("ignore::nbformat.validator.MissingIDFieldWarning")]


@pytest.fixture
def course(tmp_path):
    made = []

    def make(**kw):
        c = Course(tmp_path / "course", **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def test_points_the_instructors_page_lists():
    """The points table of book/exercises/instructors.md matches the notebooks."""
    page = open(os.path.join(ROOT, "book", "exercises", "instructors.md"), encoding="utf-8").read()
    for name in ASSIGNMENTS:
        nb = nbformat.read(solution_path(name), as_version=4)
        graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        auto = sum(c.metadata.nbgrader["points"] for c in graded if c.cell_type == "code")
        manual = sum(c.metadata.nbgrader["points"] for c in graded if c.cell_type == "markdown")
        row = f"| `{name}` | {auto} | {manual} | {auto + manual} |"
        assert row in page, f"instructors.md should have the row {row!r}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_full_marks_untouched_zero_half_done_partial(name, course):
    c = course()
    c.generate_assignment(name)
    release = nbformat.read(c.release_path(name), as_version=4)
    solution = nbformat.read(solution_path(name), as_version=4)
    c.submit("solution", name, solved(release, solution))
    c.submit("untouched", name, release)
    c.submit("half_done", name, first_answer_only(release, solution))

    result = c.autograde(name)
    assert result["success"], result.get("log", "") + result.get("error", "")
    auto_max, manual_max = c.max_points(name)
    first = answer_cells(solution)[0].metadata.nbgrader["grade_id"]
    first_points = next(x.metadata.nbgrader["points"] for x in solution.cells
                        if x.metadata.get("nbgrader", {}).get("grade_id") == "test_" + first)
    scores = c.scores(name)
    assert scores["solution"] == auto_max, scores
    assert scores["untouched"] == 0, scores
    assert scores["half_done"] == first_points, scores
    assert 0 < scores["half_done"] < auto_max

    result = c.generate_feedback(name)
    assert result["success"], result.get("log", "") + result.get("error", "")
    for student in ("solution", "untouched", "half_done"):
        assert os.path.exists(c.feedback_path(student, name)), student
    feedback = open(c.feedback_path("half_done", name), encoding="utf-8").read()
    assert "not implemented yet" in feedback   # the check's message reaches the student

    rows = {r["student_id"]: r for r in read_csv(c.export())}
    assert set(rows) == {"solution", "untouched", "half_done"}
    for student, r in rows.items():
        assert r["assignment"] == name
        assert float(r["max_score"]) == auto_max + manual_max
        assert float(r["score"]) == scores[student]   # the written answers are not graded yet


def test_bad_submissions_cost_only_their_authors(course):
    name = "a1_forward"
    c = course(timeout=5)                  # an infinite loop costs 5 s per cell here (60 s in the course)
    c.generate_assignment(name)
    release = nbformat.read(c.release_path(name), as_version=4)
    zoo = a1_zoo(release, nbformat.read(solution_path(name), as_version=4))
    for student, (nb, _) in zoo.items():
        c.submit(student, name, nb)
    # a browser's second download of the notebook: graded under the expected name, with a log line
    os.rename(c.submitted_path("solution", name), c.submitted_path("solution", name).replace(".ipynb", " (1).ipynb"))

    result = c.autograde(name)            # every student in one run
    log = result.get("log", "")
    assert not result["success"]          # nbgrader reports that some submissions could not be graded ...
    scores = c.scores(name)               # ... and has graded all the others
    assert scores == {student: expected for student, (_, expected) in zoo.items()}, scores

    # one clear line per problem, naming the student
    for student, words in [
            ("infinite_loop", "test_rnn_forward: rnn_forward timed out"),
            ("kernel_crash", "the sandbox was stopped at cell"),
            ("deleted_test", "graded cell(s) test_rnn_forward missing"),
            ("duplicated_test", "test_rnn_step_forward appears more than once"),
            ("edited_locked", "locked cell test_rnn_forward was edited")]:
        lines = [line for line in log.splitlines() if f"student '{student}', a1_forward/a1_forward.ipynb: " in line]
        assert any(words in line for line in lines), (student, words, log)
    assert "There was an error processing assignment 'a1_forward' for student 'not_json'" in log
    assert "Notebook does not appear to be JSON" in log
    assert "student 'solution', a1_forward: no a1_forward.ipynb; graded the only notebook, 'a1_forward (1).ipynb'" \
        in log, log
    for student in ("untouched", "half_done", "warnings"):
        assert f"'{student}'" not in log, f"{student} should raise no alarm:\n{log}"

    result = c.generate_feedback(name)
    assert result["success"], result.get("log", "") + result.get("error", "")
    for student in zoo:
        # the notebook that could not be read has no feedback; everybody else has
        assert os.path.exists(c.feedback_path(student, name)) == (student != "not_json")
    feedback = open(c.feedback_path("edited_locked", name), encoding="utf-8").read()
    assert "trust me" not in feedback and "check_rnn_forward" in feedback   # the original test was graded

    # the instructor grades the written answer of one student, then exports: one row per student
    with c.gradebook() as gb:
        grade = gb.find_grade("q_shared_weights", name, name, "solution")
        grade.manual_score = 2
        gb.db.commit()
    rows = {r["student_id"]: r for r in read_csv(c.export())}
    assert set(rows) == set(zoo)
    assert float(rows["solution"]["score"]) == float(rows["solution"]["max_score"]) == 12.0
    for student, (_, expected) in zoo.items():
        if student != "solution":
            assert float(rows[student]["score"]) == expected, student
