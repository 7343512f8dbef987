"""Plain data between a check and the learner's code: how a check calls an answer it cannot trust.

A check never touches the learner's objects. It calls an answer with arguments that are turned into plain data
(`encode`), the learner's side rebuilds them (`decode`), calls the function (`serve`), and sends back plain data
again: what the function returned, what it raised, and how it changed its mutable arguments. The check's side
rebuilds every value with exact types, so a `list` subclass whose `__eq__` always says True comes back as an
`Opaque` value that equals nothing. In a learner's notebook both sides are the same process (`q1.check()`); when
grading, the learner's side is a sandboxed process and the check runs in the grader (see grading.py).
"""

import builtins
import functools
import math
import random
import time
from collections import deque

import torch

TAG = "$"
MESSAGE_LIMIT = 300  # characters kept of an exception's message
ITEMS = 2_000_000  # values decoded from one reply, at most (an honest reply holds a few thousand)
DICT_ITEMS = 100_000  # entries of one dict, at most


class Opaque:
    """A value of a type the checks do not accept (a list subclass, a numpy array, ...): it equals nothing."""

    def __init__(self, type_name: str):
        self.type_name = str(type_name)[:80]

    def __eq__(self, other):
        return False

    def __hash__(self):
        return id(self)

    def __repr__(self):
        return f"<a {self.type_name} object>"


class NotANumber(Opaque):
    """A float NaN the learner's side returned: it equals nothing and is not a number (`abs(got - want) > tol`
    would let a NaN through)."""

    def __init__(self):
        super().__init__("NaN (not a number)")

    def __repr__(self):
        return "nan"


class BadData(ValueError):
    """The learner's side sent something that is not the plain data this module writes."""


class Allowance:
    """How much decoding one reply may cost: a number of values, and a deadline (time.monotonic()).

    A dict of keys that all hash alike costs time quadratic in its size; the deadline is checked at every entry."""

    def __init__(self, items: int = ITEMS, deadline: float | None = None):
        self.items, self.deadline = items, deadline

    def spend(self, n: int = 1) -> None:
        self.items -= n
        if self.items < 0:
            raise BadData("too many values")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise BadData("too slow to read (in time)")


class Lookup:
    """A fitness given as a table: `lookup(dna)` is `table[tuple(dna)]` (or `default`); every call is recorded.

    `counted`: when grading, the table stays with the grader and the learner's side asks it for each entry, so that
    the grader counts the evaluations itself (a check that judges how many there were, or which, needs it). Each
    evaluation is then one exchange between the processes."""

    def __init__(self, table: dict, default=None, strict=True, counted=False):
        self.table, self.default, self.strict, self.counted, self.calls = table, default, strict, counted, []

    def __call__(self, key):
        self.calls.append(list(key) if isinstance(key, (list, tuple)) else key)
        key = tuple(key) if isinstance(key, (list, tuple)) else key
        return self.table[key] if self.strict else self.table.get(key, self.default)


class RemoteLookup:
    """A Lookup whose table stays with the grader: each call asks the grader (`ASK`), which records it."""

    def __init__(self, index: int, default=None, strict=True):
        self.index, self.default, self.strict, self.calls = index, default, strict, []

    def __call__(self, key):
        self.calls.append(list(key) if isinstance(key, (list, tuple)) else key)
        reply = ASK(self.index, encode(list(key) if isinstance(key, (list, tuple)) else key))
        if "error" in reply:
            raise KeyError(key)
        return decode(reply.get("value"))


def _no_grader(index, key):
    raise RuntimeError("no grader to ask for a fitness")


ASK = _no_grader  # the sandbox's runner sets it: ask the grader for entry `key` of its lookup number `index`


class Rng:
    """A fresh `random.Random(seed)` for the learner's function: it travels as its state, never as its seed."""

    def __init__(self, seed: int):
        self.seed = int(seed)

    def __repr__(self):
        return f"random.Random({self.seed})"


@functools.cache
def _bench():
    from nanonas.bench import NanoBench

    return NanoBench.load()


def encode(value, memo: dict | None = None, lookups: list | None = None):
    """Plain JSON data for `value`; types other than the few a check uses become {"$": "other"}.

    `memo` (one per request) sends a Lookup's table once: later Lookups of the same table refer to it. With
    `lookups` (when grading), a counted Lookup's table is not sent at all: it is appended there, and the learner's
    side asks for each entry it needs, so the grader counts every evaluation itself."""
    t = type(value)
    if value is None or t in (bool, int, str):
        return value
    if t is float:
        return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
    if t is list:
        if all(type(v) is int for v in value):  # the common case, fast: a DNA
            return list(value)
        return [encode(v, memo, lookups) for v in value]
    if t in (tuple, deque):
        return {TAG: t.__name__, "v": [encode(v, memo, lookups) for v in value]}
    if t is dict:
        return {TAG: "dict", "v": [[encode(k, memo, lookups), encode(v, memo, lookups)] for k, v in value.items()]}
    if t is random.Random:
        return {TAG: "random", "v": encode(value.getstate(), memo)}
    if t is Rng:
        return {TAG: "random", "v": encode(random.Random(value.seed).getstate(), memo)}
    if t in (torch.Tensor, torch.nn.Parameter):
        data = value.detach()
        return {
            TAG: "tensor",
            "v": encode(data.tolist(), memo),
            "dtype": str(data.dtype).removeprefix("torch."),
            "grad": bool(value.requires_grad),
            "param": t is torch.nn.Parameter,
        }
    if t is Lookup and lookups is not None and value.counted:
        lookups.append(value)
        return {TAG: "lookup", "remote": len(lookups) - 1, "default": encode(value.default), "strict": value.strict}
    if t is Lookup:
        out = {TAG: "lookup", "default": encode(value.default, memo), "strict": value.strict}
        if memo is not None and id(value.table) in memo:
            return {**out, "ref": memo[id(value.table)][0]}
        if memo is not None:
            memo[id(value.table)] = (len(memo), value.table)  # keep the table alive while its id is a key
            out["id"] = len(memo) - 1
        return {**out, "v": encode(value.table, memo)}
    if t.__name__ == "NanoBench" and t.__module__.endswith(".bench"):
        return {TAG: "bench"}
    if t.__module__ == "numpy" and hasattr(value, "item") and getattr(value, "shape", None) == ():
        return encode(value.item(), memo)  # a numpy scalar is a number
    return {TAG: "other", "v": f"{t.__module__}.{t.__qualname__}"}


DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64, "bool": torch.bool}


def decode(data, depth: int = 0, memo: dict | None = None, allowance: Allowance | None = None, reply=False):
    """The value `encode` described, built from exact types; raises BadData for anything else.

    `allowance` bounds the work (values and time); with `reply` (what the learner's side sent back) a float NaN
    becomes `NotANumber`, which equals nothing."""
    if depth > 100:
        raise BadData("nested too deeply")
    if allowance is not None:
        allowance.spend()
    if data is None or type(data) in (bool, int, str):
        return data
    if type(data) is float:
        return data
    again = lambda x, a=allowance: decode(x, depth + 1, memo, a, reply)
    if type(data) is list:
        if all(type(v) is int for v in data):  # the common case, fast: a DNA
            if allowance is not None:
                allowance.spend(len(data))
            return list(data)
        return [again(v) for v in data]
    if type(data) is not dict or type(data.get(TAG)) is not str:
        raise BadData(f"unexpected {type(data).__name__}")
    kind, v = data[TAG], data.get("v")
    if kind == "float" and v in ("inf", "-inf", "nan"):
        return NotANumber() if reply and v == "nan" else float(v)
    if kind in ("tuple", "deque") and type(v) is list:
        return (tuple if kind == "tuple" else deque)(again(x) for x in v)
    if kind == "dict" and type(v) is list and all(type(p) is list and len(p) == 2 for p in v):
        if len(v) > DICT_ITEMS:
            raise BadData(f"a dict of more than {DICT_ITEMS} entries")
        allowance = allowance or Allowance()
        out = {}
        for k, x in v:
            key = again(k, allowance)
            allowance.spend()  # checks the deadline at every entry: keys that hash alike make each one slower
            try:
                out[key] = again(x, allowance)
            except TypeError:  # an unhashable key
                raise BadData("a dict key is not hashable") from None
        return out
    if kind == "random":
        rng = random.Random()
        try:
            rng.setstate(decode(v, depth + 1, memo, allowance))
        except (TypeError, ValueError):
            raise BadData("not a random generator's state") from None
        return rng
    if kind == "tensor" and data.get("dtype") in DTYPES:
        try:
            tensor = torch.tensor(decode(v, depth + 1, memo, allowance), dtype=DTYPES[data["dtype"]])
        except (TypeError, ValueError, RuntimeError):
            raise BadData("not a tensor's values") from None
        if data.get("param") is True:
            return torch.nn.Parameter(tensor, requires_grad=data.get("grad") is True)
        return tensor.requires_grad_(data.get("grad") is True and tensor.is_floating_point())
    if kind == "lookup" and type(data.get("remote")) is int:
        return RemoteLookup(data["remote"], again(data.get("default")), data.get("strict") is not False)
    if kind == "lookup":
        memo = {} if memo is None else memo
        if "ref" in data:
            if data["ref"] not in memo:
                raise BadData("a table refers to one not sent")
            table = memo[data["ref"]]
        else:
            table = again(v)
            if type(table) is not dict:
                raise BadData("a lookup's table is not a dict")
            memo[data.get("id")] = table
        return Lookup(table, again(data.get("default")), data.get("strict") is not False)
    if kind == "bench":
        return _bench()
    if kind == "other" and type(v) is str:
        return Opaque(v)
    raise BadData(f"unknown value kind {kind!r}")


MUTABLE = (list, dict, deque, torch.Tensor, Lookup)


def after(value, sent=None):
    """What the call did to a mutable argument, as plain data (None when it is not mutable, or did not change)."""
    if type(value) in (Lookup, RemoteLookup):
        return encode(value.calls)
    if type(value) not in (list, dict, deque, torch.Tensor, torch.nn.Parameter):
        return None
    now = encode(value)
    return None if now == sent else now


def write_back(original, data, allowance: Allowance | None = None, counted: bool = False) -> None:
    """Make the check's own copy of an argument look like the learner's copy after the call. With `counted`, the
    grader recorded a Lookup's calls itself: what the learner's side says about them is ignored."""
    if data is None or (counted and type(original) is Lookup and original.counted):
        return
    new = decode(data, allowance=allowance, reply=True)
    if type(original) is Lookup and type(new) is list:
        original.calls.extend(new)
    elif type(original) is list and type(new) is list:
        original[:] = new
    elif type(original) is dict and type(new) is dict:
        original.clear()
        original.update(new)
    elif type(original) is deque and type(new) is deque:
        original.clear()
        original.extend(new)
    elif isinstance(original, torch.Tensor) and isinstance(new, torch.Tensor) and new.shape == original.shape:
        with torch.no_grad():
            original.copy_(new.to(original.dtype))


def _builtin_base(error: BaseException) -> str:
    """The nearest built-in exception class of an error (a check may expect, say, a ValueError)."""
    return next(c.__name__ for c in type(error).__mro__ if c.__module__ == "builtins")


def rebuild_error(name: str, message="") -> BaseException:
    """An instance of the built-in exception `name` (Exception when it is not one) carrying the original's message."""
    cls, message = getattr(builtins, str(name), None), _text(message, 300)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except TypeError:
            pass
    return Exception(message)


def _text(value, limit=MESSAGE_LIMIT) -> str:
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a learner's __str__ may do anything
        text = "?"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _probe(name: str, source=None):
    """A probe: a function of a lesson module, `_probe_*`, that the learner's side runs on the answer.

    The module's code comes with the request (`source`, from the grader's own copy) and runs in a namespace of its
    own: whatever the learner did to the importable `course.lessonNN` (replacing the probe) does not matter."""
    module, _, function = str(name).partition(":")
    if not (module.startswith("course.lesson") and function.startswith("_probe_")):
        raise BadData(f"not a probe: {name!r}")
    if type(source) is not str:
        raise BadData("a probe without its code")
    namespace = {"__name__": module, "__package__": module.rpartition(".")[0], "__builtins__": builtins}
    exec(compile(source, f"<grader's {module}>", "exec"), namespace)
    return namespace[function]


def describe(namespace: dict, name: str) -> dict:
    """Whether the learner defined `name`, and whether it is a function."""
    found = namespace.get(name)
    if found is None:
        return {"defined": False}
    return {"defined": True, "callable": callable(found), "shown": _text(repr(found), 120)}


def serve_batch(request: dict, namespace: dict) -> dict:
    """Several calls of the same function in one exchange, in order, stopping at the first that does not return."""
    replies, memo = [], {}
    for args in request.get("batch") or []:
        one = {"name": request.get("name"), "args": args, "kwargs": request.get("kwargs") or {}}
        reply = serve(one, namespace, memo)
        replies.append(reply)
        if "value" not in reply:
            break
    return {"batch": replies}


def serve(request: dict, namespace: dict, memo: dict | None = None) -> dict:
    """The learner's side of one call: run it, and say in plain data what happened.

    request: {"name": the learner's function, "args": [...], "kwargs": {...}, "probe": "module:_probe_x" or None}.
    A probe is library code that calls the answer and turns what it returns (a module, a tensor that needs its
    gradient) into plain data; it runs on the learner's side because such values cannot travel.
    """
    from .question import Answer, NotAttempted, Raised

    if "batch" in request:
        return serve_batch(request, namespace)
    name = request.get("name")
    found = namespace.get(name)
    if found is None:
        return {"defined": False}
    if not callable(found):
        return {"defined": True, "callable": False, "shown": _text(repr(found), 120)}
    try:
        args = [decode(a, memo=memo) for a in request.get("args", [])]
        kwargs = {str(k): decode(v, memo=memo) for k, v in request.get("kwargs", {}).items()}
        answer = Answer(name, found)
        if request.get("probe"):
            result = _probe(request["probe"], request.get("probe_source"))(answer, *args, **kwargs)
        else:
            result = answer(*args, **kwargs)
        sent = request.get("args", [])
        return {"value": encode(result), "after": [after(a, d) for a, d in zip(args, sent)]}
    except NotAttempted:
        return {"not_attempted": True}
    except Raised as e:
        original = e.original
        return {
            "raised": _text(e),
            "error": _builtin_base(original),
            "message": _text(original, 300),  # a check may quote it
            "recursion": isinstance(original, RecursionError),
        }
    except RecursionError:
        return {"raised": f"`{name}` recursed without end (RecursionError)", "error": "RecursionError"}
    except SystemExit:
        return {"raised": f"`{name}` called sys.exit() (or exit())", "error": "SystemExit"}
    except KeyboardInterrupt:
        raise
    except BaseException as e:  # noqa: BLE001 - a probe's handling of a strange value failed
        return {"raised": f"checking what `{name}` returned failed with {type(e).__name__}: {_text(e)}", "error": ""}
