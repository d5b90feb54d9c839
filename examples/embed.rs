//! A service embedding regain: compile the policy once at start-up, then answer
//! "which recovery paths may this account use?" from many threads at once.
//!
//! `cargo run --release --example embed`

use std::sync::Arc;
use std::time::Instant;

use regain::{DecisionKind, Engine, Policy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/alipay.regain");
    let source = std::fs::read_to_string(path)?;
    // Parse + check: an error carries every diagnostic with file:line:col.
    let policy = Policy::parse_named("alipay.regain", &source)?;
    // Compile once; the engine is Send + Sync and shared by every request thread.
    let engine = Arc::new(Engine::new(&policy)?);
    let stats = engine.graph().stats();
    println!(
        "compiled {}: {} nodes, {} terminals",
        policy.ir().name,
        stats.nodes,
        stats.terminals
    );

    // Requests arrive as JSON; validate once per request (this is where bad input is
    // rejected with the fact's name), then evaluate without allocating.
    let request = r#"{
        "phone": {"bound": true, "active": false, "sim_changed_days": 400, "owner_verified": true},
        "device": {"trusted": false},
        "email": {"bound": true, "verified": true, "changed_days": 900},
        "questions": {"set": 3},
        "identity": {"verified": true},
        "bank_card": {"bound": true},
        "account": {"risk": "low"}
    }"#;
    let profile = engine.profile_from_json(request)?;
    let decision = engine.evaluate(&profile);
    match decision.kind() {
        DecisionKind::Allow => {
            println!("allow, in order of preference:");
            for p in decision.paths() {
                let steps: Vec<String> = p.steps().iter().map(|s| s.join(" | ")).collect();
                println!(
                    "  {:<8} {}   (wait {} s)",
                    p.name(),
                    steps.join(" → "),
                    p.wait_s()
                );
            }
        }
        DecisionKind::Deny => println!("deny: {}", decision.denied_by().join("; ")),
        DecisionKind::Lockout => println!("lockout: no way back in"),
    }

    // A bad request is an error naming the fact, never a panic or a silent default.
    if let Err(e) = engine.profile_from_json(r#"{"phone": {"bound": "yes"}}"#) {
        println!("rejected: {e}");
    }

    // The same engine from many threads. Profiles are built with the typed builder.
    let threads = 4;
    let per_thread = 250_000;
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let engine = Arc::clone(&engine);
            std::thread::spawn(move || {
                let profile = engine
                    .builder()
                    .bool("phone.bound", true)
                    .bool("phone.active", i % 2 == 0)
                    .int("phone.sim_changed_days", 30)
                    .bool("phone.owner_verified", true)
                    .bool("device.trusted", false)
                    .bool("email.bound", true)
                    .bool("email.verified", true)
                    .int("email.changed_days", 100)
                    .int("questions.set", 2)
                    .bool("identity.verified", true)
                    .bool("bank_card.bound", false)
                    .variant("account.risk", "medium")
                    .build()
                    .expect("a valid profile");
                let mut allowed = 0u64;
                for _ in 0..per_thread {
                    if engine.evaluate(std::hint::black_box(&profile)).kind() == DecisionKind::Allow
                    {
                        allowed += 1;
                    }
                }
                allowed
            })
        })
        .collect();
    let allowed: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let n = threads * per_thread;
    println!(
        "{n} decisions on {threads} threads in {:.1} ms ({allowed} allow)",
        t.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}
