"""Print mutmut's result for `nox -s mutate`: killed / total, and the survivors to look at."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main(stats_file: str) -> int:
    stats = json.loads(Path(stats_file).read_text())
    killed = stats["killed"] + stats.get("timeout", 0)
    total = stats["total"]
    outcomes = ("killed", "survived", "no_tests", "timeout", "suspicious", "segfault", "skipped")
    checked = sum(stats.get(key, 0) for key in outcomes)
    if total and not checked:
        print(f"mutmut checked none of its {total} mutants: see its output above")
        return 1
    print(f"snippets/ mutants killed: {killed} / {total} ({killed / total:.1%})")
    for key in ("survived", "no_tests", "suspicious", "skipped"):
        if stats.get(key):
            print(f"  {key}: {stats[key]}")
    survivors = subprocess.run(["mutmut", "results"], capture_output=True, text=True).stdout
    if survivors.strip():
        print("survivors (`mutmut show NAME` shows the change):")
        print(survivors)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
