"""``python -m tests.standin``: the SYNTHETIC stand-in server as a process of its own, on loopback, until killed.

Used where the suite is exercised as an installed program (CI's wheel check): it prints its base URL on the first
line of stdout. The key it accepts comes from the variable named by --key-env, never from the command line.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from tests.standin.server import StandinServer


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.standin", description=__doc__)
    parser.add_argument("--key-env", default="CONFORMANCE_STANDIN_KEY", help="variable holding the accepted key")
    args = parser.parse_args()
    key = os.environ.get(args.key_env)
    if not key:
        print(f"set {args.key_env} to the key the stand-in should accept", file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with StandinServer(key) as server:
        print(server.base_url, flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
