"""Peak memory of a piece of Python run in a fresh child process, for the benchmarks' memory figures.

A child process starts from nothing, so its peak resident set size is that of the code it runs (plus
the interpreter and the libraries it imports), unaffected by whatever the benchmark held before.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bench.figures import REPO

#: The last statement of every child: its result and its peak RSS as one line of JSON.
_REPORT = """
import json as _json, resource as _resource
print(_json.dumps({**result, "peak_rss_mb": _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def peak_rss(code: str) -> dict:
    """Run ``code`` (it leaves a dict in ``result``) in a child Python; ``result`` plus ``peak_rss_mb``.

    The child starts in the repository root with it on ``sys.path``; what it prints before its last
    line goes to this process's output. Raises :class:`subprocess.CalledProcessError` if it fails.
    """
    prelude = f"import sys\nsys.path.insert(0, {str(REPO)!r})\n"
    done = subprocess.run([sys.executable, "-c", prelude + code + _REPORT], cwd=REPO, capture_output=True,
                          text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        done.check_returncode()
    *before, last = done.stdout.rstrip("\n").splitlines()
    if before:
        print("\n".join(before))
    return json.loads(last)
