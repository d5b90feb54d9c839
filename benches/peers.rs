//! regain's decision graph against the reference interpreter, cedar-policy and regorus,
//! all in one run, on the same policies and profiles.
//!
//! `cargo bench --features peers --bench peers`
//!
//! The policy is translated mechanically from regain's IR: for Cedar, one `permit` per
//! path (action `Action::"PATH"`, the `when` plus every step's requirement, `any N of`
//! as a sum of `if … then 1 else 0`) and one `forbid` per deny rule; a complete decision
//! is one `is_authorized` per path. For Rego, `denied` and `available` partial sets with
//! a helper rule per sub-condition; a complete decision is `set_input` plus one
//! `eval_rule` each for `denied` and `available`. Before timing, every profile's
//! available paths and deny reasons are checked equal across all four.

mod common;

use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityUid, PolicySet, Request, RestrictedExpression,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use regain::check::ir::{Cond, CondKind, FactType, Ir, Step, Test};
use regain::syntax::ast::CmpOp;
use regain::{DecisionKind, Engine, Policy};

fn attr(name: &str) -> String {
    name.replace('.', "_")
}

// ---------------------------------------------------------------- Cedar

fn cedar_cond(ir: &Ir, c: &Cond) -> String {
    match &c.kind {
        CondKind::Const(b) => b.to_string(),
        CondKind::Test(t) => cedar_test(ir, t),
        CondKind::Not(x) => format!("!({})", cedar_cond(ir, x)),
        CondKind::And(xs) => format!(
            "({})",
            xs.iter()
                .map(|x| cedar_cond(ir, x))
                .collect::<Vec<_>>()
                .join(" && ")
        ),
        CondKind::Or(xs) => format!(
            "({})",
            xs.iter()
                .map(|x| cedar_cond(ir, x))
                .collect::<Vec<_>>()
                .join(" || ")
        ),
    }
}

fn cedar_test(ir: &Ir, t: &Test) -> String {
    let f = &ir.facts[t.fact().index()];
    let a = format!("principal.{}", attr(&f.name));
    match t {
        Test::Bool { value, .. } => format!("{a} == {value}"),
        Test::Int { op, k, .. } => format!("{a} {} {k}", op.as_str()),
        Test::IntIn { values, .. } => format!(
            "[{}].contains({a})",
            values
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Test::Enum { mask, .. } => {
            let FactType::Enum(vs) = &f.ty else {
                unreachable!()
            };
            let alts: Vec<String> = mask
                .iter()
                .enumerate()
                .filter(|(_, b)| **b)
                .map(|(i, _)| format!("{a} == \"{}\"", vs[i]))
                .collect();
            if alts.is_empty() {
                "false".into()
            } else {
                format!("({})", alts.join(" || "))
            }
        }
    }
}

fn cedar_step(ir: &Ir, s: &Step) -> String {
    match s {
        Step::Method(m) => cedar_cond(ir, &ir.methods[m.index()].requires),
        Step::Any { n, methods } => format!(
            "({}) >= {n}",
            methods
                .iter()
                .map(|m| format!(
                    "(if {} then 1 else 0)",
                    cedar_cond(ir, &ir.methods[m.index()].requires)
                ))
                .collect::<Vec<_>>()
                .join(" + ")
        ),
    }
}

fn cedar_policies(ir: &Ir) -> String {
    let mut out = String::new();
    for (i, d) in ir.denies.iter().enumerate() {
        out.push_str(&format!(
            "@id(\"deny{i}\")\nforbid(principal, action, resource) when {{ {} }};\n",
            cedar_cond(ir, &d.when)
        ));
    }
    for p in &ir.paths {
        let mut parts = vec![cedar_cond(ir, &p.when)];
        parts.extend(p.steps.iter().map(|s| cedar_step(ir, s)));
        out.push_str(&format!(
            "@id(\"{}\")\npermit(principal, action == Action::\"{}\", resource) when {{ {} }};\n",
            p.name,
            p.name,
            parts.join(" && ")
        ));
    }
    out
}

fn cedar_entities(ir: &Ir, values: &[i64]) -> Entities {
    let mut attrs = HashMap::new();
    for (f, v) in ir.facts.iter().zip(values) {
        let e = match &f.ty {
            FactType::Bool => RestrictedExpression::new_bool(*v != 0),
            FactType::Int { .. } => RestrictedExpression::new_long(*v),
            FactType::Enum(vs) => RestrictedExpression::new_string(vs[*v as usize].clone()),
        };
        attrs.insert(attr(&f.name), e);
    }
    let uid = EntityUid::from_str("User::\"u\"").unwrap();
    Entities::from_entities([Entity::new(uid, attrs, HashSet::new()).unwrap()], None).unwrap()
}

// ---------------------------------------------------------------- Rego

struct RegoGen<'a> {
    ir: &'a Ir,
    rules: Vec<String>,
    next: usize,
}

impl RegoGen<'_> {
    /// A rule name that holds exactly when `c` does.
    fn cond(&mut self, c: &Cond) -> String {
        let name = format!("c{}", self.next);
        self.next += 1;
        match &c.kind {
            CondKind::Const(true) => self.rules.push(format!("{name} if {{ true }}")),
            CondKind::Const(false) => self.rules.push(format!("{name} if {{ false }}")),
            CondKind::Test(t) => {
                let body = self.test(t);
                self.rules.push(format!("{name} if {{ {body} }}"));
            }
            CondKind::Not(x) => {
                let x = self.cond(x);
                self.rules.push(format!("{name} if {{ not {x} }}"));
            }
            CondKind::And(xs) => {
                let parts: Vec<String> = xs.iter().map(|x| self.cond(x)).collect();
                self.rules
                    .push(format!("{name} if {{ {} }}", parts.join("; ")));
            }
            CondKind::Or(xs) => {
                for x in xs {
                    let x = self.cond(x);
                    self.rules.push(format!("{name} if {{ {x} }}"));
                }
            }
        }
        name
    }

    fn test(&self, t: &Test) -> String {
        let f = &self.ir.facts[t.fact().index()];
        let a = format!("input.{}", attr(&f.name));
        match t {
            Test::Bool { value, .. } => format!("{a} == {value}"),
            Test::Int { op, k, .. } => {
                let op = if *op == CmpOp::Eq { "==" } else { op.as_str() };
                format!("{a} {op} {k}")
            }
            Test::IntIn { values, .. } => format!(
                "{a} in {{{}}}",
                values
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Test::Enum { mask, .. } => {
                let FactType::Enum(vs) = &f.ty else {
                    unreachable!()
                };
                let alts: Vec<String> = mask
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| format!("\"{}\"", vs[i]))
                    .collect();
                if alts.is_empty() {
                    "false".into()
                } else {
                    format!("{a} in {{{}}}", alts.join(", "))
                }
            }
        }
    }
}

fn rego_policy(ir: &Ir) -> String {
    let mut g = RegoGen {
        ir,
        rules: Vec::new(),
        next: 0,
    };
    let mut top = Vec::new();
    for m in &ir.methods {
        let c = g.cond(&m.requires);
        top.push(format!("usable contains \"{}\" if {{ {c} }}", m.name));
    }
    for d in &ir.denies {
        let c = g.cond(&d.when);
        top.push(format!("denied contains \"{}\" if {{ {c} }}", d.reason));
    }
    for p in &ir.paths {
        let mut body = vec![g.cond(&p.when)];
        for s in &p.steps {
            let listed: Vec<String> = s
                .methods()
                .iter()
                .map(|m| format!("\"{}\"", ir.methods[m.index()].name))
                .collect();
            body.push(format!(
                "count([x | some x in [{}]; usable[x]]) >= {}",
                listed.join(", "),
                s.needed()
            ));
        }
        top.push(format!(
            "available contains \"{}\" if {{ {} }}",
            p.name,
            body.join("; ")
        ));
    }
    format!(
        "package regain\nimport rego.v1\n\n{}\n\n{}\n",
        top.join("\n"),
        g.rules.join("\n")
    )
}

fn rego_input(ir: &Ir, values: &[i64]) -> regorus::Value {
    let mut m = serde_json::Map::new();
    for (f, v) in ir.facts.iter().zip(values) {
        let j = match &f.ty {
            FactType::Bool => serde_json::Value::Bool(*v != 0),
            FactType::Int { .. } => serde_json::Value::from(*v),
            FactType::Enum(vs) => serde_json::Value::String(vs[*v as usize].clone()),
        };
        m.insert(attr(&f.name), j);
    }
    regorus::Value::from_json_str(&serde_json::Value::Object(m).to_string()).unwrap()
}

fn rego_strings(v: &regorus::Value) -> Vec<String> {
    match v.as_set() {
        Ok(s) => s
            .iter()
            .map(|x| x.as_string().map(|s| s.to_string()).unwrap_or_default())
            .collect(),
        Err(_) => Vec::new(), // undefined: the empty set
    }
}

// ---------------------------------------------------------------- the run

fn bench_policy(c: &mut Criterion, name: &str, src: &str, profiles: &[String]) {
    let policy = Policy::parse(src).unwrap();
    let engine = Engine::new(&policy).unwrap();
    let ir = policy.ir();
    let profiles: Vec<_> = profiles
        .iter()
        .map(|j| engine.profile_from_json(j).unwrap())
        .collect();

    let cedar_set = PolicySet::from_str(&cedar_policies(ir)).unwrap();
    let authorizer = Authorizer::new();
    let principal = EntityUid::from_str("User::\"u\"").unwrap();
    let resource = EntityUid::from_str("Account::\"a\"").unwrap();
    let requests: Vec<Request> = ir
        .paths
        .iter()
        .map(|p| {
            let action = EntityUid::from_str(&format!("Action::\"{}\"", p.name)).unwrap();
            Request::new(
                principal.clone(),
                action,
                resource.clone(),
                Context::empty(),
                None,
            )
            .unwrap()
        })
        .collect();
    let cedar_entities: Vec<Entities> = profiles
        .iter()
        .map(|p| cedar_entities(ir, p.values()))
        .collect();

    let mut rego = regorus::Engine::new();
    rego.add_policy("regain.rego".into(), rego_policy(ir))
        .unwrap();
    let rego_inputs: Vec<regorus::Value> = profiles
        .iter()
        .map(|p| rego_input(ir, p.values()))
        .collect();

    // The four agree before anything is timed.
    for (i, p) in profiles.iter().enumerate() {
        let d = engine.evaluate(p);
        assert_eq!(d, &policy.decide(p));
        let want: Vec<&str> = d.path_names();
        let cedar: Vec<&str> = ir
            .paths
            .iter()
            .zip(&requests)
            .filter(|(_, r)| {
                authorizer
                    .is_authorized(r, &cedar_set, &cedar_entities[i])
                    .decision()
                    == cedar_policy::Decision::Allow
            })
            .map(|(p, _)| p.name.as_str())
            .collect();
        rego.set_input(rego_inputs[i].clone());
        let denied = rego_strings(&rego.eval_rule("data.regain.denied".into()).unwrap());
        let available = rego_strings(&rego.eval_rule("data.regain.available".into()).unwrap());
        if d.kind() == DecisionKind::Deny {
            assert!(
                cedar.is_empty(),
                "{name} profile {i}: cedar allows {cedar:?} under deny"
            );
            let mut want_denied: Vec<String> = d.denied_by().to_vec();
            want_denied.sort();
            let mut denied = denied;
            denied.sort();
            assert_eq!(denied, want_denied, "{name} profile {i}");
        } else {
            assert_eq!(cedar, want, "{name} profile {i}: cedar");
            let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            want_sorted.sort();
            let mut available = available;
            available.sort();
            assert_eq!(available, want_sorted, "{name} profile {i}: rego");
        }
    }

    let mut g = c.benchmark_group(format!("decision/{name}"));
    g.throughput(Throughput::Elements(profiles.len() as u64));
    g.bench_function("regain_graph", |b| {
        b.iter(|| {
            for p in &profiles {
                black_box(engine.evaluate(black_box(p)));
            }
        })
    });
    g.bench_function("regain_interpreter", |b| {
        b.iter(|| {
            for p in &profiles {
                black_box(policy.decide(black_box(p)));
            }
        })
    });
    g.bench_function("cedar_policy", |b| {
        b.iter(|| {
            for e in &cedar_entities {
                for r in &requests {
                    black_box(authorizer.is_authorized(r, &cedar_set, e));
                }
            }
        })
    });
    g.bench_function("regorus", |b| {
        b.iter(|| {
            for input in &rego_inputs {
                rego.set_input(input.clone());
                black_box(rego.eval_rule("data.regain.denied".into()).unwrap());
                black_box(rego.eval_rule("data.regain.available".into()).unwrap());
            }
        })
    });
    g.finish();
}

fn peers(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/");
    let alipay = std::fs::read_to_string(format!("{dir}alipay.regain")).unwrap();
    bench_policy(c, "alipay", &alipay, &common::alipay_profiles());
    // A generated 100-path policy with random profiles (see benches/common).
    let src = common::generated(100, 16, 7);
    let policy = Policy::parse(&src).unwrap();
    let mut r = common::Rng::new(9);
    let profiles: Vec<String> = (0..64)
        .map(|_| common::random_profile(&mut r, policy.ir()))
        .collect();
    bench_policy(c, "generated_100_paths", &src, &profiles);
}

criterion_group!(benches, peers);
criterion_main!(benches);
