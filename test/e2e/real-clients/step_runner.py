"""What every real-client script here shares: each step recorded as [name, result] by the
script's own `attempt`, all printed as one JSON object {"steps": [...]}, and an unexpected
failure reported as a traceback with exit status 1."""
import json
import sys
import traceback


class Steps:
    """Callable as step(name, fn): runs fn through `attempt` and records the result."""

    def __init__(self, attempt):
        self.attempt = attempt
        self.items = []

    def __call__(self, name, fn):
        self.items.append([name, self.attempt(fn)])

    def print(self, default=None):
        print(json.dumps({'steps': self.items}, indent=1, sort_keys=True, default=default))


def run_main(main):
    """Runs main(); an exception is a traceback on stderr and exit status 1."""
    try:
        main()
    except Exception:
        traceback.print_exc()
        sys.exit(1)
