"""dagfc's Python helper: answers questions about the project's Python environment.

dagfc runs it with the project's interpreter (after a first line that checks the
version), sends one JSON request on standard input and reads one JSON answer from
standard output. Whatever the project's modules print while they are imported goes to
standard error, so that it cannot spoil the answer.

Requests:
  {"op": "inspect", "classes": [PATH...], "callables": [PATH...]}
  {"op": "verify", "classes": [...], "callables": [...], "folder": DIR, "args": [NAME...]}
  {"op": "introspect", "targets": [CLASS_OR_MODULE...]}
  {"op": "dags_test", "dag_id": ID}
(the answer to "verify" is inspect's, with the DAGs loaded from DIR and their import
errors; the answer to "dags_test" is the final state of the run `airflow dags test`
made and of each task instance; the answer to "introspect" describes the operator classes each target names
or defines, see `introspect`)
"""

import importlib
import inspect
import json
import os
import sys
import traceback

# The answer is written to the real standard output at the end; everything else
# printed meanwhile goes to standard error.
ANSWER = sys.stdout
sys.stdout = sys.stderr

# The classes whose `**kwargs` reject what they do not know: a constructor chain that
# ends in one of them takes only the parameters named on the way.
CLOSED = {"BaseOperator"}


def short_error(e):
    text = f"{type(e).__name__}: {e}"
    return text if len(text) <= 500 else text[:500] + "..."


def resolve(path):
    """The object a dotted path names: the longest prefix that imports as a module,
    then attributes. Returns (object, None) or (None, problem)."""
    parts = path.split(".")
    if len(parts) < 2 or not all(p.isidentifier() for p in parts):
        return None, {"problem": "path", "error": f"`{path}` is not a dotted Python path"}
    module = None
    error = None
    attrs = []
    for cut in range(len(parts) - 1, 0, -1):
        name = ".".join(parts[:cut])
        try:
            module = importlib.import_module(name)
            attrs = parts[cut:]
            break
        except ModuleNotFoundError as e:
            # Only "this module does not exist" lets a shorter prefix be tried; a
            # module that exists but imports something missing is the finding.
            missing = e.name or ""
            if missing == name or name.startswith(missing + "."):
                if error is None:
                    error = {"problem": "module", "module": name, "error": short_error(e)}
                continue
            return None, {"problem": "import", "module": name, "error": short_error(e)}
        except BaseException as e:  # noqa: BLE001 - any failure while importing is the finding
            return None, {
                "problem": "import",
                "module": name,
                "error": short_error(e),
                "trace": traceback.format_exc()[-2000:],
            }
    if module is None:
        return None, error or {"problem": "module", "module": parts[0], "error": ""}
    obj = module
    for i, attr in enumerate(attrs):
        if not hasattr(obj, attr):
            owner = ".".join(parts[: len(parts) - len(attrs) + i])
            names = sorted(n for n in dir(obj) if not n.startswith("_"))
            return None, {
                "problem": "attribute",
                "module": owner,
                "attribute": attr,
                "names": names[:2000],
            }
        obj = getattr(obj, attr)
    return obj, None


def parameters(func):
    """The parameters a call can pass by keyword, and whether it takes **kwargs."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    named = []
    var_keyword = False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            named.append({"name": p.name, "required": p.default is p.empty})
    return {"params": named, "var_keyword": var_keyword}


def class_info(cls):
    """The constructor parameters of a class: the MRO's `__init__`s, walked while each
    passes `**kwargs` on to the next; `open` when the chain ends in a `**kwargs` that
    no class closes (any keyword is then accepted)."""
    seen = set()
    params = []
    required = None
    open_ended = True
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None:
            continue
        if klass is object:
            open_ended = False
            break
        info = parameters(init)
        if info is None:
            break
        names = [p for p in info["params"] if p["name"] != "self"]
        if required is None:
            required = [p["name"] for p in names if p["required"]]
        for p in names:
            if p["name"] not in seen:
                seen.add(p["name"])
                params.append(p["name"])
        if not info["var_keyword"] or klass.__name__ in CLOSED:
            open_ended = False
            break
    return {
        "kind": "class",
        "params": params,
        "required": required or [],
        "open": open_ended,
        "operator": any(k.__name__ == "BaseOperator" for k in cls.__mro__),
    }


def inspect_path(path, want_class):
    obj, problem = resolve(path)
    if problem is not None:
        return {"found": False, **problem}
    if inspect.isclass(obj):
        return {"found": True, **class_info(obj)}
    if want_class:
        return {"found": True, "kind": type(obj).__name__}
    if not callable(obj):
        return {"found": True, "kind": type(obj).__name__, "callable": False}
    info = parameters(obj) or {"params": [], "var_keyword": True}
    return {
        "found": True,
        "kind": "function",
        "callable": True,
        "params": [p["name"] for p in info["params"]],
        "var_keyword": info["var_keyword"],
    }


def inspect_all(request):
    return {
        "classes": {p: inspect_path(p, True) for p in request.get("classes", [])},
        "callables": {p: inspect_path(p, False) for p in request.get("callables", [])},
    }


def load(request):
    """The DAGs of a built folder as the DAG processor loads them (one bundle per
    team folder), each serialized and read back as the scheduler does."""
    import warnings

    from airflow.dag_processing.dagbag import BundleDagBag
    from airflow.serialization.serialized_objects import DagSerialization

    folder = request["folder"]
    wanted = request.get("args", [])
    bundles = [("dags-folder", folder)]
    listed = os.path.join(folder, "airflow-bundles.json")
    if os.path.isfile(listed):
        with open(listed) as f:
            config = json.load(f)
        top = config[0]["kwargs"]["path"]
        bundles = [
            (b["name"], os.path.join(folder, os.path.relpath(b["kwargs"]["path"], top)))
            for b in config
        ]
    dags = {}
    errors = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, path in bundles:
            bag = BundleDagBag(dag_folder=path, bundle_path=path, bundle_name=name)
            prefix = os.path.relpath(path, folder)
            for file, error in bag.import_errors.items():
                rel = file if prefix == "." else f"{prefix}/{file}"
                errors[rel.replace(os.sep, "/")] = str(error)[-3000:]
            for dag_id, dag in bag.dags.items():
                try:
                    restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
                    dags[dag_id] = describe(dag, restored, folder, wanted)
                    if request.get("values"):
                        dags[dag_id].update(values_of(dag, request.get("task_fields", [])))
                except Exception as e:  # noqa: BLE001 - any failure here is the finding
                    dags[dag_id] = {"error": f"serialization: {short_error(e)}"}
    return {"dags": dags, "import_errors": errors}


def describe(dag, restored, folder, wanted):
    tasks = {}
    for task in restored.tasks:
        original = dag.get_task(task.task_id)
        # A mapped task is a MappedOperator until it runs: its class and the arguments
        # every instance shares are kept apart.
        partial = getattr(original, "partial_kwargs", None)
        cls = getattr(original, "operator_class", None) if partial is not None else None
        if not isinstance(cls, type):
            cls = type(original)
        args = {}
        for name in wanted:
            if partial is not None:
                value = partial.get(name)
            else:
                value = getattr(original, name, None)
            if isinstance(value, (str, int, float, bool)):
                args[name] = value
        tasks[task.task_id] = {
            "class": f"{cls.__module__}.{cls.__name__}",
            "task_type": task.task_type,
            "downstream": sorted(task.downstream_task_ids),
            "args": args,
        }
    return {
        "file": os.path.relpath(dag.fileloc, folder).replace(os.sep, "/"),
        "tasks": tasks,
    }


# ---- values: a DAG's settings as text, for `dagfc diff --folder` ----

# What a DAG is compared by, besides its tasks.
DAG_FIELDS = (
    "schedule", "start_date", "end_date", "catchup", "tags", "description", "doc_md",
    "max_active_runs", "max_active_tasks", "max_consecutive_failed_dag_runs",
    "dagrun_timeout", "is_paused_upon_creation", "render_template_as_native_obj",
)
# What every task is compared by, besides the arguments the request names.
TASK_FIELDS = (
    "owner", "retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
    "execution_timeout", "pool", "pool_slots", "queue", "priority_weight", "weight_rule",
    "trigger_rule", "depends_on_past", "wait_for_downstream", "email", "doc_md",
)


def duration_text(td):
    ms = round(td.total_seconds() * 1000)
    if ms == 0:
        return "0s"
    sign, ms = ("-", -ms) if ms < 0 else ("", ms)
    out = ""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            out += f"{ms // size}{unit}"
            ms %= size
    return sign + out


def value_text(v, depth=0):
    """One text per value, the same for the same value in any file."""
    import datetime

    if depth > 8:
        return "..."
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, datetime.timedelta):
        return duration_text(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, (set, frozenset)):
        return "[" + ", ".join(sorted(value_text(x, depth + 1) for x in v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value_text(x, depth + 1) for x in v) + "]"
    if isinstance(v, dict):
        items = ", ".join(f"{json.dumps(str(k))} = {value_text(x, depth + 1)}" for k, x in v.items())
        return "{ " + items + " }" if items else "{}"
    if inspect.isfunction(v) or inspect.isclass(v) or inspect.ismethod(v):
        return f"{v.__module__}.{v.__qualname__}"
    if hasattr(v, "value") and type(v).__module__.startswith("airflow") and isinstance(v.value, str):
        return json.dumps(v.value)  # an enum such as TriggerRule
    text = repr(v)
    # An object's default repr names its address, which differs in every process.
    return text if " at 0x" not in text else f"{type(v).__module__}.{type(v).__qualname__}"


def values_of(dag, task_fields):
    """The DAG's settings, its default_args and each task's arguments, as text."""
    missing = object()
    fields = {}
    for name in DAG_FIELDS:
        v = getattr(dag, name, missing)
        if v is missing:
            continue
        if name == "tags":
            v = sorted(v or [])
        fields[name] = value_text(v)
    tasks = {}
    for task in dag.tasks:
        partial = getattr(task, "partial_kwargs", None)
        out = {}
        for name in dict.fromkeys(list(TASK_FIELDS) + list(task_fields)):
            v = partial.get(name, missing) if partial is not None else getattr(task, name, missing)
            if v is not missing and not callable(getattr(type(task), name, None)):
                out[name] = value_text(v)
        tasks[task.task_id] = out
    default_args = {str(k): value_text(v) for k, v in (dag.default_args or {}).items()}
    return {"values": fields, "default_args": default_args, "task_values": tasks}


# ---- introspect: operator classes described for `dagfc operators import` ----

# The base classes whose own constructor arguments dagf already knows (the task and
# sensor arguments of every task): a walk up the constructors stops at them.
BASES = ("BaseOperator", "BaseSensorOperator")


def is_airflow_base(klass, name):
    return klass.__name__ == name and klass.__module__.startswith("airflow.")


def derives(cls, name):
    return any(is_airflow_base(k, name) for k in cls.__mro__)


class Unknown:
    """A name a string annotation uses that its module does not define at run time
    (imported under TYPE_CHECKING): stands for itself, and combines like a type."""

    def __init__(self, name):
        self.name = name

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return Unknown(f"{self.name}.{attr}")

    def __getitem__(self, args):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __or__(self, other):
        return UnknownUnion([self, other])

    def __ror__(self, other):
        return UnknownUnion([other, self])


class UnknownUnion:
    def __init__(self, members):
        self.members = members

    def __or__(self, other):
        return UnknownUnion([*self.members, other])

    def __ror__(self, other):
        return UnknownUnion([other, *self.members])

    def __call__(self, *args, **kwargs):
        return self


class Names(dict):
    def __missing__(self, key):
        import builtins

        return getattr(builtins, key) if hasattr(builtins, key) else Unknown(key)


def evaluate(text, globalns):
    """A string annotation evaluated in its module, with unknown names kept as names."""
    import typing

    names = Names()
    names.update(vars(typing))
    names.update(globalns)
    try:
        return eval(text, {"__builtins__": __builtins__}, names)  # noqa: S307 - the class's own annotation
    except Exception:  # noqa: BLE001 - an annotation that does not evaluate says nothing usable
        return Unknown(text)


def annotations_of(func):
    """Each parameter's annotation, resolved (`from __future__ import annotations` and
    string annotations included)."""
    import typing

    func = inspect.unwrap(func)
    raw = dict(getattr(func, "__annotations__", {}) or {})
    globalns = getattr(func, "__globals__", {})
    try:
        return typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - fall back to one annotation at a time
        pass
    out = {}
    for name, ann in raw.items():
        out[name] = evaluate(ann, globalns) if isinstance(ann, str) else ann
    return out


def describe_type(t, globalns=None, depth=0):
    """An annotation as data: what dagfc maps to a dagf type."""
    import collections.abc as cabc
    import datetime
    import enum
    import types
    import typing

    if depth > 20:
        return {"t": "class", "name": "..."}
    d = lambda x: describe_type(x, globalns, depth + 1)  # noqa: E731
    if t is inspect.Parameter.empty:
        return {"t": "missing"}
    if isinstance(t, str):
        return d(evaluate(t, globalns or {}))
    if isinstance(t, typing.ForwardRef):
        return d(evaluate(t.__forward_arg__, globalns or {}))
    if isinstance(t, Unknown):
        return {"t": "class", "name": t.name}
    if isinstance(t, UnknownUnion):
        return {"t": "union", "of": [d(m) for m in t.members]}
    if t is None or t is type(None):
        return {"t": "none"}
    if t is typing.Any or t is object:
        return {"t": "any"}
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin is typing.Annotated:
        return d(args[0])
    if origin is typing.Union or (hasattr(types, "UnionType") and isinstance(t, types.UnionType)):
        return {"t": "union", "of": [d(a) for a in args]}
    if origin is typing.Literal:
        return {"t": "literal", "values": [literal_value(v) for v in args]}
    if isinstance(t, typing.TypeVar):
        if t.__constraints__:
            return {"t": "union", "of": [d(a) for a in t.__constraints__]}
        return d(t.__bound__) if t.__bound__ is not None else {"t": "any"}
    if getattr(t, "__supertype__", None) is not None:  # NewType
        return d(t.__supertype__)
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        if origin in (list, set, frozenset, cabc.Sequence, cabc.MutableSequence, cabc.Iterable,
                      cabc.Collection, cabc.Container, cabc.Set, cabc.MutableSet, cabc.Iterator):
            return {"t": "list", "of": d(args[0]) if args else {"t": "any"}, "py": name}
        if origin is tuple:
            if len(args) == 2 and args[1] is Ellipsis:
                return {"t": "list", "of": d(args[0]), "py": "tuple"}
            return {"t": "tuple", "of": [d(a) for a in args if a is not Ellipsis]}
        if origin in (dict, cabc.Mapping, cabc.MutableMapping):
            return {
                "t": "map",
                "key": d(args[0]) if args else {"t": "any"},
                "of": d(args[1]) if len(args) > 1 else {"t": "any"},
                "py": name,
            }
        if origin is type:
            return {"t": "class", "name": "type"}
        if origin is cabc.Callable:
            return {"t": "callable"}
        return {"t": "class", "name": qualname(origin)}
    if inspect.isclass(t):
        if t is str:
            return {"t": "str"}
        if t is bool:
            return {"t": "bool"}
        if t is int:
            return {"t": "int"}
        if t is float:
            return {"t": "float"}
        if t in (list, set, frozenset, tuple) or t in (cabc.Sequence, cabc.Iterable, cabc.Collection):
            return {"t": "list", "of": {"t": "any"}, "py": t.__name__}
        if t in (dict, cabc.Mapping, cabc.MutableMapping):
            return {"t": "map", "key": {"t": "str"}, "of": {"t": "any"}, "py": t.__name__}
        if t is datetime.timedelta:
            return {"t": "duration"}
        if t is datetime.datetime:
            return {"t": "datetime"}
        if t is datetime.date:
            return {"t": "date"}
        if t is cabc.Callable or t is types.FunctionType:
            return {"t": "callable"}
        if issubclass(t, enum.Enum):
            return {
                "t": "enum",
                "name": qualname(t),
                "str": issubclass(t, str),
                "values": [literal_value(m.value) for m in t],
            }
        if t.__name__ in ("ArgNotSet", "NOTSET", "_NotSet") or "XComArg" in t.__name__:
            return {"t": "sentinel", "name": t.__name__}
        return {"t": "class", "name": qualname(t)}
    if t is Ellipsis:
        return {"t": "any"}
    if callable(t) and getattr(t, "__module__", "") == "typing":
        return {"t": "any"}
    return {"t": "class", "name": str(t)[:200]}


def qualname(t):
    module = getattr(t, "__module__", "")
    name = getattr(t, "__qualname__", None) or getattr(t, "__name__", None) or str(t)
    return name if module in ("builtins", "") else f"{module}.{name}"


def literal_value(v):
    import enum

    if isinstance(v, enum.Enum):
        v = v.value
    if v is None or isinstance(v, (str, bool)):
        return v
    if isinstance(v, int):
        return v if -(2**63) <= v < 2**63 else {"repr": plain_repr(v)}
    if isinstance(v, float):
        return v
    return {"repr": plain_repr(v)}


def plain_repr(v):
    """`repr`, without the object addresses that differ from run to run."""
    import re

    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(v))[:200]


def describe_value(v, depth=0):
    """A default value as data, or why dagf cannot write it."""
    import datetime
    import enum
    import math

    if depth > 20:
        return {"repr": "..."}
    if isinstance(v, enum.Enum):
        inner = describe_value(v.value, depth + 1)
        return {"enum": qualname(type(v)) + "." + v.name, **inner} if "v" in inner else {"repr": plain_repr(v)}
    if v is None or isinstance(v, (bool, str)):
        return {"v": v}
    if isinstance(v, int):
        return {"v": v} if -(2**63) <= v < 2**63 else {"repr": plain_repr(v)}
    if isinstance(v, float):
        return {"v": v} if math.isfinite(v) else {"repr": plain_repr(v)}
    if isinstance(v, datetime.timedelta):
        micros = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
        return {"duration_us": micros}
    if isinstance(v, (list, tuple)):
        items = [describe_value(x, depth + 1) for x in v]
        bad = next((i for i in items if "repr" in i), None)
        return {"repr": plain_repr(v)} if bad else {"list": items}
    if isinstance(v, dict):
        if not all(isinstance(k, str) for k in v):
            return {"repr": plain_repr(v)}
        items = [[k, describe_value(x, depth + 1)] for k, x in v.items()]
        bad = next((i for _, i in items if "repr" in i), None)
        return {"repr": plain_repr(v)} if bad else {"map": items}
    # An object's address differs from run to run; the output must not.
    return {"repr": getattr(v, "__name__", None) or plain_repr(v)}


def param_docs(doc):
    """`:param name: text` (reST) and `name: text` under `Args:` (Google style)."""
    import re

    out = {}
    if not doc:
        return out
    lines = doc.splitlines()
    current = None
    for line in lines:
        m = re.match(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:(.*)$", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
            continue
        if current is not None:
            stripped = line.strip()
            if not stripped or stripped.startswith(":") or stripped.startswith(".."):
                current = None
            elif line[:1].isspace():
                out[current] = (out[current] + " " + stripped).strip()
            else:
                current = None
    return out


def param_types(doc):
    """The types a docstring gives its parameters when the signature does not: Sphinx's
    `:type name: TEXT`, and `:param TYPE name:`."""
    import re

    out = {}
    for line in (doc or "").splitlines():
        m = re.match(r"^\s*:type\s+(\w+)\s*:(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
            continue
        m = re.match(r"^\s*:param\s+([^:]*\S)\s+(\w+)\s*:", line)
        if m:
            out.setdefault(m.group(2), m.group(1).strip())
    return out


def doc_type(text, globalns):
    """A docstring's type text as a type: roles and markup dropped, `X or Y` as a
    union, `list of X` as `list[X]`, `, optional` as `| None`; what does not read as a
    type is `Unknown` (described as `any`)."""
    import re

    text = re.sub(r":(?:py:)?(?:class|obj|data|type):", "", text)
    text = text.replace("`", "").replace("~", "").strip().rstrip(".")
    optional = False
    m = re.match(r"^(.*?),?\s*optional$", text, re.IGNORECASE)
    if m:
        text, optional = m.group(1).strip(), True
    text = re.sub(r"\b(list|set|tuple|sequence|iterable) of (\w[\w.]*)", r"\1[\2]", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+or\s+", " | ", text)
    text = re.sub(r"\b(list|dict|set|tuple)\b", lambda m: m.group(1).lower(), text, flags=re.IGNORECASE)
    if not text or not re.fullmatch(r"[\w.\[\], |]+", text):
        return Unknown(text)
    if optional and "None" not in text:
        text = f"{text} | None"
    import builtins
    import datetime
    import typing

    # A docstring names the classes of `datetime` in full, which the module need not import.
    text = re.sub(r"\bdatetime\.(timedelta|datetime|date)\b", r"\1", text)
    names = dict(vars(builtins))
    names.update(vars(typing))
    names.update(globalns or {})
    names.update(timedelta=datetime.timedelta, datetime=datetime.datetime, date=datetime.date)
    return evaluate(text, names)


def class_doc(cls):
    doc = inspect.cleandoc(vars(cls).get("__doc__") or "")
    paras = []
    for para in doc.split("\n\n"):
        text = " ".join(line.strip() for line in para.splitlines()).strip()
        if text and not text.startswith(":") and not text.startswith(".."):
            paras.append(text)
            break
    return paras[0] if paras else ""


def constructor(cls):
    """The keyword parameters of the class's constructors up the MRO, while each
    passes `**kwargs` on, stopping at Airflow's base classes (their arguments are
    every task's)."""
    seen = set()
    params = []
    open_ended = True
    base_names = set()
    for klass in cls.__mro__:
        if any(is_airflow_base(klass, b) for b in BASES):
            for p in (parameters(vars(klass).get("__init__")) or {"params": []})["params"]:
                base_names.add(p["name"])
    for klass in cls.__mro__:
        if any(is_airflow_base(klass, b) for b in BASES) or klass is object:
            break
        init = vars(klass).get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            break
        hints = annotations_of(init)
        globalns = getattr(inspect.unwrap(init), "__globals__", {})
        docs = {}
        doc_types = {}
        for k in cls.__mro__:
            text = vars(k).get("__doc__") or ""
            for name, said in param_docs(text).items():
                docs.setdefault(name, said)
            for name, said in param_types(text).items():
                doc_types.setdefault(name, said)
        var_keyword = False
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind is p.VAR_KEYWORD:
                var_keyword = True
                continue
            if p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) or p.name in seen:
                continue
            seen.add(p.name)
            if p.name in base_names or p.name == "task_id":
                continue
            ann = hints.get(p.name, p.annotation)
            # Many providers give a type only in the docstring.
            if ann is p.empty and p.name in doc_types:
                ann = doc_type(doc_types[p.name], globalns)
            entry = {
                "name": p.name,
                "type": describe_type(ann, globalns),
                "required": p.default is p.empty,
                "doc": docs.get(p.name, ""),
                "owner": klass.__name__,
            }
            if p.default is not p.empty:
                entry["default"] = describe_value(p.default)
            params.append(entry)
        if not var_keyword:
            open_ended = False
            break
    return params, open_ended


def skip_reason(cls, attr):
    """Why a class defined in a module is not imported with the module, or None."""
    name = cls.__name__
    if attr != name:
        return f"another name for {name}"
    if name.startswith("_"):
        return "private"
    if vars(cls).get("__deprecated__") or any(
        "deprecat" in (getattr(vars(cls).get(f), "__module__", "") or "")
        or "deprecat" in (getattr(vars(cls).get(f), "__qualname__", "") or "")
        for f in ("__new__", "__init__")
    ):
        return "deprecated"
    if inspect.isabstract(cls):
        return "abstract"
    sensor = derives(cls, "BaseSensorOperator")
    wanted = ("poke", "execute") if sensor else ("execute",)
    for klass in cls.__mro__:
        if any(is_airflow_base(klass, b) for b in BASES):
            return "abstract: it has no `execute` of its own" if not sensor else "abstract: it has no `poke` of its own"
        if any(w in vars(klass) for w in wanted):
            break
    if name.startswith("Base"):
        return "a base class"
    return None


def class_entry(cls):
    params, open_ended = constructor(cls)
    fields = getattr(cls, "template_fields", ()) or ()
    if isinstance(fields, str):
        fields = (fields,)
    return {
        "path": f"{cls.__module__}.{cls.__name__}",
        "name": cls.__name__,
        "sensor": derives(cls, "BaseSensorOperator"),
        "doc": class_doc(cls),
        "params": params,
        "open": open_ended,
        "templated": sorted(str(f) for f in fields),
    }


def operators_in(module):
    """The operator classes a module defines, and the ones it leaves out with why."""
    found = []
    skipped = []
    for attr, obj in sorted(vars(module).items()):
        if not inspect.isclass(obj) or obj.__module__ != module.__name__:
            continue
        if not derives(obj, "BaseOperator"):
            continue
        reason = skip_reason(obj, attr)
        if reason:
            skipped.append({"path": f"{module.__name__}.{attr}", "why": reason})
        else:
            found.append(obj)
    return found, skipped


def introspect_target(target):
    import pkgutil

    parts = target.split(".")
    if not parts or not all(p.isidentifier() for p in parts):
        return {"found": False, "problem": "path", "error": f"`{target}` is not a dotted Python path"}
    try:
        module = importlib.import_module(target)
    except ModuleNotFoundError as e:
        if not (e.name and (e.name == target or target.startswith(e.name + "."))):
            return {"found": False, "problem": "import", "module": target, "error": short_error(e)}
        module = None
    except BaseException as e:  # noqa: BLE001 - any failure while importing is the finding
        return {"found": False, "problem": "import", "module": target, "error": short_error(e),
                "trace": traceback.format_exc()[-2000:]}
    if module is None:
        if len(parts) < 2:
            return {"found": False, "problem": "module", "module": target, "error": f"No module named '{target}'"}
        obj, problem = resolve(target)
        if problem is not None:
            return {"found": False, **problem}
        if not inspect.isclass(obj):
            return {"found": False, "problem": "kind", "kind": type(obj).__name__}
        if not derives(obj, "BaseOperator"):
            return {"found": False, "problem": "not_operator",
                    "bases": [qualname(k) for k in obj.__mro__[1:4]]}
        return {"found": True, "classes": [class_entry(obj)], "skipped": [], "failed": [], "modules": 1}
    modules = [module]
    failed = []
    if hasattr(module, "__path__"):
        names = []
        for info in pkgutil.walk_packages(module.__path__, prefix=module.__name__ + ".",
                                          onerror=lambda name: None):
            if any(p.startswith("_") for p in info.name.split(".")):
                continue
            names.append(info.name)
        for name in sorted(set(names)):
            try:
                modules.append(importlib.import_module(name))
            except BaseException as e:  # noqa: BLE001 - a module that does not import is reported
                failed.append({"module": name, "error": short_error(e)})
    classes = []
    skipped = []
    for m in modules:
        found, left = operators_in(m)
        skipped.extend(left)
        for cls in found:
            try:
                classes.append(class_entry(cls))
            except Exception as e:  # noqa: BLE001 - one class that cannot be read is reported
                failed.append({"module": f"{m.__name__}.{cls.__name__}", "error": short_error(e)})
    return {"found": True, "classes": classes, "skipped": skipped, "failed": failed,
            "modules": len(modules)}


def introspect(request):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {"targets": {t: introspect_target(t) for t in request.get("targets", [])}}


def state_text(state):
    if state is None:
        return "none"
    return str(getattr(state, "value", state))


def dags_test(request):
    """`airflow dags test DAG_ID`, as the command line runs it, then the final state
    of the run it made and of each task instance, read from the metadata database."""
    from airflow.__main__ import main as airflow_main

    dag_id = request["dag_id"]
    sys.argv = ["airflow", "dags", "test", dag_id]
    error = None
    try:
        airflow_main()
    except SystemExit as e:
        # A failed run exits with "DagRun failed": the states say what failed.
        if e.code not in (0, None):
            error = str(e.code)
    except BaseException as e:  # noqa: BLE001 - reported as why no run was made
        error = short_error(e)
        traceback.print_exc()
    from sqlalchemy import select

    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
        ).first()
        if run is None:
            return {"run": None, "run_error": error or "Airflow made no run"}
        tis = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id
            )
        ).all()
        tasks = {}
        for ti in sorted(tis, key=lambda t: (t.task_id, t.map_index)):
            tasks.setdefault(ti.task_id, []).append(state_text(ti.state))
        return {"run": {"state": state_text(run.state), "tasks": tasks}}


def main():
    try:
        request = json.loads(sys.stdin.read())
    except ValueError as e:
        answer = {"error": f"bad request: {e}"}
    else:
        try:
            if request.get("op") == "introspect":
                answer = introspect(request)
            elif request.get("op") == "dags_test":
                answer = dags_test(request)
            else:
                answer = inspect_all(request)
            if request.get("op") == "verify":
                answer.update(load(request))
        except BaseException as e:  # noqa: BLE001 - reported to dagfc, never a traceback alone
            answer = {"error": short_error(e), "trace": traceback.format_exc()[-2000:]}
    answer["python"] = ".".join(str(n) for n in sys.version_info[:3])
    ANSWER.write(json.dumps(answer))
    ANSWER.write("\n")
    ANSWER.flush()


main()
