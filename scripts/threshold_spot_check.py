"""Does a fast test notice when a rule threshold is halved or tripled?

For every numeric protocol key the rules read (src/clamcoach/protocols/clamshell.toml, read in
rules.py, reps.py, setup.py, engine.py and the measurement stage), and with ``--rep-params``
for the rep detector's own constants (``reps.RepParams``), this runs the rule tests once with
the value halved and once tripled, and says which test failed first, or that none did (an
escape: the tests would not notice a wrong threshold).

    .venv/bin/python scripts/threshold_spot_check.py [--keys tempo.hold_min_s,...] [--rep-params]

The change is made by this file acting as a pytest plugin (``-p threshold_spot_check``): it
scales one value of the packaged protocol as ``load_protocol`` reads it (the same as editing
the TOML file), with the protocol's own consistency check switched off, so what is measured
is whether the tests notice, not whether the file would be refused (that is said apart).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROTOCOL_FILE = REPO / "src" / "clamcoach" / "protocols" / "clamshell.toml"
#: The modules that apply the rules; a protocol key none of them reads is not a rule threshold.
RULE_MODULES = ("rules.py", "reps.py", "setup.py", "engine.py", "measure/stage.py")
#: The fast tests of the rules (the ones a threshold change should trip).
TESTS = ("tests/test_rules.py", "tests/test_reps.py", "tests/test_setup.py", "tests/test_engine.py",
         "tests/measure", "tests/test_coach.py")
FACTORS = (0.5, 3.0)
MARKERS = "not slow and not browser and not postgres"
ENV_KEY, ENV_FACTOR = "CLAMCOACH_SPOT_KEY", "CLAMCOACH_SPOT_FACTOR"
REP_PARAMS_PREFIX = "RepParams."


# -- as a pytest plugin: scale one value -------------------------------------------------------

def pytest_configure(config) -> None:  # noqa: ARG001 - the hook's signature
    key, factor = os.environ.get(ENV_KEY), os.environ.get(ENV_FACTOR)
    if not key or not factor:
        return
    if key.startswith(REP_PARAMS_PREFIX):
        _scale_rep_param(key.removeprefix(REP_PARAMS_PREFIX), float(factor))
    else:
        _scale_protocol_key(key, float(factor))


def _scale_protocol_key(key: str, factor: float) -> None:
    import clamcoach.protocol as protocol

    section, name = key.split(".")
    original = protocol.default_data

    def scaled() -> dict:
        data = original()
        data[section][name] = data[section][name] * factor
        return data

    protocol.default_data = scaled
    protocol.contradictions = lambda data: []


def _scale_rep_param(name: str, factor: float) -> None:
    from clamcoach import reps

    fields = [f.name for f in dataclasses.fields(reps.RepParams)]
    defaults = list(reps.RepParams.__init__.__defaults__)
    defaults[fields.index(name)] *= factor
    reps.RepParams.__init__.__defaults__ = tuple(defaults)
    setattr(reps.RepParams, name, defaults[fields.index(name)])


# -- as a script: run the tests per change --------------------------------------------------------

def rule_keys() -> tuple[list[str], list[str]]:
    """(keys the rules read, numeric keys nothing in the rules reads)."""
    data = tomllib.loads(PROTOCOL_FILE.read_text("utf-8"))
    source = "\n".join((REPO / "src" / "clamcoach" / m).read_text("utf-8") for m in RULE_MODULES)
    read, unread = [], []
    for section, values in data.items():
        if not isinstance(values, dict) or section == "prescription":
            continue  # the prescription is the patient's plan, checked by prescription_check
        for name, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            # Read as proto.<section>.<name>, or through a short name for the section
            # (``rb = proto.roll_back``; ``rb.warn_deg``): other classes share some field names.
            aliases = {section, *re.findall(rf"\b(\w+) = (?:self\.)?(?:proto|protocol)\.{section}\b", source)}
            pattern = rf"\b(?:{'|'.join(sorted(aliases))})\.{name}\b"
            (read if re.search(pattern, source) else unread).append(f"{section}.{name}")
    return read, unread


def rep_param_keys() -> list[str]:
    sys.path.insert(0, str(REPO / "src"))
    from clamcoach.reps import RepParams

    return [REP_PARAMS_PREFIX + f.name for f in dataclasses.fields(RepParams)]


def refused(key: str, factor: float) -> str:
    """The protocol's own complaint about the changed value ('' when it would load)."""
    if key.startswith(REP_PARAMS_PREFIX):
        return ""
    code = ("import sys, clamcoach.protocol as p; d = p.default_data(); s, k = sys.argv[1].split('.');"
            "d[s][k] *= float(sys.argv[2]); print('; '.join(p.contradictions(d)))")
    out = subprocess.run([sys.executable, "-c", code, key, str(factor)], capture_output=True,
                         text=True, cwd=REPO, check=True)
    return out.stdout.strip()


def run_tests(key: str | None, factor: float | None, tests: list[str]) -> tuple[bool, str, float]:
    """(passed, first failure, seconds) of the fast rule tests with ``key`` scaled."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO / "scripts"), os.environ.get("PYTHONPATH", "")]))
    env.pop(ENV_KEY, None)
    if key is not None:
        env[ENV_KEY], env[ENV_FACTOR] = key, str(factor)
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "threshold_spot_check", "-p", "no:cacheprovider",
           "--rootdir", str(REPO), "-c", str(REPO / "pyproject.toml"),
           "-m", MARKERS, "-rf", "--hypothesis-seed=0", *tests]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=env)
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
    if proc.returncode not in (0, 1):
        failed = failed or [f"pytest exit {proc.returncode}: {proc.stdout.strip().splitlines()[-1:]}"]
    return proc.returncode == 0, (failed[0] if failed else ""), time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", help="comma-separated keys (section.name or RepParams.name); default: all")
    ap.add_argument("--rep-params", action="store_true", help="also the rep detector's constants")
    ap.add_argument("--json", type=Path, help="write the results here as JSON too")
    ap.add_argument("--tests-dir", type=Path, default=REPO / "tests",
                    help="run the tests from this copy of tests/ (to measure an older version)")
    args = ap.parse_args(argv)
    tests = [str(args.tests_dir / Path(t).relative_to("tests")) for t in TESTS]
    tests = [t for t in tests if Path(t).exists()]
    read, unread = rule_keys()
    keys = read + (rep_param_keys() if args.rep_params else [])
    if args.keys:
        keys = args.keys.split(",")
    else:
        print("numeric protocol keys no rule reads (not checked):", ", ".join(unread) or "none")
    ok, first, seconds = run_tests(None, None, tests)
    if not ok:
        print(f"the tests fail without any change ({first}): fix that first", file=sys.stderr)
        return 2
    print(f"baseline: the rule tests pass ({seconds:.0f} s): {' '.join(tests)}")
    results, escapes = [], 0
    for key in keys:
        for factor in FACTORS:
            passed, first, seconds = run_tests(key, factor, tests)
            escapes += passed
            note = refused(key, factor)
            verdict = "ESCAPED" if passed else f"caught by {first}"
            print(f"{key} x{factor:g}: {verdict} ({seconds:.0f} s)"
                  + (f" [the protocol check would refuse it: {note}]" if note else ""), flush=True)
            results.append({"key": key, "factor": factor, "caught": not passed, "by": first,
                            "refused": note})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(f"{len(results) - escapes} of {len(results)} changes caught; {escapes} escaped")
    return 1 if escapes else 0


if __name__ == "__main__":
    sys.exit(main())
