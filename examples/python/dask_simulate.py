"""A regain simulation split into shards that run as tasks on a Dask cluster, then merged.

    python examples/python/dask_simulate.py [POLICY] [--trials N] [--shards K] [--seed S]

Each task runs `regain.simulate(..., shard=(k, n))` (slice k of the run's trials) on a
worker; `regain.merge` combines the shards' reports into exactly the single-run report,
intervals and quantiles included (DESIGN.md). A LocalCluster stands in for a real one:
pass `--scheduler tcp://HOST:8786` to use an existing Dask cluster (Kubernetes, SLURM via
dask-jobqueue, …) the same way — only the Client changes.
"""

import argparse
import json
from pathlib import Path

import regain
from dask.distributed import Client, LocalCluster

ROOT = Path(__file__).resolve().parents[2]


def run_shard(source, model, trials, seed, k, n):
    """One task: slice k of n of the run, on one worker thread (the cluster parallelises)."""
    return regain.simulate(source, model, trials=trials, seed=seed, shard=(k, n), threads=1)


def simulate_on(client, source, model, trials, seed, shards):
    """Submit one task per shard, gather the shard reports and merge them."""
    futures = [
        client.submit(run_shard, source, model, trials, seed, k, shards, key=f"regain-shard-{k}-of-{shards}")
        for k in range(1, shards + 1)
    ]
    return regain.merge(client.gather(futures))


def local_client(workers=2):
    """A LocalCluster of worker processes, each running one task at a time."""
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return Client(cluster)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("policy", nargs="?", default=str(ROOT / "policies" / "alipay.regain"))
    ap.add_argument("--model", help="the model (default: the policy's NAME.model.yaml)")
    ap.add_argument("--trials", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--scheduler", help="address of an existing Dask scheduler")
    args = ap.parse_args(argv)
    policy = Path(args.policy)
    model = Path(args.model) if args.model else policy.with_name(policy.stem + ".model.yaml")
    source, model_text = policy.read_text(encoding="utf-8"), model.read_text(encoding="utf-8")
    client = Client(args.scheduler) if args.scheduler else local_client()
    try:
        report = simulate_on(client, source, model_text, args.trials, args.seed, args.shards)
    finally:
        client.close()
        if not args.scheduler and client.cluster is not None:
            client.cluster.close()
    o = report["outcomes"]
    print(f"policy {report['policy']}: {report['trials']} trials in {args.shards} shards, seed {report['seed']}")
    for k in ("recovered", "failed", "lockout", "denied"):
        print(f"  {k:<10} {o[k]['share']:.4%}")
    for name, a in report["attackers"].items():
        print(f"  takeover by {name}: {a['takeover']['share']:.4%}")
    return report


if __name__ == "__main__":
    json.dumps(main())
