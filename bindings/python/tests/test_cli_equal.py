"""The package's answers equal the CLI's `--format json` on the shipped policies."""

import json

import pytest

import regain
from conftest import POLICIES, ROOT, read, suite_profiles

SUITES = sorted(POLICIES.glob("*.suite.yaml"))
POLICY_FILES = sorted(POLICIES.glob("*.regain"))


def rel(p):
    return str(p.relative_to(ROOT))


@pytest.mark.parametrize("suite", SUITES, ids=lambda p: p.stem)
def test_decisions_equal_eval_json(cli, suite, tmp_path):
    policy_path, profiles = suite_profiles(suite)
    engine = regain.Engine(regain.Policy(read(policy_path), name=rel(policy_path)))
    lines = tmp_path / "profiles.jsonl"
    lines.write_text("".join(json.dumps(p) + "\n" for p in profiles))
    out = cli("eval", rel(policy_path), "--profiles", lines, "--format", "json")
    want = [json.loads(line) for line in out.splitlines()]
    assert len(want) == len(profiles) > 0
    many = engine.evaluate_many(profiles)
    for i, p in enumerate(profiles):
        assert engine.evaluate(p).to_dict() == want[i], f"{suite.name} case {i}"
        assert many[i].to_dict() == want[i]


@pytest.mark.parametrize("suite", SUITES[:1], ids=lambda p: p.stem)
def test_explain_equals_eval_explain_json(cli, suite, tmp_path):
    policy_path, profiles = suite_profiles(suite)
    engine = regain.Engine(read(policy_path))
    for p in profiles[:10]:
        f = tmp_path / "p.json"
        f.write_text(json.dumps(p))
        want = cli.json("eval", rel(policy_path), "--profile", f, "--explain", "--format", "json")
        assert engine.explain(p) == want["explain"]
        # Without the explanation, the object of `regain eval --profile FILE --format json`.
        del want["explain"]
        assert engine.evaluate(p).to_dict() == want
        assert cli.json("eval", rel(policy_path), "--profile", f, "--format", "json") == want


def test_returned_errors_carry_the_eval_error_text(cli, tmp_path):
    """evaluate_many(errors="return") puts the `error` text of `regain eval --profiles`."""
    policy_path, profiles = suite_profiles(SUITES[0])
    engine = regain.Engine(read(policy_path))
    good = profiles[0]
    one_problem = dict(good)
    one_problem[next(iter(good))] = 77  # a bool or enum fact given an int
    two_problems = {k: v for k, v in good.items() if k != list(good)[1]}
    two_problems[next(iter(good))] = "nonsense"
    batch = [good, one_problem, two_problems]
    lines = tmp_path / "profiles.jsonl"
    lines.write_text("".join(json.dumps(p) + "\n" for p in batch))
    out = cli("eval", rel(policy_path), "--profiles", lines, "--format", "json", ok=(1,))
    want = [json.loads(line) for line in out.splitlines()]
    got = engine.evaluate_many(batch, errors="return")
    assert got[0].to_dict() == want[0]
    for i in (1, 2):
        assert want[i]["line"] == i + 1
        assert got[i]["index"] == i
        assert got[i]["schema"] == want[i]["schema"]
        assert got[i]["error"] == want[i]["error"], i
    assert "\n" in got[2]["error"]  # both problems, one per line


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_check_equals_check_json(cli, path):
    want = cli.json("check", rel(path), "--format", "json")
    assert regain.check(read(path), name=rel(path)) == want["files"][0]["diagnostics"]
    broken = read(path).replace("grants", "grant", 1)
    bad = ROOT / "target" / f"py-broken-{path.name}"
    bad.write_text(broken)
    want = cli.json("check", rel(bad), "--format", "json", ok=(1,))
    assert regain.check(broken, name=rel(bad)) == want["files"][0]["diagnostics"]
    bad.unlink()


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_analyze_equals_analyze_json(cli, path):
    want = cli.json("analyze", rel(path), "--format", "json")
    assert regain.analyze(regain.Policy(read(path), name=rel(path))) == want


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.stem)
def test_fmt_equals_fmt(cli, path):
    assert regain.fmt(read(path)) == cli("fmt", rel(path))


def test_diff_equals_diff_json(cli, tmp_path):
    old = POLICIES / "alipay.regain"
    new_src = read(old).replace("wait 72h", "wait 24h").replace("email.changed_days > 30", "email.changed_days > 7")
    new = ROOT / "target" / "py-alipay-new.regain"
    new.write_text(new_src)
    try:
        want = cli.json("diff", rel(old), rel(new), "--format", "json", ok=(1,))
        got = regain.diff(regain.Policy(read(old), name=rel(old)), regain.Policy(new_src, name=rel(new)))
        assert got == want
        assert got["equivalent"] is False
    finally:
        new.unlink()


@pytest.mark.parametrize("name", ["alipay", "consumer"])
def test_simulate_equals_simulate_json(cli, name):
    policy = POLICIES / f"{name}.regain"
    model = POLICIES / f"{name}.model.yaml"
    want = cli.json("simulate", rel(policy), "--model", rel(model), "--trials", 40_000, "--seed", 9,
                    "--format", "json", "--quiet")
    got = regain.simulate(read(policy), read(model), trials=40_000, seed=9)
    assert got == want
    want = cli.json("simulate", rel(policy), "--exact", "--format", "json", "--quiet")
    assert regain.simulate(read(policy), read(model), exact=True) == want


def test_merge_equals_merge_json(cli, tmp_path):
    policy, model = POLICIES / "alipay.regain", POLICIES / "alipay.model.yaml"
    files, shards = [], []
    for k in (1, 2):
        out = cli("simulate", rel(policy), "--trials", 20_000, "--seed", 4, "--shard", f"{k}/2",
                  "--format", "json", "--quiet")
        f = tmp_path / f"s{k}.json"
        f.write_text(out)
        files.append(f)
        shards.append(regain.simulate(read(policy), read(model), trials=20_000, seed=4, shard=(k, 2)))
        assert shards[-1] == json.loads(out)
    want = cli.json("merge", *files, "--format", "json")
    assert regain.merge(shards) == want
    assert regain.merge([f.read_text() for f in files]) == want
