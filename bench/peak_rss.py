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
#: ``VmHWM`` belongs to the process image the child runs; ``ru_maxrss`` (the fallback where there is no
#: /proc) keeps the parent's peak from before the child's exec, so a large parent would mask the child.
_REPORT = """
import json as _json, resource as _resource
try:
    _hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
    _peak = int(_hwm.split()[1]) / 1024
except (OSError, IndexError, ValueError):
    _peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / 1024
print(_json.dumps({**result, "peak_rss_mb": _peak}))
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
