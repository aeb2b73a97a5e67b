"""The trusted half of grading: drive one notebook through its sandbox and decide every test cell here.

The student's code cells run in the sandbox, in order. A test cell never does: its source (taken from the
gradebook, not from the submission) is read here as a list of check calls, and each check runs in this process
with rnn_ref, calling the student's functions in the sandbox through RemoteFunction proxies that pass plain
arrays both ways. This process alone writes the test cells' outputs, so nothing the student's code prints,
returns or raises can award a point.
"""
import ast
import contextlib
import io
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

import rnn_ref
from rnn_ref import checks
from rnn_ref.checks.engine import RaisedElsewhere

from .allowed import ISOLATE, allowed
from .sandbox import Allowed, Limits, Sandbox, SandboxDied, SandboxRef


class GradingSetupError(Exception):
    """The course's own material is wrong (a test cell the grader cannot read): the instructor's to fix."""


@dataclass
class Options:
    cell_timeout: float = 60.0       # one student cell, or one call of a student function
    notebook_timeout: float = 300.0  # the whole notebook, sandbox start to last check
    limits: Limits = field(default_factory=Limits)


# ------------------------------------------------------------------------------------------- the student's functions
class StudentError(RaisedElsewhere):
    """An exception raised by the student's code in the sandbox, re-raised here under its own name, with the
    sandbox's `where` text (the check's engine says it instead of a traceback it cannot see)."""


_ERRORS = {}


def _exception(reply):
    name = str(reply.get("ename", "Exception"))
    name = name if name.isidentifier() and len(name) <= 60 else "Exception"
    if name == "NotImplementedError":
        return NotImplementedError(reply.get("evalue", ""))
    cls = _ERRORS.setdefault(name, type(name, (StudentError,), {}))
    return cls(str(reply.get("evalue", "")), str(reply.get("where", "")))


def _overwrite(dst, src):
    """Make the grader's copy of an argument show the change the student's function made to it in the sandbox."""
    if isinstance(dst, np.ndarray):
        src = np.asarray(src) if isinstance(src, np.ndarray) else None
        if src is not None and src.shape == dst.shape:
            dst[...] = src
        else:  # reshaped or replaced: any different value makes the check report the mutation
            dst[...] = np.nan if dst.dtype.kind == "f" else dst + 1
    elif isinstance(dst, dict) and isinstance(src, dict):
        for k in list(dst):
            if k not in src:
                del dst[k]
            elif isinstance(dst[k], (np.ndarray, dict, list)):
                _overwrite(dst[k], src[k])
            else:
                dst[k] = src[k]
        dst.update({k: v for k, v in src.items() if k not in dst})
    elif isinstance(dst, list) and isinstance(src, (list, tuple)):
        dst[:] = list(src)
    elif isinstance(dst, tuple) and isinstance(src, (list, tuple)):
        for a, b in zip(dst, src):
            _overwrite(a, b)


class RemoteFunction:
    """A student's function, called in the sandbox: arrays in, arrays out, prints and warnings replayed into the
    check's own capture (never to the grader's stderr)."""

    def __init__(self, box, name, timeout, on_timeout=None):
        self.box, self.__name__, self.timeout, self.on_timeout = box, name, timeout, on_timeout

    def _reply(self, msg):
        reply = self.box.ask(dict(msg, name=self.__name__, timeout=self.timeout), self.timeout)
        if reply.get("ename") == "TimeoutError" and self.on_timeout is not None:
            self.on_timeout(self.__name__)
        if reply.get("stdout"):
            sys.stdout.write(str(reply["stdout"]))
        for w in reply.get("warnings") or []:
            warnings.warn(str(w), RuntimeWarning)
        if reply.get("op") == "raised":
            raise _exception(reply)
        if reply.get("op") != "result":
            raise SandboxDied("it answered a call with something else")
        return reply

    def __call__(self, *args):
        reply = self._reply({"op": "call", "args": list(args)})
        for i, v in (reply.get("mutated") or {}).items():
            if type(i) is int and 0 <= i < len(args):
                _overwrite(args[i], v)
        return reply.get("value")

    def numerical_gradient_in_sandbox(self, x, w, h, expr):
        """numerical_gradient(f, x, h) with f = expr of (x, w) built next to x: (gradient, x after, calls of f,
        x - x0 at each of the first calls)."""
        reply = self._reply({"op": "numgrad", "x": x, "w": w, "h": h, "expr": expr})
        seen = [d for d in reply.get("seen") or [] if isinstance(d, np.ndarray) and d.shape == x.shape]
        return reply.get("value"), reply.get("x"), int(reply.get("calls") or 0), seen

    def __repr__(self):
        return f"<your function {self.__name__}>"


# ------------------------------------------------------------------------------------------- test cells
def parse_test_cell(source):
    """[(check name, [argument names], hidden)] of a test cell; GradingSetupError for anything else in it."""
    steps = []
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise GradingSetupError(f"a test cell is not valid Python: {e}") from None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "rnn_ref.checks":
            bad = [a.name for a in node.names if a.name not in checks.__all__ or a.asname]
            if not bad:
                continue
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)
              and node.value.func.id in checks.__all__ and all(isinstance(a, ast.Name) for a in node.value.args)
              and all(k.arg == "hidden" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, bool)
                      for k in node.value.keywords)):
            call = node.value
            hidden = any(k.value.value for k in call.keywords)
            steps.append((call.func.id, [a.id for a in call.args], hidden))
            continue
        raise GradingSetupError(f"line {node.lineno} of a test cell is neither `from rnn_ref.checks import ...` nor "
                                f"a call check_<name>(<function names>, hidden=...): {ast.unparse(node)[:80]!r}")
    return steps


def _error(ename, evalue, traceback=()):
    """A notebook error output (plain dicts: the grading workers do without nbformat's slow import)."""
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": list(traceback) + [f"{ename}: {evalue}"]}


def _stream(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


class Notebook:
    """One notebook being graded: its sandbox, and what happened, for the instructor's log."""

    def __init__(self, assignment, options):
        self.options = options
        self.deadline = time.monotonic() + options.notebook_timeout
        self.offered = set(allowed(assignment))
        self.incidents, self.timeouts, self.cell = [], 0, None
        self.box = Sandbox(Allowed(tuple(self.offered), tuple(checks.__all__)), self._reference,
                           options.limits, deadline=self.deadline)

    def _reference(self, name, args, kwargs):
        if name not in self.offered or not callable(getattr(rnn_ref, name, None)):
            raise KeyError(f"rnn_ref.{name} is not offered here")
        if any(isinstance(a, SandboxRef) for a in list(args) + list(kwargs.values())):
            raise TypeError(f"rnn_ref.{name} got an object from your code that is not plain data")
        with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return getattr(rnn_ref, name)(*args, **kwargs)

    def run_code(self, source, label):
        reply = self.box.ask({"op": "run", "source": source, "label": label, "timeout": self.options.cell_timeout},
                             self.options.cell_timeout)
        outputs = [_stream(reply["stdout"])] if reply.get("stdout") else []
        if reply.get("cut"):
            self.incidents.append(f"{label} printed {reply['cut']:,} characters more than the {reply.get('kept', 0):,} "
                                  f"kept")
        err = reply.get("error")
        if err:
            outputs.append(_error(str(err.get("ename")), str(err.get("evalue")), map(str, err.get("traceback", []))))
            if err.get("ename") == "TimeoutError":
                self.incidents.append(f"{label} timed out (more than {self.options.cell_timeout:g} s)")
        return outputs

    def _functions(self, names):
        kinds = self.box.ask({"op": "lookup", "names": names}, 10)["kinds"]
        for n in names:
            if kinds.get(n) == "missing":
                raise StudentNameError(f"name '{n}' is not defined: run the cell that defines {n}, and keep its name")
        return kinds

    def run_check(self, name, argnames, hidden):
        """None when the check passes; else the AssertionError (or other) it raised."""
        kinds = self._functions(argnames)
        if name == "check_own_work":
            for n in argnames:
                if kinds[n] != "own":
                    raise AssertionError(f"{n} must be a function written in your notebook (def {n}(...)); "
                                         f"yours is {kinds[n]}.")
            return None
        fns = [RemoteFunction(self.box, n, self.options.cell_timeout, self._timed_out) for n in argnames]
        getattr(checks, name)(*fns, hidden=hidden)
        return None

    def run_isolated(self, name, argnames, hidden):
        """True when the check passes with the reference step functions in place of the student's."""
        steps = [s for s in ISOLATE.get(name, ()) if s not in argnames]
        if not steps:
            return False
        offered = set(self.offered)
        self.offered |= set(steps)
        self.box.ask({"op": "swap", "names": steps}, 10)
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                self.run_check(name, argnames, hidden)
            return True
        except (AssertionError, StudentError, StudentNameError, NotImplementedError):
            return False
        finally:
            self.box.ask({"op": "swap", "restore": True}, 10)
            self.offered = offered

    def _timed_out(self, fname):
        self.timeouts += 1
        line = f"{self.cell}: {fname} timed out (more than {self.options.cell_timeout:g} s, an infinite loop?)"
        if line not in self.incidents:
            self.incidents.append(line)

    def run_test_cell(self, source, name):
        self.cell = name
        outputs, notes = [], []
        for name, argnames, hidden in parse_test_cell(source):
            timeouts = self.timeouts   # a check that timed out is not run again with the reference steps
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    self.run_check(name, argnames, hidden)
            except AssertionError as e:
                if timeouts < self.timeouts or not self.run_isolated(name, argnames, hidden):
                    return outputs + [_error("AssertionError", str(e))]
                steps = " and ".join(s for s in ISOLATE[name] if s not in argnames)
                notes.append(f"{name}: the rest of your code is right. With the reference {steps} in place of "
                             f"yours every case agrees, so only {steps} is wrong, and it is graded in its own test "
                             f"cell: this cell keeps its points. What your own gives here:\n{e}\n")
            except StudentNameError as e:
                return outputs + [_error("NameError", str(e))]
            except (StudentError, NotImplementedError) as e:
                return outputs + [_error(type(e).__name__, str(e))]
            except Exception as e:  # a fault of the grader's own, not the student's: scored 0 and logged
                self.incidents.append(f"{name} failed inside the grader ({type(e).__name__}: {e}); regrade after a fix")
                return outputs + [_error("GraderError", f"{name} could not be run by the grader ({type(e).__name__}). "
                                                        f"Your instructor has been told.")]
        return outputs + ([_stream("\n".join(notes))] if notes else [])

    def close(self):
        self.box.close()


class StudentNameError(Exception):
    """A function the test cell names is not defined in the notebook."""


def grade_notebook(cells, tests, assignment, options=None):
    """The outputs of every code cell of a notebook: {cell index: [outputs]}, and the incidents worth a line in
    the instructor's log (timeouts, a sandbox that was stopped).

    cells: the notebook's cells (dicts, as in the .ipynb JSON) after nbgrader's sanitizing; tests: {grade_id:
    source} of the assignment's test cells, from the gradebook: a cell whose grade_id is there is a test cell."""
    options = options or Options()
    run = Notebook(assignment, options)
    outputs = {}
    try:
        code = [i for i, c in enumerate(cells) if c.get("cell_type") == "code"]
        for k, i in enumerate(code):
            cell = cells[i]
            gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            try:
                outputs[i] = (run.run_test_cell(tests[gid], gid) if gid in tests else
                              run.run_code(source, f"<cell {i + 1}>"))
            except SandboxDied as e:
                why = str(e)
                run.incidents.append(f"the sandbox was stopped at cell {i + 1}: {why}")
                outputs[i] = [_error("SandboxStopped", f"The grader stopped your notebook here: {why}. The cells "
                                                       f"below could not run.")]
                for j in code[k + 1:]:
                    outputs[j] = [_error("SandboxStopped", f"Not run: the grader stopped your notebook earlier "
                                                           f"({why}).")]
                break
    finally:
        run.close()
    return outputs, run.incidents
