"""Plain data over a pipe: the only language the trusted grader and the sandbox share.

A message is a tree of None, bool, int, float, str, lists, tuples, dicts with str or int keys, and numpy arrays
(numeric dtypes only) and numpy scalars. It travels as one frame: a 12-byte header (JSON length, blob length),
the JSON text of the tree with arrays replaced by {"__nd__": [dtype, shape, offset, nbytes]}, then the arrays'
bytes. Nothing is ever unpickled or evaluated: decoding builds arrays with np.frombuffer from an allow-listed
dtype and checks every size, so a hostile sender can only send wrong data, never code.

Objects that are not plain data (a student's cache of some class, a reference cache) never cross: the side that
holds one sends a handle ({"__handle__": n} or {"__phandle__": n}) and resolves it when it comes back.

This file runs inside the sandbox too: it imports nothing but the standard library and numpy.
"""
import json
import os
import re
import struct

import numpy as np

HEADER = struct.Struct("<IQ")
MAX_JSON = 16 << 20      # bytes of JSON text in one frame
MAX_BLOB = 64 << 20      # bytes of array data in one frame
MAX_DEPTH = 32
_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|c(8|16))$")


class WireError(Exception):
    """A frame that is not plain data, too large, or cut short."""


class NotPlain(Exception):
    """Raised by an encoder's `other` hook for an object it cannot send (callers turn it into a handle)."""


def encode(tree, other=None):
    """(json bytes, list of array buffers) for a tree; other(obj) -> JSON node for anything not plain."""
    blobs, offset = [], [0]

    def enc(v, depth):
        if depth > MAX_DEPTH:
            raise WireError("the value is nested too deeply")
        if v is None or isinstance(v, (bool, str)):
            return v
        if type(v) is int or type(v) is float:
            return v
        if isinstance(v, (np.ndarray, np.generic)) and _DTYPE.match(np.asarray(v).dtype.str):
            a = np.asarray(v)
            a = a if a.flags.c_contiguous else np.ascontiguousarray(a)
            node = {"__nd__": [a.dtype.str, list(a.shape), offset[0], a.nbytes], "scalar": isinstance(v, np.generic)}
            blobs.append(a.tobytes())
            offset[0] += a.nbytes
            return node
        if type(v) is list:
            return [enc(x, depth + 1) for x in v]
        if type(v) is tuple:
            return {"__tuple__": [enc(x, depth + 1) for x in v]}
        if type(v) is dict and all(type(k) in (str, int) for k in v):
            return {"__dict__": [[k, enc(x, depth + 1)] for k, x in v.items()]}
        if other is None:
            raise NotPlain(type(v).__name__)
        return other(v)

    text = json.dumps(enc(tree, 0), allow_nan=True).encode()
    return text, blobs


def decode(text, blob, resolve=None):
    """The tree of a frame; resolve(node) turns handle nodes back into objects."""
    try:
        root = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise WireError(f"not JSON: {e}") from None
    view = memoryview(blob)

    def dec(v, depth):
        if depth > MAX_DEPTH:
            raise WireError("nested too deeply")
        if isinstance(v, list):
            return [dec(x, depth + 1) for x in v]
        if not isinstance(v, dict):
            return v
        if "__nd__" in v:
            dtype, shape, start, nbytes = v["__nd__"]
            if not isinstance(dtype, str) or not _DTYPE.match(dtype):
                raise WireError(f"dtype {dtype!r} is not allowed")
            dt = np.dtype(dtype)
            if (not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape)
                    or type(start) is not int or type(nbytes) is not int or start < 0
                    or int(np.prod(shape, dtype=np.int64)) * dt.itemsize != nbytes or start + nbytes > len(blob)):
                raise WireError("an array's shape and size do not match its bytes")
            a = np.frombuffer(view[start:start + nbytes], dtype=dt).reshape(shape).copy()
            return a[()] if v.get("scalar") and a.ndim == 0 else a
        if "__tuple__" in v:
            return tuple(dec(x, depth + 1) for x in v["__tuple__"])
        if "__dict__" in v:
            return {k: dec(x, depth + 1) for k, x in v["__dict__"] if type(k) in (str, int)}
        if resolve is not None:
            return resolve(v)
        raise WireError(f"unexpected node with keys {sorted(v)[:3]}")

    return dec(root, 0)


def send(fd, tree, other=None):
    text, blobs = encode(tree, other)
    nblob = sum(len(b) for b in blobs)
    if len(text) > MAX_JSON or nblob > MAX_BLOB:
        raise WireError("the message is too large")
    _write_all(fd, HEADER.pack(len(text), nblob) + text + b"".join(blobs))


def recv(fd, resolve=None, wait=None):
    """The next tree from fd, or None at end of file. wait(): called before each read (for deadlines)."""
    head = _read_exact(fd, HEADER.size, wait, eof_ok=True)
    if head is None:
        return None
    n_text, n_blob = HEADER.unpack(head)
    if n_text > MAX_JSON or n_blob > MAX_BLOB:
        raise WireError(f"a frame of {n_text + n_blob} bytes is larger than allowed")
    text = _read_exact(fd, n_text, wait)
    blob = _read_exact(fd, n_blob, wait) if n_blob else b""
    return decode(text, blob, resolve)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd, n, wait, eof_ok=False):
    parts, got = [], 0
    while got < n:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            if eof_ok and got == 0:
                return None
            raise WireError("the other side closed the pipe in the middle of a message")
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)
