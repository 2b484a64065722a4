#!/usr/bin/env python3
"""The usual alternative to dagfc: render one Airflow file per parameter set from a
Jinja2 template.

    python render_jinja.py TEMPLATE PARAMS_JSON OUT_DIR

PARAMS_JSON is the list gen.py writes: {"dag_id", "file", "args"}, where "args" holds
only the arguments an instance passes; the factory's defaults are applied here.
OUT_DIR must not exist yet. Needs jinja2 and nothing else.
"""

import json
import re
import sys
from pathlib import Path

import jinja2

# pipeline.dagf's defaults (timeout in seconds). Keep in step with that file.
DEFAULTS = {
    "region": "eu",
    "batch": 500,
    "retries": 2,
    "timeout": 3600,
    "schedule": "@daily",
    "owner": "data",
    "extra_tags": [],
    "pool": None,
}


# What a double-quoted literal must escape. A string with none of these (almost every
# one) is written as it is: the renderer's fast path, as dagfc has one.
NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def pystr(s) -> str:
    """A Python string literal the way dagfc (and ruff) writes it: double quotes
    unless single quotes save escaping."""
    s = str(s)
    if NEEDS_ESCAPE.search(s) is None:
        return '"' + s + '"'
    quote = "'" if '"' in s and "'" not in s else '"'
    out = [quote]
    for c in s:
        if c == "\\":
            out.append("\\\\")
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif c == quote:
            out.append("\\" + c)
        elif ord(c) < 0x20 or c == "\x7f":
            out.append(f"\\x{ord(c):02x}")
        else:
            out.append(c)
    out.append(quote)
    return "".join(out)


def timedelta(seconds: int) -> str:
    """`timedelta(hours=1, minutes=30)`: the largest units first, zero parts left out."""
    parts = []
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        if seconds >= size:
            parts.append(f"{unit}={seconds // size}")
            seconds %= size
    return f"timedelta({', '.join(parts) or 'seconds=0'})"


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    template_path, params_path, out_dir = map(Path, sys.argv[1:])
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_path.parent),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,  # a typo in the template fails, not renders ""
        autoescape=False,
    )
    env.filters["pystr"] = pystr
    env.filters["timedelta"] = timedelta
    template = env.get_template(template_path.name)

    out_dir.mkdir(parents=True)  # fails if it exists: every run starts empty
    made: set[Path] = set()
    pools: dict[str, dict] = {}
    for p in json.loads(params_path.read_text()):
        values = {**DEFAULTS, **p["args"], "dag_id": p["dag_id"], "file": p["file"]}
        folder = out_dir
        if "tenant" in p:
            # The tenant policy of bench/customer.dagf: tags, pool and folder.
            t = p["tenant"]
            values["extra_tags"] = [*values["extra_tags"], f"tenant:{t}", f"tier:{p['tier']}"]
            values["pool"] = f"tenant_{t}"
            pools[f"tenant_{t}"] = {
                "description": f"Tasks of customer {t}",
                "include_deferred": False,
                "slots": 16 if p["tier"] == "gold" else 8,
            }
            folder = out_dir / "tenants" / t
            if folder not in made:
                folder.mkdir(parents=True)
                made.add(folder)
        (folder / f"{p['dag_id']}.py").write_text(template.render(values))
    if pools:
        # The tenants' pools, for `airflow pools import`, as dagfc writes them.
        (out_dir / "pools.json").write_text(json.dumps(pools, indent=4, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
