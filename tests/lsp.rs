//! Protocol tests for `regain lsp`: the built binary driven over stdio as an editor
//! drives it (Content-Length framed JSON-RPC), for every feature of design/editor.md.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Client {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for something else.
    pending: Vec<Value>,
}

fn read_message(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_regain"))
            .args(["lsp", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start regain lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(v) = read_message(&mut r) {
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            rx,
            next_id: 1,
            pending: Vec::new(),
        };
        let init = c.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        let caps = &init["result"]["capabilities"];
        assert_eq!(caps["textDocumentSync"], 2, "incremental sync: {init}");
        assert_eq!(caps["hoverProvider"], true);
        assert_eq!(init["result"]["serverInfo"]["name"], "regain");
        c.notify("initialized", json!({}));
        c
    }

    fn send(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Bytes as they are, framed or not.
    fn send_raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next JSON-RPC error that answers no request (`id: null`).
    fn null_id_error(&mut self) -> Value {
        loop {
            let m = self.recv();
            if m.get("id") == Some(&Value::Null) {
                return m;
            }
            if m.get("id").is_none() {
                self.pending.push(m);
            }
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&mut self) -> Value {
        self.rx
            .recv_timeout(TIMEOUT)
            .expect("the server answers within the timeout")
    }

    /// The whole response object (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let m = self.recv();
            if m["id"] == id && m.get("method").is_none() {
                return m;
            }
            if m.get("id").is_none() {
                self.pending.push(m);
            }
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let r = self.request(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    /// The next diagnostics published for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let is = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        };
        if let Some(i) = self.pending.iter().position(is) {
            let m = self.pending.remove(i);
            return m["params"]["diagnostics"].as_array().unwrap().clone();
        }
        loop {
            let m = self.recv();
            if is(&m) {
                return m["params"]["diagnostics"].as_array().unwrap().clone();
            }
            if m.get("id").is_none() {
                self.pending.push(m);
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "regain", "version": 1, "text": text}}),
        );
        self.diagnostics(uri, 1)
    }

    fn at(&mut self, method: &str, uri: &str, (line, character): (u32, u32)) -> Value {
        self.result(
            method,
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        )
    }

    fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "{r}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit code after shutdown: {status}");
    }
}

/// The 0-based line and UTF-16 column of the `k`-th occurrence of `needle`.
fn pos_of(text: &str, needle: &str, k: usize) -> (u32, u32) {
    let mut from = 0;
    let mut at = 0;
    for _ in 0..=k {
        at = from + text[from..].find(needle).expect("needle in text");
        from = at + 1;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() as u32;
    let col = text[line_start..at].encode_utf16().count() as u32;
    (line, col)
}

fn range_of(text: &str, needle: &str, k: usize) -> Value {
    let (l, c) = pos_of(text, needle, k);
    let w = needle.encode_utf16().count() as u32;
    json!({"start": {"line": l, "character": c}, "end": {"line": l, "character": c + w}})
}

fn alipay() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/alipay.regain"
    ))
    .unwrap()
}

const URI: &str = "file:///tmp/regain-lsp-test/alipay.regain";

/// Non-ASCII text before every name on the lines that matter: accents (2 bytes, 1
/// UTF-16 unit), CJK (3 bytes, 1 unit) and an emoji (4 bytes, 2 units).
const INTL: &str = "# Réinitialisation — 密码 😀
policy intl
facts {
  phone.ok: bool # « actif » 😀
  risk: low | high # 风险
}
methods { sms: possession requires phone.ok }
deny \"gelé 😀\" when risk == hgh
path p \"Titre 😀 é\" { steps sms grants reset }
";

#[test]
fn diagnostics_match_regain_check_with_related_information() {
    let dir = std::env::temp_dir().join(format!("regain-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.regain");
    let text = alipay()
        .replace("steps sms_code then", "steps sms_cod then")
        .replace(
            "  bank_card.bound:        bool\n",
            "  bank_card.bound:        bool\n  email.bound: bool\n",
        );
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_regain"))
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let check: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = check["files"][0]["diagnostics"].as_array().unwrap().clone();
    assert!(expected.len() >= 2, "{check}");

    let mut c = Client::start();
    let got = c.open(URI, &text);
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g["code"], e["code"]);
        assert_eq!(g["message"], e["message"]);
        assert_eq!(g["source"], "regain");
        assert_eq!(g["severity"], if e["severity"] == "error" { 1 } else { 2 });
        // ASCII lines: check's 1-based char columns are the UTF-16 columns + 1.
        assert_eq!(g["range"]["start"]["line"], e["line"].as_i64().unwrap() - 1);
        assert_eq!(
            g["range"]["start"]["character"],
            e["col"].as_i64().unwrap() - 1
        );
        assert_eq!(
            g["range"]["end"]["character"],
            e["end_col"].as_i64().unwrap() - 1
        );
        let related = g["relatedInformation"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for l in e["labels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["primary"] == false)
        {
            let r = related
                .iter()
                .find(|r| r["message"] == l["message"])
                .unwrap_or_else(|| panic!("secondary label {l} in {related:?}"));
            assert_eq!(r["location"]["uri"], URI);
            assert_eq!(
                r["location"]["range"]["start"]["line"],
                l["line"].as_i64().unwrap() - 1
            );
        }
        if let Some(h) = e["help"].as_str() {
            assert!(
                related.iter().any(|r| r["message"] == format!("help: {h}")),
                "{g}"
            );
        }
    }
    let dup = got
        .iter()
        .find(|d| d["code"] == "E0002")
        .expect("duplicate fact");
    assert_eq!(
        dup["relatedInformation"][0]["message"],
        "first declared here"
    );
    assert_eq!(
        dup["relatedInformation"][0]["location"]["range"],
        range_of(&text, "email.bound", 0)
    );
    let unknown = got
        .iter()
        .find(|d| d["code"] == "E0005")
        .expect("unknown method");
    assert_eq!(
        unknown["range"],
        range_of(&text, "sms_cod ", 0).tap_width(7)
    );

    // A change that fixes both errors publishes an empty error list for version 2.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": alipay()}]}),
    );
    let fixed = c.diagnostics(URI, 2);
    assert!(fixed.iter().all(|d| d["severity"] != 1), "{fixed:?}");
    c.shutdown();
}

trait Width {
    fn tap_width(self, w: u32) -> Value;
}

impl Width for Value {
    fn tap_width(mut self, w: u32) -> Value {
        let c = self["start"]["character"].as_u64().unwrap() as u32;
        self["end"]["character"] = json!(c + w);
        self
    }
}

#[test]
fn utf16_ranges_with_non_ascii_text_and_incremental_changes() {
    let uri = "file:///tmp/intl.regain";
    let mut c = Client::start();
    let diags = c.open(uri, INTL);
    let e = diags
        .iter()
        .find(|d| d["code"] == "E0008")
        .expect("unknown variant");
    assert_eq!(e["range"], range_of(INTL, "hgh", 0));
    // The line has 4-byte and 2-byte characters before `hgh`: bytes ≠ UTF-16 units.
    let line = INTL.lines().nth(7).unwrap();
    let byte_col = line.find("hgh").unwrap() as u32;
    assert_ne!(e["range"]["start"]["character"], byte_col);

    // Hover on a fact used after an emoji and a CJK comment: its comment, exact range.
    let (l, ch) = pos_of(INTL, "risk == hgh", 0);
    let hover = c.at("textDocument/hover", uri, (l, ch + 2));
    assert_eq!(hover["range"], range_of(INTL, "risk ==", 0).tap_width(4));
    let md = hover["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("risk: low | high") && md.contains("风险"),
        "{md}"
    );
    let (l, ch) = pos_of(INTL, "phone.ok }", 0);
    let md = c.at("textDocument/hover", uri, (l, ch))["contents"]["value"].clone();
    assert!(md.as_str().unwrap().contains("« actif » 😀"), "{md}");
    // Definition of a method used after an emoji lands on its declaration.
    let (l, ch) = pos_of(INTL, "sms grants", 0);
    let def = c.at("textDocument/definition", uri, (l, ch + 3));
    assert_eq!(def["range"], range_of(INTL, "sms:", 0).tap_width(3));

    // An incremental edit at UTF-16 positions: replace `hgh` with `high`.
    let r = range_of(INTL, "hgh", 0);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
               "contentChanges": [{"range": r, "text": "high"}]}),
    );
    let after = c.diagnostics(uri, 2);
    assert!(after.iter().all(|d| d["code"] != "E0008"), "{after:?}");
    // The quick check that the text really changed where we said: hover on `high`.
    let fixed = INTL.replace("hgh", "high");
    let (l, ch) = pos_of(&fixed, "high", 0);
    let h = c.at("textDocument/hover", uri, (l, ch));
    assert!(h.is_null(), "a variant literal has no hover: {h}");
    let sym = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let path = sym
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "p")
        .unwrap();
    assert_eq!(
        path["selectionRange"],
        range_of(&fixed, "p \"", 0).tap_width(1)
    );
    assert_eq!(path["detail"], "Titre 😀 é");

    // Lone carriage returns end lines too (as the protocol says): the same ranges.
    let cr_uri = "file:///tmp/intl-cr.regain";
    let cr = INTL.replace('\n', "\r");
    let diags = c.open(cr_uri, &cr);
    let e = diags
        .iter()
        .find(|d| d["code"] == "E0008")
        .expect("unknown variant");
    assert_eq!(e["range"], range_of(INTL, "hgh", 0));
    let (l, ch) = pos_of(INTL, "sms grants", 0);
    let def = c.at("textDocument/definition", cr_uri, (l, ch + 3));
    assert_eq!(def["range"], range_of(INTL, "sms:", 0).tap_width(3));
    let (l, ch) = pos_of(INTL, "phone.ok }", 0);
    let md = c.at("textDocument/hover", cr_uri, (l, ch))["contents"]["value"].clone();
    assert!(md.as_str().unwrap().ends_with("used once"), "{md}");
    assert!(md.as_str().unwrap().contains("« actif » 😀"), "{md}");
    c.shutdown();
}

#[test]
fn hover_definition_references_on_a_policy() {
    let text = alipay();
    let mut c = Client::start();
    c.open(URI, &text);

    // Fact: type, domain, comment, uses.
    let h = c.at(
        "textDocument/hover",
        URI,
        pos_of(&text, "phone.sim_changed_days > 7", 0),
    );
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(md.contains("phone.sim_changed_days: int 0..3650"), "{md}");
    assert!(
        md.contains("3651 values") && md.contains("days since the SIM"),
        "{md}"
    );
    assert!(md.contains("used once"), "{md}");
    let h = c.at(
        "textDocument/hover",
        URI,
        pos_of(&text, "account.frozen", 1),
    );
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("default: `false`"));

    // Method: factor, restricted, requires.
    let h = c.at("textDocument/hover", URI, pos_of(&text, "sms_code then", 0));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("factor: possession") && md.contains("restricted (NIST"),
        "{md}"
    );
    assert!(
        md.contains("requires `phone.bound and phone.active`"),
        "{md}"
    );

    // Path: title, clauses and the analyser's shares (asking for the lenses first waits
    // for the analyser, so the hover has its answer).
    c.result(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": URI}}),
    );
    let h = c.at("textDocument/hover", URI, pos_of(&text, "support \"", 0));
    let md = h["contents"]["value"].as_str().unwrap();
    assert!(
        md.contains("Human review: ID card") && md.contains("wait `72h`"),
        "{md}"
    );
    assert!(
        md.contains("available for ") && md.contains("% of profiles"),
        "{md}"
    );

    // Keyword.
    let h = c.at("textDocument/hover", URI, pos_of(&text, "grants", 0));
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("what completing the path gives"));
    // Inside a comment: nothing.
    let h = c.at(
        "textDocument/hover",
        URI,
        pos_of(&text, "Password recovery", 0),
    );
    assert!(h.is_null());

    // Definition from `steps`, `notify`, `requires` and `when`.
    for (needle, k, decl) in [
        ("sms_code then", 0, "sms_code:"),
        ("app_prompt\n", 0, "app_prompt:"),
        ("device.trusted\n", 0, "device.trusted:"),
        ("email.changed_days >", 0, "email.changed_days:"),
        ("account.frozen\n", 0, "account.frozen:"),
    ] {
        let d = c.at("textDocument/definition", URI, pos_of(&text, needle, k));
        let name = decl.trim_end_matches(':');
        assert_eq!(d["uri"], URI);
        assert_eq!(
            d["range"],
            range_of(&text, decl, 0).tap_width(name.len() as u32),
            "{needle}"
        );
    }
    let none = c.at(
        "textDocument/definition",
        URI,
        pos_of(&text, "reset_password", 0),
    );
    assert!(none.is_null());

    // References of a method: declaration + every use in steps and notify.
    let p = pos_of(&text, "face_match:", 0);
    let refs = c.result(
        "textDocument/references",
        json!({"textDocument": {"uri": URI}, "position": {"line": p.0, "character": p.1},
               "context": {"includeDeclaration": true}}),
    );
    let n = text.matches("face_match").count();
    assert_eq!(refs.as_array().unwrap().len(), n);
    let refs = c.result(
        "textDocument/references",
        json!({"textDocument": {"uri": URI}, "position": {"line": p.0, "character": p.1},
               "context": {"includeDeclaration": false}}),
    );
    assert_eq!(refs.as_array().unwrap().len(), n - 1);
    c.shutdown();
}

#[test]
fn rename_everywhere_and_refuses_collisions_keywords_and_bad_names() {
    let text = alipay();
    let mut c = Client::start();
    c.open(URI, &text);
    let p = pos_of(&text, "questions:", 0);
    let prep = c.at("textDocument/prepareRename", URI, p);
    assert_eq!(prep, range_of(&text, "questions:", 0).tap_width(9));

    let rename = |c: &mut Client, pos: (u32, u32), new: &str| {
        c.request(
            "textDocument/rename",
            json!({"textDocument": {"uri": URI}, "position": {"line": pos.0, "character": pos.1},
                   "newName": new}),
        )
    };
    let ok = rename(&mut c, p, "quiz");
    let edits = ok["result"]["changes"][URI].as_array().unwrap();
    // The method's uses: its declaration and the four paths that name it (not the
    // fact `questions.set`, nor the word in comments and titles).
    let uses: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let code = l.split('#').next().unwrap_or("");
            let code = code.split('"').step_by(2).collect::<String>();
            code.replace("questions.set", "").contains("questions")
        })
        .map(|(i, _)| i as u64)
        .collect();
    let mut lines: Vec<u64> = edits
        .iter()
        .map(|e| e["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, uses, "{edits:?}");
    assert_eq!(uses.len(), 5);
    assert!(edits.iter().all(|e| e["newText"] == "quiz"));

    // Renaming a dotted fact.
    let f = pos_of(&text, "questions.set >= 2", 0);
    let ok = rename(&mut c, f, "kb.questions");
    assert_eq!(ok["result"]["changes"][URI].as_array().unwrap().len(), 2);

    for (new, why) in [
        (
            "face_match",
            "collides with the method `face_match` declared on line",
        ),
        ("then", "`then` is a keyword"),
        ("two words", "is not an identifier"),
        ("9lives", "is not an identifier"),
    ] {
        let r = rename(&mut c, p, new);
        assert_eq!(r["error"]["code"], -32803, "{new}: {r}");
        assert!(
            r["error"]["message"].as_str().unwrap().contains(why),
            "{new}: {r}"
        );
    }
    for (new, why) in [
        ("phone.active", "collides with the fact `phone.active`"),
        ("phone", "may not be the prefix of another"),
        ("email.bound.x", "may not be the prefix of another"),
        ("a.in", "`in` is a keyword"),
    ] {
        let r = rename(&mut c, f, new);
        assert!(
            r["error"]["message"].as_str().unwrap_or("").contains(why),
            "{new}: {r}"
        );
    }
    // Paths collide with paths.
    let r = rename(&mut c, pos_of(&text, "email \"", 0), "support");
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the path `support`"),
        "{r}"
    );
    // Nothing to rename on a keyword.
    let r = rename(&mut c, pos_of(&text, "grants", 0), "x");
    assert!(r.get("error").is_some(), "{r}");
    c.shutdown();
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn completion_offers_the_right_things_in_the_right_places() {
    let uri = "file:///tmp/complete.regain";
    let base = alipay();
    let mut c = Client::start();
    c.open(uri, &base);
    let mut version = 1;
    // Each case: text inserted before the last line of the file, and what must (and
    // must not) be offered at its end.
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "deny \"risky\" when account.risk == ",
            &["low", "medium", "high"],
            &["phone.bound", "policy"],
        ),
        (
            "deny \"risky\" when account.risk in [low, ",
            &["low", "medium", "high"],
            &["sms_code"],
        ),
        (
            "deny \"risky\" when account.frozen != ",
            &["true", "false"],
            &["low"],
        ),
        (
            "deny \"risky\" when ",
            &["phone.bound", "account.risk", "not"],
            &["sms_code", "path"],
        ),
        (
            "deny \"risky\" when phone.bound and acc",
            &["account.risk", "account.frozen"],
            &["sms_code"],
        ),
        (
            "path extra { steps ",
            &["sms_code", "agent_review", "any"],
            &["phone.bound"],
        ),
        (
            "path extra { steps any 2 of (sms_code, ",
            &["face_match", "questions"],
            &["any", "phone.bound"],
        ),
        (
            "path extra { steps sms_code grants x notify ",
            &["email_link"],
            &["any"],
        ),
        (
            "path extra { steps sms_code ",
            &["then", "grants", "when", "notify", "wait"],
            &["steps", "sms_code"],
        ),
        ("path extra { when ", &["email.bound", "not"], &["sms_code"]),
        ("path extra { grants ", &[], &["sms_code", "phone.bound"]),
        (
            "deny \"risky\" when questions.set >= ",
            &[],
            &["phone.bound", "path", "and", "low"],
        ),
        (
            "path extra { when questions.set >= 2 ",
            &["and", "or", "steps"],
            &["phone.bound", "when"],
        ),
        (
            "methods { extra: ",
            &["knowledge", "possession", "inherence", "document", "human"],
            &["bool"],
        ),
        (
            "methods { extra: human ",
            &["restricted", "requires"],
            &["human"],
        ),
        ("facts { extra: ", &["bool", "int"], &["phone.bound"]),
        (
            "",
            &["facts", "methods", "deny", "path"],
            &["phone.bound", "sms_code"],
        ),
        ("# a comment phone", &[], &["phone.bound", "path"]),
    ];
    for (insert, want, not) in cases {
        version += 1;
        let text = format!("{base}{insert}");
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
        let last = text.lines().count() as u32 - if insert.is_empty() { 0 } else { 1 };
        let col = insert.encode_utf16().count() as u32;
        let items = c.at("textDocument/completion", uri, (last, col));
        let got = labels(&items);
        for w in *want {
            assert!(
                got.iter().any(|g| g == w),
                "`{insert}`: want {w} in {got:?}"
            );
        }
        for n in *not {
            assert!(
                !got.iter().any(|g| g == n),
                "`{insert}`: do not want {n} in {got:?}"
            );
        }
        if insert.ends_with("acc") {
            // The edit replaces the word being typed, dots included.
            let item = items
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["label"] == "account.risk")
                .unwrap();
            assert_eq!(item["textEdit"]["range"]["start"]["character"], col - 3);
            assert_eq!(item["detail"], "low | medium | high");
        }
    }
    c.shutdown();
}

#[test]
fn formatting_symbols_code_actions_and_lenses() {
    let mut c = Client::start();
    let uri = "file:///tmp/fmt.regain";
    let messy = "policy   p\nfacts{a:bool  n : int 0..5 = 9}\nmethods{m:human requires a}\npath x{steps mm grants y}\n";
    let diags = c.open(uri, messy);
    let codes: Vec<&str> = diags.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert!(
        codes.contains(&"E0005") && codes.contains(&"E0011"),
        "{codes:?}"
    );

    // Formatting equals `regain fmt`'s output.
    let edits = c.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        regain::fmt::format(messy).unwrap()
    );

    // Quick fixes: did-you-mean and a default moved into the range.
    let all = json!({"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}});
    let actions = c.result(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": all, "context": {"diagnostics": []}}),
    );
    let actions = actions.as_array().unwrap();
    let fix = actions
        .iter()
        .find(|a| a["title"] == "Replace with `m`")
        .expect("did-you-mean fix");
    assert_eq!(fix["kind"], "quickfix");
    assert_eq!(fix["diagnostics"][0]["code"], "E0005");
    let edit = &fix["edit"]["changes"][uri][0];
    assert_eq!(edit["newText"], "m");
    assert_eq!(edit["range"], range_of(messy, "mm", 0));
    let def = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .unwrap()
                .starts_with("Use the default `5`")
        })
        .expect("default fix");
    assert_eq!(
        def["edit"]["changes"][uri][0]["range"],
        range_of(messy, "9", 0)
    );

    // Symbols, nested under their blocks.
    let text = alipay();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    c.diagnostics(uri, 2);
    let sym = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names = labels_of(&sym, "name");
    assert_eq!(
        names,
        [
            "facts",
            "methods",
            "deny \"account is frozen\"",
            "sms",
            "unbind_phone",
            "email",
            "carrier",
            "support"
        ]
    );
    let facts = &sym[0]["children"];
    assert_eq!(facts.as_array().unwrap().len(), 13);
    assert_eq!(facts[0]["name"], "phone.bound");
    assert_eq!(facts[0]["detail"], "bool");
    assert_eq!(sym[1]["children"][0]["name"], "sms_code");

    // Code lenses: the policy's shares and each path's, from the analyser.
    let lenses = c.result(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let lenses = lenses.as_array().unwrap();
    assert_eq!(lenses.len(), 1 + 5, "{lenses:?}");
    let policy = lenses[0]["command"]["title"].as_str().unwrap();
    assert!(
        policy.starts_with("allow ")
            && policy.contains(" · deny ")
            && policy.contains(" · lockout "),
        "{policy}"
    );
    assert_eq!(
        lenses[0]["range"]["start"]["line"],
        pos_of(&text, "alipay_password_reset", 0).0
    );
    let analysis = regain_analysis(&text);
    let want = format!(
        "allow {:.1}% · deny {:.1}% · lockout {:.1}%",
        analysis["shares"]["allow"].as_f64().unwrap() * 100.0,
        analysis["shares"]["deny"].as_f64().unwrap() * 100.0,
        analysis["shares"]["lockout"].as_f64().unwrap() * 100.0
    );
    assert_eq!(policy, want);
    let support = &lenses[5];
    assert_eq!(
        support["range"],
        range_of(&text, "support \"", 0).tap_width(7)
    );
    let s = &analysis["paths"]["support"];
    assert_eq!(
        support["command"]["title"],
        format!(
            "available for {:.1}% of profiles · first for {:.1}%",
            s["available"]["share"].as_f64().unwrap() * 100.0,
            s["first"]["share"].as_f64().unwrap() * 100.0
        )
    );

    // After a change that checks, the lenses are those of the new version.
    let cut = text.find("# The way back for everyone else").unwrap();
    let smaller = text[..cut].to_string();
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": &smaller}]}),
    );
    c.diagnostics(uri, 3);
    let lenses = c.result(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    let lenses = lenses.as_array().unwrap();
    assert_eq!(lenses.len(), 1 + 4, "{lenses:?}");
    let analysis = regain_analysis(&smaller);
    assert_eq!(
        lenses[0]["command"]["title"],
        format!(
            "allow {:.1}% · deny {:.1}% · lockout {:.1}%",
            analysis["shares"]["allow"].as_f64().unwrap() * 100.0,
            analysis["shares"]["deny"].as_f64().unwrap() * 100.0,
            analysis["shares"]["lockout"].as_f64().unwrap() * 100.0
        )
    );
    assert_ne!(lenses[0]["command"]["title"], policy, "the shares changed");
    c.shutdown();
}

fn labels_of(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

fn regain_analysis(text: &str) -> Value {
    let policy = regain::Policy::parse(text).unwrap();
    let engine = regain::Engine::new(&policy).unwrap();
    serde_json::to_value(regain::analyze::analyze(&engine)).unwrap()
}

#[test]
fn a_broken_document_still_gets_diagnostics_symbols_completion_and_no_formatting() {
    let text = alipay().replace(
        "path unbind_phone \"Unbind the number from the old phone\" {\n  steps app_prompt then",
        "path unbind_phone \"Unbind the number from the old phone\" {\n  steps app_prompt then then",
    );
    let mut c = Client::start();
    let diags = c.open(URI, &text);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0]["code"], "E0001");
    let (l, _) = pos_of(&text, "then then", 0);
    assert_eq!(diags[0]["range"]["start"]["line"], l);

    // Symbols of everything recovery kept: all blocks and the other paths.
    let sym = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let names = labels_of(&sym, "name");
    for n in ["facts", "methods", "sms", "email", "carrier", "support"] {
        assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
    }
    // Hover and definition still work in the parsed parts.
    let d = c.at(
        "textDocument/definition",
        URI,
        pos_of(&text, "questions, bank_card)", 0),
    );
    assert_eq!(
        d["range"]["start"],
        range_of(&text, "questions:", 0)["start"]
    );
    // Completion of facts after `when` in a new item.
    let items = c.at("textDocument/completion", URI, {
        let (l, ch) = pos_of(&text, "when email.changed_days", 0);
        (l, ch + 5)
    });
    assert!(labels(&items).iter().any(|x| x == "email.changed_days"));
    // A document that checked, then broke: the lenses of the version that checked,
    // marked, on the paths still there.
    let uri2 = "file:///tmp/was-fine.regain";
    c.open(uri2, &alipay());
    let good = c.result(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri2}}),
    );
    let good_title = good[0]["command"]["title"].as_str().unwrap().to_string();
    assert!(good_title.starts_with("allow "), "{good}");
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri2, "version": 2}, "contentChanges": [{"text": &text}]}),
    );
    c.diagnostics(uri2, 2);
    let stale = c.result(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri2}}),
    );
    let titles = labels_of(
        &json!(stale
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["command"].clone())
            .collect::<Vec<_>>()),
        "title",
    );
    assert_eq!(titles[0], format!("{good_title} (earlier version)"));
    assert!(titles.len() >= 5, "{titles:?}");
    assert!(titles.iter().all(|t| t.ends_with(" (earlier version)")));
    assert_eq!(
        stale[1]["range"],
        range_of(&text, "sms \"", 0).tap_width(3),
        "on the path as it is now"
    );
    // No formatting, no lenses (it never checked), rename refused.
    let f = c.result(
        "textDocument/formatting",
        json!({"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(f, json!([]));
    let lenses = c.result(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": URI}}),
    );
    assert_eq!(lenses, json!([]));
    let p = pos_of(&text, "sms_code:", 0);
    let r = c.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": URI}, "position": {"line": p.0, "character": p.1}, "newName": "x"}),
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("syntax errors"),
        "{r}"
    );
    // A fact being typed inside the facts block: the facts before it keep their symbols,
    // hovers, definitions and completions; the items after it too.
    let typing = alipay().replace(
        "  bank_card.bound:        bool\n",
        "  bank_card.bound:        bool\n  new.fact: \n",
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": &typing}]}),
    );
    let d = c.diagnostics(URI, 2);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["code"], "E0001");
    let sym = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    assert_eq!(sym[0]["name"], "facts");
    let facts = labels_of(&sym[0]["children"], "name");
    assert_eq!(facts.first().map(String::as_str), Some("phone.bound"));
    assert_eq!(facts.last().map(String::as_str), Some("bank_card.bound"));
    assert_eq!(facts.len(), 11, "{facts:?}");
    assert_eq!(
        labels_of(&sym, "name").len(),
        8,
        "every item is still there"
    );
    let h = c.at(
        "textDocument/hover",
        URI,
        pos_of(&typing, "phone.sim_changed_days > 7", 0),
    );
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("phone.sim_changed_days: int 0..3650"));
    let d = c.at(
        "textDocument/definition",
        URI,
        pos_of(&typing, "device.trusted\n", 0),
    );
    assert_eq!(
        d["range"],
        range_of(&typing, "device.trusted:", 0).tap_width(14)
    );
    let items = c.at("textDocument/completion", URI, {
        let (l, ch) = pos_of(&typing, "when phone.bound and not", 0);
        (l, ch + 5)
    });
    assert!(labels(&items).iter().any(|x| x == "identity.verified"));
    // A document whose header is broken: still diagnostics, empty symbols.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": "polic"}]}),
    );
    let d = c.diagnostics(URI, 3);
    assert_eq!(d[0]["code"], "E0001");
    let sym = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    assert_eq!(sym, json!([]));
    c.shutdown();
}

#[test]
fn the_server_answers_everything_and_never_stops() {
    let mut c = Client::start();
    // Malformed messages (bad JSON, bad UTF-8, a broken header) are answered with a
    // parse error and skipped; the next request is answered as usual.
    for bad in [
        &b"Content-Length: 9\r\n\r\n{\"id\": 1,"[..],
        b"Content-Length: 2\r\n\r\n\xff\xfe",
        b"Content-Length: 4\r\n\r\n[1,2",
    ] {
        c.send_raw(bad);
        let e = c.null_id_error();
        assert_eq!(e["error"]["code"], -32700, "{e}");
        let r = c.request("regain/unknown", json!({}));
        assert_eq!(r["error"]["code"], -32601, "still answering after {bad:?}");
    }
    // Unknown document: an error, not a crash.
    let r = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nope.regain"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(r["error"]["code"], -32602, "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("unknown document"));
    // Bad params and unknown methods.
    let r = c.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(r["error"]["code"], -32602);
    let r = c.request("regain/unknown", json!({}));
    assert_eq!(r["error"]["code"], -32601);
    // An empty document: the error, and `policy` offered.
    let empty = "file:///tmp/empty.regain";
    let d = c.open(empty, "");
    assert_eq!(d[0]["code"], "E0001");
    let items = c.at("textDocument/completion", empty, (0, 0));
    assert_eq!(labels(&items), ["policy"]);
    for m in [
        "textDocument/documentSymbol",
        "textDocument/codeLens",
        "textDocument/formatting",
    ] {
        let r = c.result(
            m,
            json!({"textDocument": {"uri": empty}, "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        assert_eq!(r, json!([]), "{m}");
    }
    // Over the 1 MiB limit: E0017, and every request still answered.
    let huge = format!("policy big\n{}", "# filler\n".repeat(120_000));
    let d = c.open("file:///tmp/huge.regain", &huge);
    assert_eq!(d[0]["code"], "E0017");
    let h = c.at("textDocument/hover", "file:///tmp/huge.regain", (0, 1));
    assert!(h["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("names the policy"));
    // Positions far outside the text, on every feature.
    c.open(URI, &alipay());
    for m in [
        "textDocument/hover",
        "textDocument/definition",
        "textDocument/completion",
        "textDocument/prepareRename",
    ] {
        for pos in [(0, 0), (10_000, 0), (3, 99_999), (u32::MAX, u32::MAX)] {
            let r = c.request(
                m,
                json!({"textDocument": {"uri": URI}, "position": {"line": pos.0, "character": pos.1}}),
            );
            assert!(
                r.get("result").is_some() || r.get("error").is_some(),
                "{m}: {r}"
            );
        }
    }
    // Positions inside a surrogate pair (the middle of an emoji) and edits starting
    // there are rounded to a character boundary.
    let emoji = "policy e # 😀😀\nfacts { a: bool }\npath p \"😀\" { when a steps m grants x }\nmethods { m: human }\n";
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": emoji}]}),
    );
    c.diagnostics(URI, 2);
    for ch in 0..16 {
        for m in [
            "textDocument/hover",
            "textDocument/definition",
            "textDocument/completion",
        ] {
            let r = c.request(
                m,
                json!({"textDocument": {"uri": URI}, "position": {"line": 0, "character": ch}}),
            );
            assert!(r.get("error").is_none(), "{m} at 0:{ch}: {r}");
        }
    }
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 12}, "end": {"line": 0, "character": 13}}, "text": "!"}]}),
    );
    assert!(c.diagnostics(URI, 3).is_empty());
    let h = c.at("textDocument/hover", URI, (2, 19));
    assert!(
        h["contents"]["value"].as_str().unwrap().contains("a: bool"),
        "the text after the edit is still valid UTF-8 and in place: {h}"
    );
    // Edits with ranges past the end and reversed are clamped, not fatal.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 4}, "contentChanges": [
            {"range": {"start": {"line": 500, "character": 0}, "end": {"line": 1, "character": 0}}, "text": "x"}]}),
    );
    c.diagnostics(URI, 4);
    // Garbage bytes of every kind in the document.
    let junk =
        "policy p\n\u{0}\u{feff}é\"\\\n{{{{ ((( [[[ ## \r\r\n path \"unterminated\n".repeat(50);
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 5}, "contentChanges": [{"text": junk}]}),
    );
    assert!(!c.diagnostics(URI, 5).is_empty());
    let r = c.at("textDocument/completion", URI, (7, 3));
    assert!(r.is_array());
    // A deep nesting: a clear error, the server still answers.
    let deep = format!(
        "policy p\nfacts {{ a: bool }}\ndeny \"x\" when {}a{}\n",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 6}, "contentChanges": [{"text": deep}]}),
    );
    let d = c.diagnostics(URI, 6);
    assert_eq!(d[0]["code"], "E0016");
    let r = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    assert!(r.is_array());
    // Close: diagnostics cleared; then requests on it are errors.
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": URI}}),
    );
    let r = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    assert!(r.get("error").is_some());
    c.shutdown();
}

#[test]
fn one_long_line_with_many_names_is_answered_quickly() {
    // 15,000 deny rules with non-ASCII reasons on one line of 350 kB: every range is
    // converted to UTF-16 on that line. Counting characters from the line start for each
    // position took 40 s in a debug build; it takes about a second.
    let rules: Vec<String> = (0..15_000)
        .map(|i| format!("deny \"😀é密 {i}\" when a"))
        .collect();
    let text = format!(
        "policy p facts {{ a: bool }} {} methods {{ m: human }} path q {{ steps m grants x }}",
        rules.join(" ")
    );
    let uri = "file:///tmp/long.regain";
    let mut c = Client::start();
    let started = std::time::Instant::now();
    assert!(c.open(uri, &text).is_empty());
    let sym = c.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    assert_eq!(sym.as_array().unwrap().len(), 15_003);
    let refs = c.result(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 18},
               "context": {"includeDeclaration": true}}),
    );
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 15_001);
    let last = text.rfind("when a").unwrap() + "when ".len();
    let col = text[..last].encode_utf16().count() as u64;
    assert_eq!(refs[15_000]["range"]["start"]["character"], col);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "diagnostics, symbols and references took {took:?}"
    );
    c.shutdown();
}

#[test]
fn exit_without_shutdown_is_exit_code_one() {
    let mut c = Client::start();
    c.notify("exit", Value::Null);
    let status = c.child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
}
