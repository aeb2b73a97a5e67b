"""check_own_work: a graded function must be the student's own, not rnn_ref's."""
from .engine import wrap_message


def _is_rnn_ref_module(v):
    import types
    return isinstance(v, types.ModuleType) and v.__name__.split(".")[0] == "rnn_ref"


def _uses_reference(code, names, name, ref, depth=0):
    """True when the code (or a function nested in it) reaches rnn_ref's function `name`: a variable bound to
    it (an alias, a from-import), attribute access on an rnn_ref module (rnn_ref.name, rr.name, an
    `import rnn_ref` inside), or a from-import inside; or, one level down, through the student's own function
    of that name when that one reaches it. names: what the function's global and free variables refer to.
    It reads the bytecode, so an rnn_ref.other_piece(...) next to a call of the student's own `name` is fine."""
    import dis
    import sys
    instrs = list(dis.get_instructions(code))
    local_modules = set()   # local variables that hold an rnn_ref module imported inside the function
    importing = None        # the module of the IMPORT_NAME being processed
    for k, ins in enumerate(instrs):
        op, arg = ins.opname, ins.argval
        if op == "IMPORT_NAME":
            importing = str(arg)
            continue
        if op in ("STORE_FAST", "STORE_DEREF", "STORE_NAME") and k and instrs[k - 1].opname == "IMPORT_NAME" \
                and importing and importing.split(".")[0] == "rnn_ref":
            local_modules.add(arg)
        if op == "IMPORT_FROM" and arg == name and importing and importing.split(".")[0] == "rnn_ref":
            return True
        if op in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF"):
            v = names.get(arg)
            if v is ref:
                return True
            if depth == 0 and arg == name and callable(v) and hasattr(v, "__code__") and v is not ref:
                inner = dict(getattr(v, "__globals__", {}))
                if _uses_reference(v.__code__, inner, name, ref, depth + 1):
                    return True
        if op in ("LOAD_ATTR", "LOAD_METHOD") and arg == name and k:
            prev = instrs[k - 1]
            pv = prev.argval
            if prev.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CLASSDEREF") and (
                    _is_rnn_ref_module(names.get(pv)) or pv == "rnn_ref"):
                return True
            if prev.opname == "LOAD_FAST" and pv in local_modules:
                return True
            if prev.opname in ("LOAD_ATTR", "LOAD_METHOD") and any(  # rnn_ref.training.clip.name
                    m.startswith("rnn_ref.") and m.rsplit(".", 1)[-1] == pv for m in sys.modules):
                return True
    return any(_uses_reference(c, names, name, ref, depth) for c in code.co_consts if hasattr(c, "co_names"))


# Pieces an exercise asks the student to use their own version of, inside another graded function.
OWN_PIECES = {"char_lm_train_step": ("clip_by_global_norm",)}


def _names_of(f):
    names = dict(getattr(f, "__globals__", {}))
    code = getattr(f, "__code__", None)
    for var, cell in zip(getattr(code, "co_freevars", ()), getattr(f, "__closure__", None) or ()):
        try:
            names[var] = cell.cell_contents
        except ValueError:  # a free variable not bound yet
            pass
    return names


def _own_pieces_problem(f, name):
    """The sentence saying which rnn_ref piece f calls where the exercise wants the student's own, or ''."""
    import rnn_ref
    code = getattr(f, "__code__", None)
    if code is None or str(getattr(f, "__module__", "")).split(".")[0] == "rnn_ref":
        return ""
    for piece in OWN_PIECES.get(name, ()):
        if _uses_reference(code, _names_of(f), piece, getattr(rnn_ref, piece)):
            return (f"Your {name} calls rnn_ref.{piece}; the exercise asks you to use YOUR {piece} (the one "
                    f"you wrote above): call {piece}(...) by its own name, not rnn_ref.{piece}.")
    return ""


def check_own_work(*fns):
    """For hidden tests: each graded function must be the student's own, not rnn_ref's function of the same name
    (assigned, imported under another name, or called from a thin wrapper). None, or AssertionError.

    It reads which names the function's code uses, so it catches the direct ways of handing in the reference;
    like any such test it is a guard, not a proof.
    The exercises' hidden tests call it: book/exercises/index.md, section "2. Fill the stubs" states the rule it guards.

    Used by every exercise (a1 to a9).
    """
    import rnn_ref
    for f in fns:
        name = getattr(f, "__name__", "")
        ref = getattr(rnn_ref, name, None)
        if ref is None:
            continue
        if f is ref or str(getattr(f, "__module__", "")).startswith("rnn_ref"):
            raise AssertionError(wrap_message(
                f"{name} is rnn_ref.{name} itself, not your implementation. Write the function in your "
                f"notebook; the graded function must be your own code."))
        code = getattr(f, "__code__", None)
        if code is None:
            continue
        if _uses_reference(code, _names_of(f), name, ref):
            raise AssertionError(wrap_message(
                f"Your {name} calls rnn_ref.{name}, the reference it is graded against. Write the computation "
                f"yourself (calling other, earlier rnn_ref pieces is fine where the exercise says so)."))
        problem = _own_pieces_problem(f, name)
        if problem:
            raise AssertionError(wrap_message(problem))
    return None
