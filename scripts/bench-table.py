#!/usr/bin/env python3
"""Print the per-decision table of the `peers` benchmark from criterion's estimates.

Usage: cargo bench --features peers --bench peers && python3 scripts/bench-table.py
"""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
for group in sorted(root.glob("decision_*")):
    n = 64  # profiles per iteration (benches/peers.rs)
    rows = {}
    for d in sorted(group.iterdir()):
        est = d / "new" / "estimates.json"
        if est.exists():
            rows[d.name] = json.loads(est.read_text())["mean"]["point_estimate"] / n
    if "regain_graph" not in rows:
        continue
    base = rows["regain_graph"]
    print(f"\n{group.name.removeprefix('decision_')}\n")
    print("| engine | ns per complete decision | × regain graph |")
    print("|---|---:|---:|")
    for name, ns in sorted(rows.items(), key=lambda kv: kv[1]):
        print(f"| {name} | {ns:,.0f} | {ns / base:,.0f}× |")
