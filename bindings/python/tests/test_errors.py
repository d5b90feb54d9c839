"""Errors: exception classes with structured fields (design/python.md)."""

import pytest

import regain
from conftest import DEMO


def test_hierarchy():
    for cls in (regain.PolicyError, regain.ProfileError, regain.ModelError):
        assert issubclass(cls, regain.Error)
    assert issubclass(regain.Error, ValueError)


def test_policy_error_carries_diagnostics():
    bad = DEMO.replace("steps sms_code", "steps sms_kode")
    with pytest.raises(regain.PolicyError) as e:
        regain.Policy(bad, name="bad.regain")
    diags = e.value.diagnostics
    assert diags and diags[0]["severity"] == "error"
    assert diags[0]["file"] == "bad.regain"
    assert "sms_kode" in str(e.value)
    assert str(e.value).startswith("bad.regain:")
    assert diags == regain.check(bad, name="bad.regain")


def test_syntax_error_is_a_policy_error():
    with pytest.raises(regain.PolicyError) as e:
        regain.Policy("policy p facts {")
    assert e.value.diagnostics[0]["line"] == 1
    with pytest.raises(regain.PolicyError):
        regain.Engine("not a policy")
    with pytest.raises(regain.PolicyError):
        regain.fmt("policy p facts {")
    for f in (regain.analyze, lambda s: regain.diff(s, DEMO), lambda s: regain.diff(DEMO, s)):
        with pytest.raises(regain.PolicyError):
            f("policy")


def test_wrong_argument_types_are_type_errors():
    with pytest.raises(TypeError):
        regain.Engine(42)
    with pytest.raises(TypeError):
        regain.Policy(None)


@pytest.fixture()
def engine(demo_source):
    return regain.Engine(demo_source)


@pytest.mark.parametrize(
    "change, fact, words",
    [
        ({"questions.set": True}, "questions.set", "expected an integer in 0..5, found true"),
        ({"phone": {"bound": 1, "active": False}}, "phone.bound", "expected `true` or `false`, found 1"),
        ({"questions.set": 3.0}, "questions.set", "found 3.0"),
        ({"questions.set": 9}, "questions.set", "out of range"),
        ({"account": {"risk": "hgh"}}, "account.risk", "unknown variant"),
        ({"account.frozen": None}, "account.frozen", "omit the fact to use its default"),
        ({"phone.colour": "red"}, "phone.colour", "unknown fact"),
    ],
)
def test_profile_errors_name_the_fact(engine, demo_profile, change, fact, words):
    p = dict(demo_profile)
    p.update(change)
    with pytest.raises(regain.ProfileError) as e:
        engine.evaluate(p)
    assert e.value.fact == fact
    assert words in str(e.value)
    assert e.value.index is None
    assert e.value.problems[0]["fact"] == fact


def test_missing_fact_and_twice_given(engine, demo_profile):
    p = dict(demo_profile)
    del p["questions.set"]
    with pytest.raises(regain.ProfileError) as e:
        engine.evaluate(p)
    assert e.value.fact == "questions.set" and "missing fact" in str(e.value)
    p = dict(demo_profile, **{"phone.active": True})
    with pytest.raises(regain.ProfileError) as e:
        engine.evaluate(p)
    assert "given twice" in str(e.value)


def test_every_problem_is_listed(engine):
    with pytest.raises(regain.ProfileError) as e:
        engine.evaluate({"questions.set": "three"})
    facts = {p["fact"] for p in e.value.problems}
    assert "questions.set" in facts and "phone.bound" in facts
    assert len(e.value.problems) >= 9


def test_a_profile_must_be_a_dict(engine):
    for bad in ([1, 2], "phone.bound", 3, None):
        with pytest.raises(regain.ProfileError) as e:
            engine.evaluate(bad)
        assert e.value.fact is None
    with pytest.raises(regain.ProfileError):
        engine.explain([])


def test_evaluate_many_raises_at_the_first_bad_profile(engine, demo_profile):
    bad = dict(demo_profile, **{"questions.set": 77})
    with pytest.raises(regain.ProfileError) as e:
        engine.evaluate_many([demo_profile, demo_profile, bad, [], bad])
    assert e.value.index == 2
    assert e.value.fact == "questions.set"
    assert str(e.value).startswith("profiles[2]: ")
    with pytest.raises(regain.ProfileError) as e:
        engine.evaluate_many([demo_profile, "x"])
    assert e.value.index == 1


def test_evaluate_many_can_return_errors_in_place(engine, demo_profile):
    bad = dict(demo_profile, **{"questions.set": 77})
    out = engine.evaluate_many([demo_profile, bad, "x", demo_profile], errors="return")
    assert out[0].kind == "allow" and out[3] == out[0]
    assert out[1]["schema"] == "regain.eval/1"
    assert out[1]["index"] == 1 and out[1]["fact"] == "questions.set"
    assert "out of range" in out[1]["error"]
    assert out[2]["index"] == 2 and out[2]["fact"] is None
    with pytest.raises(ValueError):
        engine.evaluate_many([demo_profile], errors="ignore")


def test_model_error_has_a_location(alipay_source, alipay_model):
    broken = alipay_model.replace("phone.bound: 0.97", "phone.bound: 1.7")
    with pytest.raises(regain.ModelError) as e:
        regain.simulate(alipay_source, broken, trials=1000)
    assert "phone.bound" in e.value.location
    assert "phone.bound" in str(e.value)
    with pytest.raises(regain.ModelError):
        regain.simulate(alipay_source, {"population": {"facts": {}}}, trials=1000)


def test_simulate_usage_errors(alipay_source, alipay_model):
    with pytest.raises(regain.Error, match="trials"):
        regain.simulate(alipay_source, alipay_model, trials=0)
    with pytest.raises(regain.Error, match="shard"):
        regain.simulate(alipay_source, alipay_model, trials=1000, shard=(4, 3))
    with pytest.raises(OverflowError):
        regain.simulate(alipay_source, alipay_model, trials=-1)


def test_merge_errors_name_the_shard(alipay_source, alipay_model):
    s1 = regain.simulate(alipay_source, alipay_model, trials=10_000, seed=1, shard=(1, 2))
    s2 = regain.simulate(alipay_source, alipay_model, trials=10_000, seed=1, shard=(2, 2))
    other = regain.simulate(alipay_source, alipay_model, trials=10_000, seed=2, shard=(2, 2))
    with pytest.raises(regain.Error, match="missing"):
        regain.merge([s1])
    with pytest.raises(regain.Error, match=r"shards\[1\]"):
        regain.merge([s1, other])
    with pytest.raises(regain.Error, match=r"shards\[0\]"):
        regain.merge([{"schema": "nope"}, s2])
    with pytest.raises(regain.Error, match=r"shards\[0\]"):
        regain.merge(["{not json", s2])
    with pytest.raises(regain.Error):
        regain.merge([])


def test_diff_of_incomparable_facts_is_an_error(demo_source):
    other = demo_source.replace("account.risk: low | medium | high", "account.risk: int 0..2").replace(
        "account.risk != high", "account.risk != 2"
    )
    with pytest.raises(regain.Error, match="account.risk"):
        regain.diff(demo_source, other)


def test_an_int_beyond_64_bits_names_the_fact(engine, demo_profile):
    for big in (10**30, -(10**30)):
        p = dict(demo_profile, **{"questions.set": big})
        with pytest.raises(regain.ProfileError) as e:
            engine.evaluate(p)
        assert e.value.fact == "questions.set", str(e.value)
        with pytest.raises(regain.ProfileError) as e:
            engine.evaluate_many([demo_profile, p])
        assert e.value.index == 1 and e.value.fact == "questions.set"


def test_a_model_dict_that_is_not_data_is_a_model_error(alipay_source):
    with pytest.raises(regain.ModelError) as e:
        regain.simulate(alipay_source, {"population": object()}, trials=1000)
    assert e.value.location == ""
    assert "not YAML-like data" in str(e.value)
