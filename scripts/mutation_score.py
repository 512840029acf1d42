"""Per-module mutation scores from a `mutmut run` (reads mutants/**/*.meta; run from the repo).

    score = (killed + timeout) / (every checked mutant, survivors and untested ones included)

Timeouts count as killed (the mutant made the tests hang); mutants never checked are shown
apart and left out of the score.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check", "segfault"}


def main() -> int:
    root = Path("mutants")
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print("no mutmut results: run `make mutation` first", file=sys.stderr)
        return 2
    total = Counter()
    print(f"{'module':36} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8} {'unchecked':>9} {'score':>6}")
    for meta in metas:
        codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
        if not codes:
            continue
        c = Counter(status_by_exit_code[code] for code in codes.values())
        killed = sum(c[s] for s in KILLED)
        checked = len(codes) - c["not checked"]
        module = meta.relative_to(root / "src").with_suffix("").with_suffix("").as_posix()
        score = f"{100 * killed / checked:5.1f}%" if checked else "    -"
        print(f"{module:36} {len(codes):7} {killed:7} {c['survived']:8} {c['no tests']:8} "
              f"{c['not checked']:9} {score:>6}")
        total.update({"mutants": len(codes), "killed": killed, "checked": checked})
    if total["checked"]:
        print(f"{'all':36} {total['mutants']:7} {total['killed']:7} {'':8} {'':8} {'':9} "
              f"{100 * total['killed'] / total['checked']:5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
