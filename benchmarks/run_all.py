"""All five benchmarks in one run, in order; the figures for docs/performance.md.

    .venv/bin/python benchmarks/run_all.py            # >= 15 interleaved runs per case, ~6 minutes
    .venv/bin/python benchmarks/run_all.py --quick    # 5 runs per case, for development
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import HERE, PYTHON, machine_line, parse_args  # noqa: E402

SCRIPTS = ("startup.py", "one_request.py", "large_list.py", "bulk_accept.py", "https.py")


def main() -> None:
    args = parse_args(__doc__)
    print(f"memberships benchmarks: {machine_line()}")
    started = time.monotonic()
    failed = []
    for script in SCRIPTS:
        done = subprocess.run([PYTHON, str(HERE / script), "--runs", str(args.runs)])
        if done.returncode != 0:
            failed.append(script)
    print(f"\nall benchmarks in {time.monotonic() - started:.0f} s; load average now {machine_line().rsplit('load ', 1)[1]}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
