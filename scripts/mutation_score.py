"""Per-module mutation scores from a `mutmut run` (reads mutants/**/*.meta; run from the repo).

    score = (killed + timeout) / (every checked mutant, survivors and untested ones included,
                                  the listed equivalent ones left out)

Timeouts count as killed (the mutant made the tests hang); mutants never checked are shown
apart and left out of the score. A survivor that cannot change behaviour (an equivalent
mutant) is listed, with a one-line reason, in scripts/mutation_equivalent.toml: it is shown as
"equivalent" and left out too; a listed name that is no longer a survivor is reported, so the
list cannot hide a mutant that a change of code has made live.
"""

from __future__ import annotations

import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "timeout", "caught by type check", "segfault"}
EQUIVALENT = Path(__file__).with_name("mutation_equivalent.toml")


def equivalent() -> dict[str, str]:
    """Mutant name -> why it cannot change behaviour."""
    if not EQUIVALENT.exists():
        return {}
    return {name: reason for table in tomllib.loads(EQUIVALENT.read_text("utf-8")).values()
            for name, reason in table.items()}


def main() -> int:
    root = Path("mutants")
    metas = sorted(root.rglob("*.py.meta"))
    if not metas:
        print("no mutmut results: run `make mutation` first", file=sys.stderr)
        return 2
    same = equivalent()
    stale = []
    total = Counter()
    print(f"{'module':36} {'mutants':>7} {'killed':>7} {'survived':>8} {'equiv':>5} {'no tests':>8} "
          f"{'unchecked':>9} {'score':>6}")
    for meta in metas:
        codes = json.loads(meta.read_text("utf-8")).get("exit_code_by_key", {})
        if not codes:
            continue
        status = {name: status_by_exit_code[code] for name, code in codes.items()}
        stale += [n for n in same if n in status and status[n] not in ("survived", "not checked")]
        c = Counter(status.values())
        equiv = sum(1 for n, s in status.items() if s == "survived" and n in same)
        killed = sum(c[s] for s in KILLED)
        checked = len(codes) - c["not checked"] - equiv
        module = meta.relative_to(root / "src").with_suffix("").with_suffix("").as_posix()
        score = f"{100 * killed / checked:5.1f}%" if checked else "    -"
        print(f"{module:36} {len(codes):7} {killed:7} {c['survived'] - equiv:8} {equiv:5} {c['no tests']:8} "
              f"{c['not checked']:9} {score:>6}")
        total.update({"mutants": len(codes), "killed": killed, "checked": checked})
    if total["checked"]:
        print(f"{'all':36} {total['mutants']:7} {total['killed']:7} {'':8} {'':5} {'':8} {'':9} "
              f"{100 * total['killed'] / total['checked']:5.1f}%")
    for name in stale:
        print(f"listed as equivalent but not a survivor (remove it from {EQUIVALENT.name}): {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
