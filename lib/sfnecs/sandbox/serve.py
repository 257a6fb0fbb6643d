"""`python -m sfnecs.sandbox.serve`: the background sandbox process (used by `sfnecs sandbox start`)."""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from sfnecs.sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sfnecs.sandbox.serve")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--ready-file", type=Path)
    args = parser.parse_args(argv)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    sandbox = Sandbox(port=args.port, speed=args.speed, export=True).start()
    record = {"endpoint": sandbox.endpoint, "port": sandbox.port}
    if args.ready_file:
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        tmp.replace(args.ready_file)
    print(f"sfnecs sandbox listening on {sandbox.endpoint}", flush=True)
    while not done.wait(0.5):
        if not sandbox.running:  # stopped through the control API
            break
    sandbox.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
