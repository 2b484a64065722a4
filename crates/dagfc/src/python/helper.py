"""dagfc's Python helper: answers questions about the project's Python environment.

dagfc runs it with the project's interpreter (after a first line that checks the
version), sends one JSON request on standard input and reads one JSON answer from
standard output. Whatever the project's modules print while they are imported goes to
standard error, so that it cannot spoil the answer.

Requests:
  {"op": "inspect", "classes": [PATH...], "callables": [PATH...]}
  {"op": "verify", "classes": [...], "callables": [...], "folder": DIR, "args": [NAME...]}
(the answer to "verify" is inspect's, with the DAGs loaded from DIR and their import errors)
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


def main():
    try:
        request = json.loads(sys.stdin.read())
    except ValueError as e:
        answer = {"error": f"bad request: {e}"}
    else:
        try:
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
