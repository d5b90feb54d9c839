"""examples/python/dask_simulate.py: shards as tasks on a Dask LocalCluster, merged, equal
the single run with the same seed and trials."""

import importlib.util

import dask.distributed  # noqa: F401  (a test dependency: fail, never skip, without it)

import regain
from conftest import POLICIES, ROOT, read


def load_example():
    path = ROOT / "examples" / "python" / "dask_simulate.py"
    spec = importlib.util.spec_from_file_location("dask_simulate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_shards_on_a_local_cluster_merge_into_the_single_run():
    ex = load_example()
    source, model = read(POLICIES / "alipay.regain"), read(POLICIES / "alipay.model.yaml")
    client = ex.local_client(workers=2)
    try:
        merged = ex.simulate_on(client, source, model, trials=200_000, seed=11, shards=5)
        # The tasks ran on the cluster's workers, not here.
        assert client.run(lambda: regain.__version__)
    finally:
        client.close()
        client.cluster.close()
    single = regain.simulate(source, model, trials=200_000, seed=11)
    assert merged["schema"] == "regain.merge/1"
    merged["schema"] = single["schema"]
    assert merged == single


def test_the_example_runs_as_a_script(capsys):
    ex = load_example()
    report = ex.main([str(POLICIES / "consumer.regain"), "--trials", "50000", "--shards", "3", "--seed", "2"])
    out = capsys.readouterr().out
    assert "50000 trials in 3 shards" in out
    assert report == {**regain.simulate(read(POLICIES / "consumer.regain"), read(POLICIES / "consumer.model.yaml"),
                                        trials=50_000, seed=2), "schema": "regain.merge/1"}
