#!/usr/bin/env python3
"""Edit ONE instance of a generated tenants project: the first `dag x_03:` line of FILE
gets a new `source` argument, ending in TAG (so that every edit differs).

    python3 bench/edit_instance.py FILE TAG

Standard library only; bench/build.sh runs it before each timed incremental run.
"""

import re
import sys

path, tag = sys.argv[1], sys.argv[2]
text = open(path).read()
edited, n = re.subn(
    r'(dag x_03: pipeline\(source = "[a-z_]+_[0-9]+)[a-z0-9]*"',
    lambda m: f'{m.group(1)}e{tag}"',
    text,
    count=1,
)
if n != 1:
    sys.exit(f"edit_instance.py: no instance to edit in {path}")
open(path, "w").write(edited)
