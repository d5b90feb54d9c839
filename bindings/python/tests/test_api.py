"""Every function and class of the `regain` module."""

import json

import pytest

import regain
from conftest import DEMO, POLICIES, read


def test_policy_parses_and_names_itself(demo_source):
    p = regain.Policy(demo_source)
    assert p.name == "demo"
    assert p.source == demo_source
    assert p.facts[0] == "phone.bound" and "account.frozen" in p.facts
    assert p.path_names == ["sms", "email", "support"]
    assert p.warnings == []
    assert "demo" in repr(p)


def test_evaluate_allow_with_paths_in_order(demo_source, demo_profile):
    engine = regain.Engine(regain.Policy(demo_source))
    d = engine.evaluate(demo_profile)
    assert d.kind == "allow"
    assert [p.name for p in d.paths] == ["email", "support"]
    email, support = d.paths
    assert email.steps == [["email_link"], ["questions"]]
    assert email.title == "Email link, then security questions"
    assert email.grants == "reset_password"
    assert email.wait_s == 0
    assert email.notify == ["sms_code", "email_link"]
    # any 2 of: every usable method in listed order, not just 2.
    assert support.steps == [["id_document", "questions", "face_match"], ["agent_review"]]
    assert support.wait_s == 48 * 3600
    assert d.denied_by == []


def test_to_dict_is_the_eval_json_object(demo_source, demo_profile):
    d = regain.Engine(demo_source).evaluate(demo_profile)
    got = d.to_dict()
    assert list(got) == ["schema", "decision", "paths", "denied_by"]
    assert got["schema"] == "regain.eval/1"
    assert got["decision"] == "allow"
    assert got["paths"][0] == {
        "name": "email",
        "title": "Email link, then security questions",
        "steps": [["email_link"], ["questions"]],
        "grants": "reset_password",
        "wait_s": 0,
        "notify": ["sms_code", "email_link"],
    }
    assert d.paths[1].to_dict() == got["paths"][1]
    json.dumps(got)  # plain JSON values only


def test_deny_and_lockout(demo_source, demo_profile):
    engine = regain.Engine(demo_source)
    frozen = dict(demo_profile, **{"account.frozen": True})
    d = engine.evaluate(frozen)
    assert d.kind == "deny"
    assert d.paths == []
    assert d.denied_by == ["account is frozen"]
    nothing = {
        "phone": {"bound": False, "active": False},
        "email": {"bound": False, "verified": False, "changed_days": 0},
        "questions.set": 0,
        "identity.verified": False,
        "bank_card.bound": False,
        "account.risk": "high",
    }
    d = engine.evaluate(nothing)
    assert d.kind == "lockout"
    assert d.to_dict() == {"schema": "regain.eval/1", "decision": "lockout", "paths": [], "denied_by": []}


def test_nested_and_dotted_keys_are_the_same(demo_source, demo_profile):
    from conftest import flatten

    engine = regain.Engine(demo_source)
    a = engine.evaluate(demo_profile)
    b = engine.evaluate(flatten(demo_profile))
    assert a == b and a.to_dict() == b.to_dict()
    assert hash(a) == hash(b)
    assert "allow: email, support" in repr(a)


def test_engine_keeps_its_policy(demo_source):
    p = regain.Policy(demo_source)
    e = regain.Engine(p)
    assert e.policy.name == "demo"
    assert "demo" in repr(e) and "terminals" in repr(e)


def test_evaluate_many_in_order(demo_source, demo_profile):
    engine = regain.Engine(demo_source)
    frozen = dict(demo_profile, **{"account.frozen": True})
    phone = dict(demo_profile, phone={"bound": True, "active": True})
    out = engine.evaluate_many([demo_profile, frozen, phone] * 100)
    assert len(out) == 300
    assert [d.kind for d in out[:3]] == ["allow", "deny", "allow"]
    assert [p.name for p in out[2].paths] == ["sms", "email", "support"]
    for i, d in enumerate(out):
        assert d == engine.evaluate([demo_profile, frozen, phone][i % 3])
    assert engine.evaluate_many([]) == []
    # Any iterable.
    assert len(engine.evaluate_many(iter([demo_profile, phone]))) == 2


def test_explain_is_the_explain_object(demo_source, demo_profile):
    engine = regain.Engine(demo_source)
    e = engine.explain(demo_profile)
    assert set(e) == {"denies", "paths"}
    assert e["denies"] == [{"reason": "account is frozen", "fires": False, "line": e["denies"][0]["line"]}]
    by_path = {p["path"]: p for p in e["paths"]}
    assert by_path["sms"]["available"] is False
    assert "phone.active" in by_path["sms"]["because"]
    assert by_path["email"]["available"] is True


def test_check_lists_diagnostics():
    assert regain.check(DEMO) == []
    bad = DEMO.replace("steps sms_code", "steps sms_kode")
    diags = regain.check(bad)
    assert len(diags) >= 1
    d = diags[0]
    for key in ("code", "severity", "message", "help", "line", "col", "end_line", "end_col", "labels"):
        assert key in d, key
    assert d["severity"] == "error"
    assert d["line"] == bad[: bad.index("sms_kode")].count("\n") + 1
    assert "sms_code" in (d["help"] or "") + d["message"]
    # Warnings of a policy that checks.
    warn = DEMO.replace("  bank_card.bound: bool\n", "  bank_card.bound: bool\n  unused.fact: bool\n")
    w = regain.check(warn, name="warn.regain")
    assert [x["severity"] for x in w] == ["warning"]
    assert w[0]["file"] == "warn.regain"
    assert regain.Policy(warn).warnings == regain.check(warn)


def test_fmt_is_canonical_and_idempotent():
    ugly = "policy p facts { a: bool } methods { m: knowledge requires a } path x { steps m grants g }"
    pretty = regain.fmt(ugly)
    assert pretty != ugly and pretty.endswith("\n")
    assert regain.fmt(pretty) == pretty
    shipped = read(POLICIES / "alipay.regain")
    assert regain.fmt(shipped) == shipped


def test_analyze_gives_shares_regions_paths(demo_source):
    a = regain.analyze(demo_source)
    assert a["schema"] == "regain.analyze/1"
    shares = a["shares"]
    assert abs(shares["allow"] + shares["deny"] + shares["lockout"] - 1.0) < 1e-9
    assert shares["deny"] == pytest.approx(0.5)
    assert {r["decision"] for r in a["regions"]} == {"allow", "deny", "lockout"}
    assert set(a["paths"]) == {"sms", "email", "support"}
    # A Policy is accepted too.
    assert regain.analyze(regain.Policy(demo_source)) == a


def test_diff_equivalent_and_not(demo_source):
    same = regain.diff(demo_source, demo_source)
    assert same["schema"] == "regain.diff/1"
    assert same["equivalent"] is True and same["regions"] == []
    shorter = demo_source.replace("wait 48h", "wait 1h")
    d = regain.diff(demo_source, shorter)
    assert d["equivalent"] is False
    assert d["regions"], d
    r = d["regions"][0]
    assert r["old"]["paths"][-1]["wait_s"] == 48 * 3600
    assert r["new"]["paths"][-1]["wait_s"] == 3600


def test_simulate_is_seeded(alipay_source, alipay_model):
    a = regain.simulate(alipay_source, alipay_model, trials=20_000, seed=5)
    b = regain.simulate(alipay_source, alipay_model, trials=20_000, seed=5, threads=1)
    assert a == b
    assert a["schema"] == "regain.simulate/1"
    assert a["trials"] == 20_000 and a["seed"] == 5
    total = sum(a["outcomes"][k]["share"] for k in ("recovered", "failed", "lockout", "denied"))
    assert total == pytest.approx(1.0)
    c = regain.simulate(alipay_source, alipay_model, trials=20_000, seed=6)
    assert c != a


def test_simulate_exact_and_model_as_dict(alipay_source, alipay_model):
    import yaml

    exact = regain.simulate(alipay_source, alipay_model, exact=True)
    assert exact["exact"] is True
    as_dict = regain.simulate(alipay_source, yaml.safe_load(alipay_model), exact=True)
    assert as_dict["outcomes"] == exact["outcomes"]


def test_shards_merge_into_the_single_run(alipay_source, alipay_model):
    single = regain.simulate(alipay_source, alipay_model, trials=30_000, seed=3)
    shards = [
        regain.simulate(alipay_source, alipay_model, trials=30_000, seed=3, shard=(k, 3))
        for k in (1, 2, 3)
    ]
    assert all("shard" in s for s in shards)
    merged = regain.merge([shards[2], shards[0], json.dumps(shards[1])])
    assert merged["schema"] == "regain.merge/1"
    merged["schema"] = single["schema"]
    assert merged == single


def test_version():
    assert isinstance(regain.__version__, str) and regain.__version__


def test_objects_are_immutable_and_final(demo_source, demo_profile):
    policy = regain.Policy(demo_source)
    engine = regain.Engine(policy)
    d = engine.evaluate(demo_profile)
    for obj, attr in ((policy, "name"), (engine, "policy"), (d, "kind"), (d.paths[0], "wait_s")):
        with pytest.raises(AttributeError):
            setattr(obj, attr, None)
        with pytest.raises(AttributeError):
            obj.extra = 1
    for cls in (regain.Policy, regain.Engine, regain.Decision, regain.Path):
        with pytest.raises(TypeError):
            type("Sub", (cls,), {})
    # Equal decisions of one engine are one object: a decision holds no per-call state.
    assert engine.evaluate(demo_profile) is d


def test_evaluate_many_mixes_plain_dicts_and_other_mappings():
    """Plain dicts take the fast read, other mappings are read as documents: in one batch,
    in any mix, each answer is the one for its own profile."""
    from types import MappingProxyType

    from conftest import suite_profiles

    policy, profiles = suite_profiles(POLICIES / "bank.suite.yaml")
    engine = regain.Engine(read(policy))
    want = [engine.evaluate(p) for p in profiles]
    assert len(set(want)) > 3
    mixed = [MappingProxyType(p) if i % 3 == 1 else p for i, p in enumerate(profiles)]
    assert engine.evaluate_many(mixed) == want
    assert [engine.evaluate(p) for p in mixed] == want
    bad = dict(profiles[0], nonsense=True)
    out = engine.evaluate_many([bad, *mixed, "x", *reversed(mixed)], errors="return")
    assert out[0]["index"] == 0 and out[len(mixed) + 1]["index"] == len(mixed) + 1
    assert out[1 : len(mixed) + 1] == want
    assert out[len(mixed) + 2 :] == want[::-1]
