#!/usr/bin/env python3
"""Serve a folder over HTTP on 127.0.0.1, each answer after a delay, as a remote API.

    python3 bench/api_server.py FOLDER PORT_FILE [--latency-ms 20]

Binds a free port, writes it to PORT_FILE, then serves FOLDER's files until killed.
The delay stands for the round trip to a service on another machine; 0 is the best
case of a service on the same host. Standard library only.
"""

import argparse
import functools
import http.server
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("port_file")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    opts = ap.parse_args()
    delay = opts.latency_ms / 1000

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            time.sleep(delay)
            super().do_GET()

        def log_message(self, *args):
            pass

    handler = functools.partial(Handler, directory=opts.folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    Path(opts.port_file).write_text(f"{server.server_address[1]}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
