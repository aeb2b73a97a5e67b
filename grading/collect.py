"""``nbgrader zip_collect`` for the archives that Moodle and Canvas give for "download all submissions".

Put the platform's zip, unchanged, in ``downloaded/<assignment>/archive/`` and run
``nbgrader zip_collect <assignment>``: nbgrader unpacks it into ``downloaded/<assignment>/extracted/`` and this
collector reads each file's path to tell whose it is. The layouts (file names as the platforms write them):

Moodle (Assignment activity, *Download all submissions*), one folder per submission or, with the
"download submissions in folders" option off, flat file names::

    Ana María López_104233_assignsubmission_file_/a1_forward.ipynb
    Bob Smith_104240_assignsubmission_file_a1_forward.ipynb

    <full name>_<participant number>_assignsubmission_file_[/]<the file as uploaded>

Canvas (*Download Submissions*), flat file names; ``LATE`` marks a submission after the due date::

    smithbob_340934_208490284_a1_forward.ipynb
    lopezanamaria_LATE_340977_208490301_a1_forward-1.ipynb

    <sortable name, lower case, letters only>[_LATE]_<user id>_<attachment id>_<the file as uploaded>

The student id is the name: Moodle's full name and Canvas's name part, lower case, accents dropped, every run
of other characters one underscore (``ana_maria_lopez``, ``smithbob``): these are the same in every
assignment's archive, unlike Moodle's participant number. When two different people (different platform
numbers) get the same id in one archive, the first one's files are collected and the other's are not, with an
error that names both files. Files that match no layout (the platform's
``onlinetext`` answers, anything but .ipynb) are skipped with nbgrader's warning. The archives carry no
submission times: give late students a ``timestamp.txt`` with ``python -m grading.late stamp``. The notebook's
name may still differ from the assignment's (``a1_forward-1.ipynb``): autograde renames it (grading/names.py).
"""
import os
import re
import unicodedata

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Dict, List

__all__ = ["LmsCollector", "LAYOUTS", "student_id_from_name"]

# Regular expressions on the file's path relative to the extracted folder ('/' separated). Each gives the groups
# name, lms_id (the platform's number for the person) and file_id; Canvas's also late.
LAYOUTS = {
    "moodle": r"(?:.*/)?(?P<name>[^/]+?)_(?P<lms_id>\d+)_assignsubmission_file_/(?:[^/]+/)*(?P<file_id>[^/]+)$",
    "moodle_flat": r"(?:.*/)?(?P<name>[^/]+?)_(?P<lms_id>\d+)_assignsubmission_file_(?P<file_id>[^/]+)$",
    "canvas": r"(?:.*/)?(?P<name>[a-z0-9]+?)(?P<late>_LATE)?_(?P<lms_id>\d+)_\d+_(?P<file_id>[^/]+)$",
}


def student_id_from_name(name):
    """'Ana María López' -> 'ana_maria_lopez' (ASCII letters and digits, runs of anything else one '_')."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if not slug:
        raise ValueError(f"name: cannot make a student id from {name!r}")
    return slug


class LmsCollector(FileNameCollectorPlugin):
    """Collect the submission archives of Moodle and Canvas (layouts in this module's docstring)."""

    layouts = List(["moodle", "moodle_flat", "canvas"],
                   help="which of grading.collect.LAYOUTS to try, in order").tag(config=True)
    extra_layouts = Dict({}, help="more {label: regexp} with the groups name, lms_id and file_id").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._seen = {}        # student id -> (layout, lms id, first file)
        self._clashes = set()

    def _relative(self, path):
        parts = path.replace(os.sep, "/").split("/")
        # .../downloaded/<assignment>/extracted/<what the archive held>: match on what the archive held
        if "extracted" in parts:
            i = len(parts) - 1 - parts[::-1].index("extracted")
            return "/".join(parts[i + 1:])
        return "/".join(parts)

    def collect(self, submitted_file):
        if os.path.splitext(submitted_file)[1] not in self.valid_ext:
            self.log.debug("Skipping %s (not a notebook)", submitted_file)
            return None
        rel = self._relative(submitted_file)
        patterns = {label: LAYOUTS[label] for label in self.layouts}
        patterns.update(self.extra_layouts)
        for label, pattern in patterns.items():
            m = re.match(pattern, rel)
            if m is None:
                continue
            gd = m.groupdict()
            student = student_id_from_name(gd["name"])
            who = (label.split("_")[0], gd["lms_id"])
            first = self._seen.setdefault(student, (who, rel))
            if first[0] != who or student in self._clashes:
                self._clashes.add(student)
                self.log.error("Two people get the student id %r: %s and %s (different %s numbers); neither file "
                               "of the second is collected: collect it by hand under another id", student,
                               first[1], rel, who[0])
                return None
            if gd.get("late"):
                self.log.warning("%s: Canvas marks the submission of %r late; the archive has no time: write its "
                                 "timestamp.txt with `python -m grading.late stamp <assignment> --student %s --at ...`",
                                 rel, student, student)
            self.log.info("%s layout: %s -> student %r, file %r", label, rel, student, gd["file_id"])
            return {"student_id": student, "file_id": gd["file_id"]}
        self.log.warning("No Moodle or Canvas file name: %s (skipped)", rel)
        return None
