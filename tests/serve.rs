//! `regain serve` over HTTP (design/serve.md): the real binary on 127.0.0.1:0, a real
//! HTTP client (ureq).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A server process, killed when dropped.
struct Srv {
    child: Child,
    addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Srv {
    fn start(args: &[&str]) -> Srv {
        Srv::start_in(Path::new(ROOT), args)
    }

    fn start_in(dir: &Path, args: &[&str]) -> Srv {
        let mut child = Command::new(env!("CARGO_BIN_EXE_regain"))
            .current_dir(dir)
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start regain serve");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        let log = Arc::new(Mutex::new(String::new()));
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                log2.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(a) = line.strip_prefix("listening on http://") {
                    if !sent {
                        let _ = tx.send(a.parse::<SocketAddr>().ok());
                        sent = true;
                    }
                }
            }
            if !sent {
                let _ = tx.send(None);
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                let _ = child.kill();
                panic!("server did not start: {}", log.lock().unwrap())
            });
        Srv {
            child,
            addr,
            stderr: log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn get(&self, path: &str) -> (u16, String) {
        request("GET", &self.url(path), None, &[])
    }

    fn post(&self, path: &str, body: &str) -> (u16, String) {
        request("POST", &self.url(path), Some(body), &[])
    }

    fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let (s, b) = self.post(path, &body.to_string());
        (
            s,
            serde_json::from_str(&b).unwrap_or_else(|e| panic!("{e}: {b}")),
        )
    }

    fn get_json(&self, path: &str) -> (u16, Value) {
        let (s, b) = self.get(path);
        (
            s,
            serde_json::from_str(&b).unwrap_or_else(|e| panic!("{e}: {b}")),
        )
    }

    fn signal(&self, sig: i32) {
        let pid = self.child.id() as i32;
        // SAFETY: sending a signal to our own child process.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    /// SIGTERM and wait for the exit code.
    fn stop(mut self) -> i32 {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Srv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn request(method: &str, url: &str, body: Option<&str>, headers: &[(&str, &str)]) -> (u16, String) {
    let agent = agent();
    let mut resp = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.call()
        }
        (_, b) => {
            let mut r = agent.post(url).header("Content-Type", "application/json");
            for (k, v) in headers {
                r = r.header(*k, *v);
            }
            r.send(b.unwrap_or(""))
        }
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap_or_default();
    (status, text)
}

/// A suite's cases as JSON profiles (dotted keys), from the library's suite loader.
fn suite_profiles(suite: &str) -> (String, Vec<Value>) {
    let suite = regain::suite::Suite::load(&Path::new(ROOT).join(suite)).expect("suite");
    let ir = suite.engine.policy().ir();
    let profiles = suite
        .cases
        .iter()
        .map(|c| {
            let mut m = serde_json::Map::new();
            for (f, v) in ir.facts.iter().zip(&c.values) {
                let value = match &f.ty {
                    regain::check::ir::FactType::Bool => json!(*v != 0),
                    regain::check::ir::FactType::Int { .. } => json!(v),
                    regain::check::ir::FactType::Enum(_) => json!(f.show(*v)),
                };
                m.insert(f.name.clone(), value);
            }
            Value::Object(m)
        })
        .collect();
    (ir.name.clone(), profiles)
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("regain-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn regain_cli(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .current_dir(ROOT)
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

const ALIPAY: &str = "alipay_password_reset";

fn alipay_profile() -> Value {
    json!({"phone": {"bound": true, "active": false, "sim_changed_days": 400, "owner_verified": true},
           "device": {"trusted": false}, "email": {"bound": true, "verified": true, "changed_days": 900},
           "questions": {"set": 3}, "identity": {"verified": true}, "bank_card": {"bound": true},
           "account": {"risk": "low"}})
}

fn decide_path(policy: &str) -> String {
    format!("/v1/policies/{policy}/decide")
}

#[test]
fn decisions_equal_regain_eval_on_the_shipped_suites() {
    // Every case of a suite in one batch: the bank suite's batch is over the default 1 MiB.
    let srv = Srv::start(&["policies", "--max-body", "16MiB"]);
    let dir = tempdir("suites");
    for (suite, file) in [
        ("policies/alipay.suite.yaml", "policies/alipay.regain"),
        ("policies/bank.suite.yaml", "policies/bank.regain"),
        ("policies/consumer.suite.yaml", "policies/consumer.regain"),
        (
            "policies/entra_sspr.suite.yaml",
            "policies/entra_sspr.regain",
        ),
    ] {
        let (name, profiles) = suite_profiles(suite);
        assert!(!profiles.is_empty());
        let jsonl = dir.join(format!("{name}.jsonl"));
        let text: String = profiles.iter().map(|p| format!("{p}\n")).collect();
        std::fs::write(&jsonl, text).unwrap();
        let cli: Vec<Value> = regain_cli(&[
            "eval",
            file,
            "--profiles",
            jsonl.to_str().unwrap(),
            "--format",
            "json",
        ])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        assert_eq!(cli.len(), profiles.len(), "{suite}");
        // One batch with every case, in order.
        let (status, batch) = srv.post_json(&decide_path(&name), &json!({ "profiles": profiles }));
        assert_eq!(status, 200, "{batch}");
        assert_eq!(batch["policy"], name);
        let results = batch["results"].as_array().unwrap();
        assert_eq!(results.len(), cli.len());
        for (i, (r, c)) in results.iter().zip(&cli).enumerate() {
            assert_eq!(&r["result"], c, "{suite} case {i}");
            assert!(r["decision_id"].is_string());
        }
        // Single decisions too (the first cases), with --explain.
        for (p, c) in profiles.iter().zip(&cli).take(8) {
            let (status, one) = srv.post_json(&decide_path(&name), &json!({ "profile": p }));
            assert_eq!(status, 200);
            assert_eq!(&one["result"], c);
            assert!(one["revision"].as_str().unwrap().starts_with("sha256:"));
        }
        let p = &profiles[0];
        let pfile = dir.join(format!("{name}.json"));
        std::fs::write(&pfile, p.to_string()).unwrap();
        let cli_explain: Value = serde_json::from_str(&regain_cli(&[
            "eval",
            file,
            "--profile",
            pfile.to_str().unwrap(),
            "--format",
            "json",
            "--explain",
        ]))
        .unwrap();
        let (_, one) = srv.post_json(
            &format!("{}?explain=true", decide_path(&name)),
            &json!({ "profile": p }),
        );
        assert_eq!(one["result"], cli_explain);
        assert!(one["result"]["explain"].is_object());
        // The same explanation in a batch of valid profiles (read in one pass).
        let (status, batch) = srv.post_json(
            &format!("{}?explain=true&metrics=true", decide_path(&name)),
            &json!({ "profiles": [p, p] }),
        );
        assert_eq!(status, 200, "{batch}");
        for r in batch["results"].as_array().unwrap() {
            assert_eq!(r["result"], cli_explain);
        }
        assert!(batch["metrics"]["timer_eval_ns"].is_u64(), "{batch}");
    }
}

#[test]
fn batches_keep_order_and_answer_bad_items_in_place() {
    let srv = Srv::start(&["policies/alipay.regain"]);
    let good = alipay_profile();
    let mut denied = alipay_profile();
    denied["account"]["frozen"] = json!(true);
    let bad = json!({"phone": {"active": "no"}});
    let (status, v) = srv.post_json(
        &format!("{}?metrics=true", decide_path(ALIPAY)),
        &json!({"profiles": [good, bad, denied, 7]}),
    );
    assert_eq!(status, 200, "{v}");
    let r = v["results"].as_array().unwrap();
    assert_eq!(r.len(), 4);
    assert_eq!(r[0]["result"]["decision"], "allow");
    assert_eq!(r[1]["error"]["code"], "invalid_profile");
    assert!(r[1]["error"]["message"].as_str().unwrap().contains("phone"));
    assert!(r[1]["error"]["fact"].is_string());
    assert_eq!(r[2]["result"]["decision"], "deny");
    assert_eq!(r[2]["result"]["denied_by"][0], "account is frozen");
    assert_eq!(r[3]["error"]["code"], "invalid_profile");
    let ids: std::collections::HashSet<&str> = [&r[0], &r[2]]
        .iter()
        .map(|x| x["decision_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "decision ids are unique");
    assert!(v["batch_id"].is_string());
    for k in ["timer_parse_ns", "timer_eval_ns", "timer_handler_ns"] {
        assert!(v["metrics"][k].is_u64(), "{k}: {v}");
    }
    // Over 10,000 profiles: 413.
    let many: Vec<Value> = (0..10_001).map(|_| json!({})).collect();
    let (status, v) = srv.post_json(&decide_path(ALIPAY), &json!({ "profiles": many }));
    assert_eq!(status, 413);
    assert_eq!(v["code"], "too_large");
}

#[test]
fn large_batches_on_the_blocking_pool_answer_as_small_ones() {
    // Bodies of 16 KiB and more are answered off the HTTP thread; with one HTTP thread
    // (the default) and with two, many at once, each answer equals the small-body one.
    let good = alipay_profile();
    let mut denied = alipay_profile();
    denied["account"]["frozen"] = json!(true);
    let bad = json!({"phone": {"active": "no"}});
    let small_valid = json!({"profiles": [good, denied]});
    let small_mixed = json!({"profiles": [good, bad, denied]});
    let big = |v: &Value| -> Value {
        let items = v["profiles"].as_array().unwrap();
        json!({"profiles": items.iter().cycle().take(items.len() * 100).collect::<Vec<_>>()})
    };
    let (big_valid, big_mixed) = (big(&small_valid), big(&small_mixed));
    assert!(big_valid.to_string().len() > 16 * 1024);
    let strip = |v: &Value| -> Vec<Value> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.get("result").or(r.get("error")).cloned().unwrap())
            .collect()
    };
    for threads in ["1", "2"] {
        let srv = Srv::start(&["--threads", threads, "policies/alipay.regain"]);
        let path = decide_path(ALIPAY);
        let want: Vec<Vec<Value>> = [&small_valid, &small_mixed]
            .iter()
            .map(|b| {
                let (status, v) = srv.post_json(&path, b);
                assert_eq!(status, 200, "{v}");
                let one = strip(&v);
                one.iter().cycle().take(one.len() * 100).cloned().collect()
            })
            .collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    let (srv, path, want) = (&srv, &path, &want);
                    let body = if i % 2 == 0 { &big_valid } else { &big_mixed };
                    s.spawn(move || {
                        for _ in 0..3 {
                            let (status, v) = srv.post_json(path, body);
                            assert_eq!(status, 200, "{v}");
                            assert_eq!(strip(&v), want[i % 2], "--threads {threads}");
                        }
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        });
        // A large body that is not JSON still answers 400 from the pool.
        let (status, body) = srv.post(&path, &"x".repeat(20_000));
        assert_eq!(status, 400, "{body}");
        assert_eq!(srv.stop(), 0);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .args(["serve", "--threads", "0", "policies/alipay.regain"])
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}

#[test]
fn every_error_is_json_with_its_code() {
    let srv = Srv::start(&["policies", "--max-body", "64KiB"]);
    let d = decide_path(ALIPAY);
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("POST", "not json".into(), 400, "bad_request"),
        ("POST", "{}".into(), 400, "bad_request"),
        (
            "POST",
            json!({"profile": {}, "profiles": []}).to_string(),
            400,
            "bad_request",
        ),
        (
            "POST",
            json!({"profil": {}}).to_string(),
            400,
            "bad_request",
        ),
        (
            "POST",
            json!({"profile": {"phone": {"active": 3}}}).to_string(),
            400,
            "invalid_profile",
        ),
        ("POST", "x".repeat(70_000), 413, "too_large"),
    ];
    for (method, body, status, code) in cases {
        let (s, text) = request(method, &srv.url(&d), Some(&body), &[]);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!((s, v["code"].as_str().unwrap()), (status, code), "{text}");
        assert!(v["message"].is_string() && v["errors"].is_array());
    }
    // invalid_profile lists each problem with its fact.
    let (_, v) = srv.post_json(
        &d,
        &json!({"profile": {"phone": {"active": 3}, "emial.bound": true}}),
    );
    let errors = v["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["fact"] == "phone.active"));
    assert!(errors.iter().any(|e| e["message"]
        .as_str()
        .unwrap()
        .contains("did you mean `email.bound`")));
    assert!(errors.iter().all(|e| e["code"] == "invalid_profile"));
    // Unknown policy: 404 with did-you-mean and the known names.
    let (s, v) = srv.post_json(
        &decide_path("alipay_password_rest"),
        &json!({"profile": {}}),
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (404, "unknown_policy"));
    let m = v["message"].as_str().unwrap();
    assert!(
        m.contains("did you mean `alipay_password_reset`") && m.contains("entra_sspr"),
        "{m}"
    );
    // Wrong method, unknown route, bad query.
    let (s, v) = srv.get_json(&d);
    assert_eq!(
        (s, v["code"].as_str().unwrap()),
        (405, "method_not_allowed")
    );
    let (s, v) = srv.get_json("/v2/nothing");
    assert_eq!((s, v["code"].as_str().unwrap()), (404, "not_found"));
    let (s, v) = srv.post_json(
        &format!("{d}?explain=maybe"),
        &json!({"profile": alipay_profile()}),
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (400, "bad_request"));
    // Policy listing and one policy with its source and model.
    let (s, v) = srv.get_json("/v1/policies");
    assert_eq!(s, 200);
    let names: Vec<&str> = v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "alipay_password_reset",
            "bank_online_banking_recovery",
            "consumer_account_recovery",
            "entra_sspr"
        ]
    );
    let p = &v["policies"][0];
    for k in ["revision", "file", "facts", "methods", "paths", "loaded_at"] {
        assert!(!p[k].is_null(), "{k}");
    }
    assert!(p["error"].is_null());
    let (s, v) = srv.get_json(&format!("/v1/policies/{ALIPAY}"));
    assert_eq!(s, 200);
    let source = std::fs::read_to_string(Path::new(ROOT).join("policies/alipay.regain")).unwrap();
    assert_eq!(v["source"], source);
    assert!(v["model"].as_str().unwrap().contains("population"));
    let (s, _) = srv.get_json("/v1/policies/nope");
    assert_eq!(s, 404);
    // Health.
    assert_eq!(srv.get_json("/health/live"), (200, json!({})));
    assert_eq!(srv.get_json("/health/ready"), (200, json!({})));
    assert_eq!(srv.get_json("/health"), (200, json!({})));
}

const SMALL: &str = "policy small\nfacts { phone.active: bool  questions.set: int 0..5 }\nmethods {\n  sms_code: possession restricted requires phone.active\n  questions: knowledge requires questions.set >= 2\n}\npath sms { steps sms_code grants reset_password notify sms_code }\npath questions { steps questions grants reset_password }\n";

#[test]
fn authoring_endpoints_answer_as_the_cli() {
    let srv = Srv::start(&["policies/entra_sspr.regain"]);
    let alipay = std::fs::read_to_string(Path::new(ROOT).join("policies/alipay.regain")).unwrap();
    let model =
        std::fs::read_to_string(Path::new(ROOT).join("policies/alipay.model.yaml")).unwrap();
    // check
    let (s, v) = srv.post_json("/v1/check", &json!({"source": SMALL}));
    assert_eq!(s, 200);
    assert_eq!(v["ok"], true);
    assert_eq!(
        v["summary"],
        json!({"facts": 2, "methods": 2, "deny": 0, "paths": 2})
    );
    let broken = "policy b\nfacts { a: bool }\npath p { steps nothing grants x }\n";
    let (s, v) = srv.post_json("/v1/check", &json!({"source": broken}));
    assert_eq!(s, 200);
    assert_eq!(v["ok"], false);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["severity"] == "error")
        .unwrap();
    assert_eq!(d["location"]["line"], 3);
    assert!(d["code"].is_string() && d["message"].is_string());
    // eval, as `regain eval --format json`
    let (s, v) = srv.post_json(
        "/v1/eval",
        &json!({"source": SMALL, "profile": {"phone.active": false, "questions": {"set": 3}}}),
    );
    assert_eq!(s, 200);
    assert_eq!(v["decision"], "allow");
    assert_eq!(v["schema"], "regain.eval/1");
    assert_eq!(v["paths"][0]["name"], "questions");
    let (s, v) = srv.post_json(
        "/v1/eval",
        &json!({"source": SMALL, "profile": {"phone.active": 1}, "explain": true}),
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (400, "invalid_profile"));
    let (s, v) = srv.post_json("/v1/eval", &json!({"source": broken, "profile": {}}));
    assert_eq!((s, v["code"].as_str().unwrap()), (400, "invalid_policy"));
    assert!(v["errors"][0]["location"]["line"].is_u64());
    // analyze equals the CLI's
    let (s, v) = srv.post_json("/v1/analyze", &json!({ "source": alipay }));
    assert_eq!(s, 200);
    let cli: Value = serde_json::from_str(&regain_cli(&[
        "analyze",
        "policies/alipay.regain",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(v["shares"], cli["shares"]);
    assert_eq!(v["regions"], cli["regions"]);
    // graph
    for (format, view, needle) in [
        ("svg", Some("paths"), "<svg"),
        ("svg", Some("mdd"), "<svg"),
        ("dot", None, "digraph"),
    ] {
        let mut body = json!({"source": SMALL, "format": format});
        if let Some(view) = view {
            body["view"] = json!(view);
        }
        let (s, text) = srv.post("/v1/graph", &body.to_string());
        assert_eq!(s, 200);
        assert!(text.contains(needle), "{format}: {text}");
    }
    let (s, v) = srv.post_json("/v1/graph", &json!({"source": SMALL, "format": "json"}));
    assert_eq!(s, 200);
    assert!(v.is_object());
    let (s, v) = srv.post_json("/v1/graph", &json!({"source": SMALL, "format": "png"}));
    assert_eq!((s, v["code"].as_str().unwrap()), (400, "bad_request"));
    // simulate: the same seed gives the CLI's figures
    let (s, v) = srv.post_json(
        "/v1/simulate",
        &json!({"source": alipay, "model": model, "trials": 20000, "seed": 7}),
    );
    assert_eq!(s, 200, "{v}");
    let cli: Value = serde_json::from_str(&regain_cli(&[
        "simulate",
        "policies/alipay.regain",
        "--trials",
        "20000",
        "--seed",
        "7",
        "--format",
        "json",
        "--quiet",
    ]))
    .unwrap();
    assert_eq!(v["schema"], "regain.simulate/1");
    assert!(v["outcomes"]["recovered"]["share"].is_f64(), "{v}");
    assert_eq!(v, cli);
    let (s, v) = srv.post_json(
        "/v1/simulate",
        &json!({"source": alipay, "model": model, "trials": 1_000_001u64}),
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (413, "too_large"));
    let (s, v) = srv.post_json(
        "/v1/simulate",
        &json!({"source": alipay, "model": "nope: ["}),
    );
    assert_eq!((s, v["code"].as_str().unwrap()), (400, "bad_request"));
    // diff
    let changed = SMALL.replace(
        "grants reset_password }",
        "grants reset_password wait 48h }",
    );
    let (s, v) = srv.post_json("/v1/diff", &json!({"old": SMALL, "new": changed}));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["equivalent"], false);
    let (s, v) = srv.post_json("/v1/diff", &json!({"old": SMALL, "new": SMALL}));
    assert_eq!((s, v["equivalent"].as_bool()), (200, Some(true)));
    // fmt
    let (s, v) = srv.post_json("/v1/fmt", &json!({"source": "policy   x\nfacts{a:bool}\n"}));
    assert_eq!(s, 200, "{v}");
    let formatted = v["source"].as_str().unwrap();
    assert!(formatted.starts_with("policy x\n"), "{formatted}");
    let (s, v) = srv.post_json("/v1/fmt", &json!({"source": "policy"}));
    assert_eq!((s, v["code"].as_str().unwrap()), (400, "invalid_policy"));
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(30));
    }
}

fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            let (head, _) = l.rsplit_once(' ').unwrap_or((l, ""));
            let (n, rest) = head.split_once('{').unwrap_or((head, ""));
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit_once(' '))
        .and_then(|(_, v)| v.parse().ok())
}

#[test]
fn hot_reload_change_break_fix_add_delete() {
    let dir = tempdir("reload");
    let file = dir.join("small.regain");
    std::fs::write(&file, SMALL).unwrap();
    let srv = Srv::start(&[dir.to_str().unwrap(), "--poll", "50ms"]);
    let d = decide_path("small");
    let profile = json!({"profile": {"phone.active": false, "questions.set": 3}});
    let (_, v) = srv.post_json(&d, &profile);
    let rev1 = v["revision"].as_str().unwrap().to_string();
    assert_eq!(v["result"]["paths"][0]["wait_s"], 0);
    // change
    let v2 = SMALL.replace(
        "path questions { steps questions grants reset_password }",
        "path questions { steps questions grants reset_password wait 1h }",
    );
    std::fs::write(&file, &v2).unwrap();
    wait_until("the change", || {
        srv.post_json(&d, &profile).1["result"]["paths"][0]["wait_s"] == 3600
    });
    let (_, v) = srv.post_json(&d, &profile);
    let rev2 = v["revision"].as_str().unwrap().to_string();
    assert_ne!(rev1, rev2);
    // break: the last good revision still serves; ready says why
    std::fs::write(&file, "policy small\nfacts { oops }\n").unwrap();
    wait_until("the failure", || srv.get("/health/ready").0 == 503);
    let (s, v) = srv.get_json("/health/ready");
    assert_eq!(s, 503);
    assert_eq!(v["code"], "unavailable");
    assert_eq!(v["errors"][0]["policy"], "small");
    let (_, v) = srv.post_json(&d, &profile);
    assert_eq!(v["revision"], rev2.as_str());
    let (_, list) = srv.get_json("/v1/policies");
    assert!(list["policies"][0]["error"]["diagnostics"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
    let (_, text) = srv.get("/metrics");
    assert_eq!(
        metric(
            &text,
            "regain_policy_reload_failures_total",
            &[("policy", "small")]
        ),
        Some(1.0)
    );
    // fix
    std::fs::write(&file, SMALL).unwrap();
    wait_until("the fix", || srv.get("/health/ready").0 == 200);
    let (_, v) = srv.post_json(&d, &profile);
    assert_eq!(v["revision"], rev1.as_str());
    let (_, text) = srv.get("/metrics");
    assert_eq!(
        metric(
            &text,
            "regain_policy_info",
            &[("policy", "small"), ("revision", &rev1)]
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &text,
            "regain_policy_info",
            &[("policy", "small"), ("revision", &rev2)]
        ),
        None
    );
    // add
    std::fs::copy(
        Path::new(ROOT).join("policies/entra_sspr.regain"),
        dir.join("entra.regain"),
    )
    .unwrap();
    wait_until("the new policy", || {
        srv.get("/v1/policies/entra_sspr").0 == 200
    });
    // delete
    std::fs::remove_file(&file).unwrap();
    wait_until("the removal", || srv.get("/v1/policies/small").0 == 404);
    assert_eq!(srv.get("/v1/policies/entra_sspr").0, 200);
}

#[test]
fn a_request_sees_one_revision_while_reloads_swap() {
    let dir = tempdir("swap");
    let file = dir.join("small.regain");
    let v1 = SMALL.to_string();
    let v2 = SMALL.replace(
        "path questions { steps questions grants reset_password }",
        "path questions { steps questions grants reset_password wait 1h }",
    );
    std::fs::write(&file, &v1).unwrap();
    let srv = Srv::start(&[dir.to_str().unwrap(), "--poll", "10ms"]);
    let url = srv.url(&decide_path("small"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let writer = std::thread::spawn(move || {
        let mut i = 0;
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            std::fs::write(&file, if i % 2 == 0 { &v2 } else { &v1 }).unwrap();
            i += 1;
            std::thread::sleep(Duration::from_millis(15));
        }
    });
    let mut waits_by_revision: std::collections::HashMap<String, std::collections::HashSet<i64>> =
        Default::default();
    let body = json!({"profiles": [{"phone.active": false, "questions.set": 3}, {"phone.active": false, "questions.set": 4}]}).to_string();
    for _ in 0..150 {
        let (s, text) = request("POST", &url, Some(&body), &[]);
        assert_eq!(s, 200);
        let v: Value = serde_json::from_str(&text).unwrap();
        let w0 = v["results"][0]["result"]["paths"][0]["wait_s"]
            .as_i64()
            .unwrap();
        let w1 = v["results"][1]["result"]["paths"][0]["wait_s"]
            .as_i64()
            .unwrap();
        assert_eq!(w0, w1, "one request, one revision");
        waits_by_revision
            .entry(v["revision"].as_str().unwrap().to_string())
            .or_default()
            .insert(w0);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    assert!(waits_by_revision.len() >= 2, "both revisions served");
    for (rev, waits) in &waits_by_revision {
        assert_eq!(waits.len(), 1, "revision {rev} always decides the same");
    }
}

#[test]
fn metrics_count_decisions_and_requests() {
    let srv = Srv::start(&["policies/alipay.regain"]);
    let d = decide_path(ALIPAY);
    for _ in 0..3 {
        assert_eq!(
            srv.post_json(&d, &json!({"profile": alipay_profile()})).0,
            200
        );
    }
    let (s, _) = srv.post_json(
        &d,
        &json!({"profiles": [alipay_profile(), alipay_profile(), {}]}),
    );
    assert_eq!(s, 200);
    assert_eq!(srv.post(&d, "nope").0, 400);
    let (s, text) = srv.get("/metrics");
    assert_eq!(s, 200);
    let m = |n: &str, l: &[(&str, &str)]| metric(&text, n, l);
    assert_eq!(
        m(
            "regain_decisions_total",
            &[("policy", ALIPAY), ("decision", "allow")]
        ),
        Some(5.0)
    );
    assert_eq!(
        m(
            "regain_decision_duration_seconds_count",
            &[("policy", ALIPAY)]
        ),
        Some(5.0)
    );
    let route = "/v1/policies/{name}/decide";
    assert_eq!(
        m(
            "regain_http_requests_total",
            &[("route", route), ("code", "200")]
        ),
        Some(4.0)
    );
    assert_eq!(
        m(
            "regain_http_requests_total",
            &[("route", route), ("code", "400")]
        ),
        Some(1.0)
    );
    assert_eq!(
        m(
            "regain_http_request_duration_seconds_count",
            &[("route", route)]
        ),
        Some(5.0)
    );
    assert!(
        m(
            "regain_policy_last_reload_timestamp_seconds",
            &[("policy", ALIPAY)]
        )
        .unwrap()
            > 1.7e9
    );
    assert_eq!(m("regain_decision_log_dropped_total", &[]), Some(0.0));
    assert!(text.contains("# TYPE regain_decision_duration_seconds histogram"));
}

#[test]
fn the_decision_log_has_one_line_per_decision_and_only_the_asked_facts() {
    let dir = tempdir("log");
    let log = dir.join("decisions.jsonl");
    let srv = Srv::start(&[
        "policies/alipay.regain",
        "--decision-log",
        log.to_str().unwrap(),
        "--log-fields",
        "phone.active,account.risk",
    ]);
    let d = decide_path(ALIPAY);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (_, v) = srv.post_json(&d, &json!({"profile": alipay_profile()}));
        ids.push(v["decision_id"].as_str().unwrap().to_string());
    }
    let (_, v) = srv.post_json(
        &d,
        &json!({"profiles": [alipay_profile(), {"x": 1}, alipay_profile()]}),
    );
    let batch_id = v["batch_id"].as_str().unwrap().to_string();
    for r in v["results"].as_array().unwrap() {
        if let Some(id) = r["decision_id"].as_str() {
            ids.push(id.to_string());
        }
    }
    assert_eq!(srv.stop(), 0);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 7);
    let logged: Vec<String> = lines
        .iter()
        .map(|l| l["decision_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, ids);
    for l in &lines {
        assert_eq!(l["policy"], ALIPAY);
        assert!(l["revision"].as_str().unwrap().starts_with("sha256:"));
        assert_eq!(l["decision"], "allow");
        assert_eq!(l["paths"], json!(["email", "carrier", "support"]));
        assert_eq!(
            l["profile"],
            json!({"phone.active": false, "account.risk": "low"})
        );
        assert!(l["timestamp"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(lines[5]["batch_id"], batch_id.as_str());
    assert!(lines[0].get("batch_id").is_none());
    // Without --log-fields no fact is written.
    let log2 = dir.join("plain.jsonl");
    let srv = Srv::start(&[
        "policies/alipay.regain",
        "--decision-log",
        log2.to_str().unwrap(),
    ]);
    let (status, v) = srv.post_json(&d, &json!({"profile": alipay_profile()}));
    assert_eq!(status, 200, "{v}");
    let stderr = srv.stderr.clone();
    assert_eq!(srv.stop(), 0);
    let text = std::fs::read_to_string(&log2).unwrap();
    let line: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("{e}: {text:?}; server: {}", stderr.lock().unwrap()));
    assert_eq!(line["profile"], json!({}));
}

#[test]
fn a_token_is_required_when_set() {
    let dir = tempdir("token");
    let tf = dir.join("token");
    std::fs::write(&tf, "s3cret-token\n").unwrap();
    let srv = Srv::start(&[
        "policies/alipay.regain",
        "--token-file",
        tf.to_str().unwrap(),
    ]);
    let url = srv.url(&decide_path(ALIPAY));
    let body = json!({"profile": alipay_profile()}).to_string();
    for headers in [
        vec![],
        vec![("Authorization", "Bearer wrong")],
        vec![("Authorization", "Bearer s3cret-toke")],
        vec![("Authorization", "s3cret-token")],
    ] {
        let (s, text) = request("POST", &url, Some(&body), &headers);
        assert_eq!(s, 401, "{headers:?}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["code"], "unauthorized");
    }
    let (s, _) = request(
        "POST",
        &url,
        Some(&body),
        &[("Authorization", "Bearer s3cret-token")],
    );
    assert_eq!(s, 200);
    let (s, _) = request("GET", &srv.url("/metrics"), None, &[]);
    assert_eq!(s, 401);
    // Probes need no token.
    assert_eq!(srv.get("/health/live").0, 200);
    assert_eq!(srv.get("/health/ready").0, 200);
}

#[test]
fn sigterm_finishes_requests_in_flight_then_exits_0() {
    let srv = Srv::start(&["policies/bank.regain"]);
    let bank = std::fs::read_to_string(Path::new(ROOT).join("policies/bank.regain")).unwrap();
    let url = srv.url("/v1/analyze");
    let slow = std::thread::spawn(move || {
        let t = Instant::now();
        let (s, text) = request(
            "POST",
            &url,
            Some(&json!({ "source": bank }).to_string()),
            &[],
        );
        (s, text, t.elapsed())
    });
    std::thread::sleep(Duration::from_millis(150));
    let addr = srv.addr;
    let stderr = srv.stderr.clone();
    let code = srv.stop();
    let (s, text, took) = slow.join().unwrap();
    assert_eq!(s, 200, "{text}");
    assert!(
        took > Duration::from_millis(150),
        "the request was in flight"
    );
    assert!(serde_json::from_str::<Value>(&text).unwrap()["shares"].is_object());
    assert_eq!(code, 0, "{}", stderr.lock().unwrap());
    assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

/// Send raw bytes, read the status line's code (or None when the server closed).
fn raw(addr: SocketAddr, request: &[u8]) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let _ = s.write_all(request);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(2).any(|w| w == b"\r\n") {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf);
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn hostile_bodies_answer_4xx_and_the_server_keeps_serving() {
    let srv = Srv::start(&["policies/alipay.regain"]);
    let d = decide_path(ALIPAY);
    let deep_arrays = format!("{{\"profile\": {}}}", "[".repeat(100_000));
    let deep_objects = format!("{{\"profile\": {}}}", "{\"a\":".repeat(50_000));
    let hostile: Vec<String> = vec![
        deep_arrays,
        deep_objects,
        r#"{"profile": {"questions": {"set": 1e400}}}"#.into(),
        r#"{"profile": {"questions": {"set": 123456789012345678901234567890}}}"#.into(),
        r#"{"profile": {"questions": {"set": -99999999999999999999}}}"#.into(),
        r#"{"profile": {"questions": {"set": 3.0}}}"#.into(),
        r#"{"profile": [1, 2, 3]}"#.into(),
        r#"{"profile": "phone"}"#.into(),
        r#"{"profiles": {"a": 1}}"#.into(),
        r#"[]"#.into(),
        r#"{"profile": {"phone": {"active": null}}}"#.into(),
        "\u{0}\u{1}".into(),
        r#"{"profile": {"#.into(),
    ];
    for body in &hostile {
        let (s, text) = srv.post(&d, body);
        assert!(
            (400..500).contains(&s),
            "{s} for {}",
            &body[..body.len().min(60)]
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert!(v["code"].is_string());
    }
    // A batch with bad items is answered 200 with per-item errors.
    let (s, v) = srv.post_json(&d, &json!({"profiles": [null, true, "x"]}));
    assert_eq!(s, 200);
    assert!(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["error"]["code"] == "invalid_profile"));
    // 10 MB body: 413.
    let big = format!("{{\"profile\": \"{}\"}}", "a".repeat(10 << 20));
    let (s, text) = srv.post(&d, &big);
    assert_eq!(s, 413, "{}", &text[..text.len().min(200)]);
    // Invalid UTF-8, a lying Content-Length, garbage request lines.
    let addr = srv.addr;
    let path = d.clone();
    let mut bytes = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xfd, 0xfc]);
    assert_eq!(raw(addr, &bytes), Some(400));
    let lying = format!("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n{{}}");
    assert!(matches!(raw(addr, lying.as_bytes()), Some(413) | None));
    let _ = raw(addr, b"\x16\x03\x01garbage\r\n\r\n");
    let _ = raw(
        addr,
        b"GET /health/live HTTP/1.1\r\nHost: x\r\nX: \x00\x01\r\n\r\n",
    );
    // Still serving.
    let (s, v) = srv.post_json(&d, &json!({"profile": alipay_profile()}));
    assert_eq!(s, 200);
    assert_eq!(v["result"]["decision"], "allow");
    assert_eq!(srv.get("/health/live").0, 200);
}

#[test]
fn startup_fails_on_a_policy_that_does_not_check() {
    let dir = tempdir("startup");
    std::fs::write(dir.join("bad.regain"), "policy bad\nfacts { x }\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .args(["serve", "--addr", "127.0.0.1:0", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.regain"));
    // Two files with the same policy name.
    let dup = tempdir("dup");
    std::fs::write(dup.join("a.regain"), SMALL).unwrap();
    std::fs::write(dup.join("b.regain"), SMALL).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .args(["serve", "--addr", "127.0.0.1:0", dup.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already loaded"));
}

#[test]
fn the_playground_page_is_served_when_asked() {
    let srv = Srv::start(&["policies/alipay.regain", "--playground"]);
    let (s, text) = srv.get("/");
    assert_eq!(s, 200);
    assert!(text.contains("<html") || text.contains("<!doctype") || text.contains("<!DOCTYPE"));
    let plain = Srv::start(&["policies/alipay.regain"]);
    assert_eq!(plain.get("/").0, 404);
}
