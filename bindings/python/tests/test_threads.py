"""One Engine shared by many threads (immutable, thread-safe; evaluate_many releases the GIL)."""

import sys
import threading
import time
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


def test_evaluate_many_releases_the_gil():
    """Another thread runs Python while this one is inside evaluate_many. The switch interval
    is made huge so that the interpreter never takes the GIL from a thread: the other
    thread can only run when this one gives it up, which between the two reads of `ticks`
    only evaluate_many does."""
    policy, profiles = suite_profiles(POLICIES / "bank.suite.yaml")
    engine = regain.Engine(policy.read_text(encoding="utf-8"))
    big = (profiles * (1 + 20_000 // len(profiles)))[:20_000]
    ticks = 0
    done = threading.Event()
    running = threading.Event()

    def ticker():
        nonlocal ticks
        running.set()
        while not done.is_set():
            ticks += 1
            time.sleep(0)  # gives the GIL back at once (a blocking call)

    interval = sys.getswitchinterval()
    t = threading.Thread(target=ticker)
    t.start()
    running.wait()
    sys.setswitchinterval(1000.0)
    try:
        seen = []
        for _ in range(5):
            before = ticks
            out = engine.evaluate_many(big)
            seen.append(ticks - before)
            assert len(out) == len(big)
        # And a call that holds the GIL throughout lets nothing run: the control.
        before = ticks
        [engine.evaluate(p) for p in big[:2000]]
        held = ticks - before
    finally:
        sys.setswitchinterval(interval)
        done.set()
        t.join()
    assert held == 0, held
    assert max(seen) > 0, seen


def test_engines_built_concurrently():
    src = (POLICIES / "alipay.regain").read_text(encoding="utf-8")
    with ThreadPoolExecutor(max_workers=4) as pool:
        engines = list(pool.map(lambda _: regain.Engine(src), range(8)))
    assert len({repr(e) for e in engines}) == 1
