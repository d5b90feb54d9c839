"""Shared fixtures: the repository's shipped policies and the `regain` CLI to compare with."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
POLICIES = ROOT / "policies"


def cli_path():
    """The regain CLI: $REGAIN_CLI, else the release or debug build of this checkout."""
    given = os.environ.get("REGAIN_CLI")
    if given:
        return given
    for profile in ("release", "debug"):
        p = ROOT / "target" / profile / "regain"
        if p.exists():
            return str(p)
    return shutil.which("regain")


@pytest.fixture(scope="session")
def cli():
    path = cli_path()
    if path is None:
        pytest.fail("no regain CLI: build it with `cargo build --release` or set REGAIN_CLI")

    def run(*args, input=None, ok=(0,)):
        r = subprocess.run(
            [path, *map(str, args)], input=input, capture_output=True, text=True, cwd=ROOT
        )
        assert r.returncode in ok, f"regain {' '.join(map(str, args))}: {r.returncode}\n{r.stderr}"
        return r.stdout

    def run_json(*args, **kw):
        return json.loads(run(*args, **kw))

    run.json = run_json
    return run


def read(path):
    return Path(path).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def alipay_source():
    return read(POLICIES / "alipay.regain")


@pytest.fixture(scope="session")
def alipay_model():
    return read(POLICIES / "alipay.model.yaml")


# A small policy written for these tests (the shape of DESIGN.md's example).
DEMO = """
policy demo

facts {
  phone.bound: bool
  phone.active: bool
  email.bound: bool
  email.verified: bool
  email.changed_days: int 0..3650
  questions.set: int 0..5
  identity.verified: bool
  bank_card.bound: bool
  account.risk: low | medium | high
  account.frozen: bool = false
}

methods {
  sms_code: possession restricted requires phone.bound and phone.active
  email_link: possession requires email.bound and email.verified
  questions: knowledge requires questions.set >= 2
  bank_card: possession requires bank_card.bound
  id_document: document requires identity.verified
  face_match: inherence requires identity.verified
  agent_review: human
}

deny "account is frozen" when account.frozen

path sms "SMS code to the bound phone" {
  steps sms_code
  grants reset_password
  notify email_link
}

path email "Email link, then security questions" {
  when email.changed_days > 7 and account.risk != high
  steps email_link then questions
  grants reset_password
  notify sms_code, email_link
}

path support "Human review of documents" {
  steps any 2 of (id_document, bank_card, questions, face_match) then agent_review
  grants reset_password
  wait 48h
  notify sms_code, email_link
}
"""

# Phone out of service, email verified long ago, questions and documents on file.
DEMO_PROFILE = {
    "phone": {"bound": True, "active": False},
    "email.bound": True,
    "email.verified": True,
    "email.changed_days": 400,
    "questions.set": 3,
    "identity.verified": True,
    "bank_card.bound": False,
    "account": {"risk": "low"},
}


@pytest.fixture()
def demo_source():
    return DEMO


@pytest.fixture()
def demo_profile():
    return json.loads(json.dumps(DEMO_PROFILE))


def flatten(profile, prefix=""):
    """Nested keys as dotted ones (the suite's normalisation, for building test inputs)."""
    out = {}
    for k, v in profile.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def suite_profiles(suite_path):
    """Every case's profile of a suite: the base with the case's facts over it."""
    import yaml

    suite = yaml.safe_load(read(suite_path))
    base = flatten(suite.get("base") or {})
    policy = (Path(suite_path).parent / suite["policy"]).resolve()
    profiles = []
    for case in suite["cases"]:
        p = dict(base)
        p.update(flatten(case.get("profile") or {}))
        profiles.append(p)
    return policy, profiles
