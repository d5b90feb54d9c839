"""Speed of the regain package from Python (recorded in BENCHMARKS.md, "Python").

    pip install cedarpy            # the peer (or the package's `bench` extra)
    python bindings/python/bench/bench.py [--seconds S]

1. Per complete decision: `Engine.evaluate(dict)` against cedarpy's `is_authorized`, one
   call per path (a complete decision: which of the policy's paths are allowed), on
   policies/alipay.regain and its translation bench/alipay.cedar (the rules of
   benches/peers.rs), with cedarpy's fastest inputs: a pre-parsed PolicySet, one
   pre-parsed Entities per profile and pre-built request dicts. Both are checked to
   decide every profile alike before anything is timed.
2. `Engine.evaluate_many` throughput on pre-built dicts (alipay and bank suites).

The profiles are every case of the policy's shipped suite (policies/*.suite.yaml).
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import regain

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent / "tests"))
from conftest import flatten, suite_profiles  # noqa: E402


def timed(fn, seconds):
    """Best per-round time of fn() over rounds filling about `seconds` (after a warm-up)."""
    fn()
    best, spent, rounds = float("inf"), 0.0, 0
    while spent < seconds or rounds < 3:
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best, spent, rounds = min(best, dt), spent + dt, rounds + 1
    return best


def cedar_setup(engine, profiles):
    import cedarpy

    text = (HERE / "alipay.cedar").read_text(encoding="utf-8")
    policies = cedarpy.PolicySet.from_str(text)
    paths = engine.policy.path_names
    requests = [
        {"principal": 'User::"u"', "action": f'Action::"{p}"', "resource": 'Account::"a"', "context": {}}
        for p in paths
    ]
    entities = []
    for prof in profiles:
        attrs = {k.replace(".", "_"): v for k, v in flatten(prof).items()}
        attrs.setdefault("account_frozen", False)  # the fact's default in alipay.regain
        ents = [{"uid": {"type": "User", "id": "u"}, "attrs": attrs, "parents": []}]
        entities.append(cedarpy.Entities.from_json_str(json.dumps(ents)))
    return cedarpy, policies, paths, requests, entities


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0, help="time spent per measurement")
    args = ap.parse_args(argv)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} "
          f"(1/5/15 min) on {os.cpu_count()} cores; regain {regain.__version__}, Python {sys.version.split()[0]}")

    policy_path, profiles = suite_profiles(ROOT / "policies" / "alipay.suite.yaml")
    engine = regain.Engine(policy_path.read_text(encoding="utf-8"))
    n = len(profiles)

    # regain, one complete decision per call.
    def regain_each():
        ev = engine.evaluate
        for p in profiles:
            ev(p)

    t_regain = timed(regain_each, args.seconds) / n
    print(f"alipay, {n} suite profiles: regain Engine.evaluate     {t_regain * 1e6:9.3f} µs/decision")

    try:
        cedarpy, policies, paths, requests, entities = cedar_setup(engine, profiles)
    except ImportError as e:
        print(f"cedarpy is not installed ({e}): no comparison")
        cedarpy = None
    if cedarpy is not None:
        allow = cedarpy.Decision.Allow
        for i, p in enumerate(profiles):
            d = engine.evaluate(p)
            got = [name for name, r in zip(paths, requests)
                   if cedarpy.is_authorized(r, policies, entities[i]).decision == allow]
            want = [x.name for x in d.paths]
            assert got == want, f"profile {i}: cedar {got}, regain {want} ({d.kind})"
        print(f"  cedar and regain agree on all {n} profiles ({len(paths)} is_authorized calls per decision)")

        def cedar_each():
            ia = cedarpy.is_authorized
            for e in entities:
                for r in requests:
                    ia(r, policies, e)

        t_cedar = timed(cedar_each, args.seconds) / n
        print(f"alipay, {n} suite profiles: cedarpy is_authorized × {len(paths)} {t_cedar * 1e6:9.3f} µs/decision")
        print(f"  regain is {t_cedar / t_regain:.0f}× faster per complete decision")

    for name in ("alipay", "bank"):
        policy_path, profiles = suite_profiles(ROOT / "policies" / f"{name}.suite.yaml")
        engine = regain.Engine(policy_path.read_text(encoding="utf-8"))
        batch = (profiles * (1 + 10_000 // len(profiles)))[:10_000]
        t = timed(lambda: engine.evaluate_many(batch), args.seconds)
        facts = len(engine.policy.facts)
        print(f"{name} ({facts} facts): evaluate_many of {len(batch)} dicts  "
              f"{len(batch) / t / 1e3:9.0f} K decisions/s ({t / len(batch) * 1e6:.3f} µs each)")
        t1 = timed(lambda: [engine.evaluate(p) for p in batch], args.seconds)
        print(f"{name} ({facts} facts): evaluate in a loop            "
              f"{len(batch) / t1 / 1e3:9.0f} K decisions/s")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
