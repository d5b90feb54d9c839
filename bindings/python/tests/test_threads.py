"""One Engine shared by many threads (immutable, thread-safe; evaluate_many releases the GIL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import regain
from conftest import POLICIES, suite_profiles


def test_many_threads_on_one_engine_agree_with_one_thread():
    policy, profiles = suite_profiles(POLICIES / "bank.suite.yaml")
    engine = regain.Engine(regain.Policy(policy.read_text(encoding="utf-8")))
    want = [d.to_dict() for d in engine.evaluate_many(profiles)]
    start = threading.Barrier(8)

    def work(k):
        start.wait()
        got = []
        # Alternate single and batched calls so that both run at once.
        for i in range(k % 2, len(profiles), 2):
            got.append((i, engine.evaluate(profiles[i]).to_dict()))
        batch = engine.evaluate_many(profiles)
        return got, [d.to_dict() for d in batch]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    for got, batch in results:
        assert batch == want
        for i, d in got:
            assert d == want[i]


def test_evaluate_many_lets_other_threads_run():
    """While one thread is in evaluate_many (GIL released), another keeps running Python."""
    policy, profiles = suite_profiles(POLICIES / "bank.suite.yaml")
    engine = regain.Engine(policy.read_text(encoding="utf-8"))
    big = profiles * 20
    ticks = 0
    done = threading.Event()

    def ticker():
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    t = threading.Thread(target=ticker)
    t.start()
    try:
        for _ in range(3):
            out = engine.evaluate_many(big)
            assert len(out) == len(big)
    finally:
        done.set()
        t.join()
    assert ticks > 0


def test_engines_built_concurrently():
    src = (POLICIES / "alipay.regain").read_text(encoding="utf-8")
    with ThreadPoolExecutor(max_workers=4) as pool:
        engines = list(pool.map(lambda _: regain.Engine(src), range(8)))
    assert len({repr(e) for e in engines}) == 1
