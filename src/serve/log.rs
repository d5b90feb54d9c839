//! The decision log (design/serve.md "Decision log"): one JSON line per decision,
//! written by one thread off the request path. Requests hand their decisions over a
//! bounded queue; when it is full the decisions are counted as dropped instead of
//! waiting. One writer, one `write_all` per batch of lines: lines are never torn or
//! interleaved.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::SystemTime;

use prometheus_client::metrics::counter::Counter;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::check::ir::Ir;

use super::store::Loaded;

/// Where the log goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard output (`-`).
    Stdout,
    /// A file, appended to.
    File(PathBuf),
}

/// How many messages (a single decision or a batch) the queue holds.
pub const QUEUE: usize = 8192;

/// One decision to log.
#[derive(Debug)]
pub struct Entry {
    /// Its id.
    pub decision_id: Uuid,
    /// Its terminal (`None`: failed closed).
    pub terminal: Option<usize>,
    /// The values of the policy's `--log-fields` facts, in [`Loaded::log_fields`] order.
    pub fields: Vec<i64>,
}

/// Decisions of one request.
#[derive(Debug)]
pub struct Message {
    /// The batch, for a batch request.
    pub batch_id: Option<Uuid>,
    /// When they were made.
    pub time: SystemTime,
    /// The policy revision that made them.
    pub policy: Arc<Loaded>,
    /// The decisions.
    pub entries: Vec<Entry>,
}

/// The sending side, kept by the server.
#[derive(Debug)]
pub struct DecisionLog {
    tx: SyncSender<Message>,
    dropped: Counter,
}

impl DecisionLog {
    /// Queue a request's decisions; counts them as dropped when the queue is full.
    pub fn send(&self, m: Message) {
        let n = m.entries.len() as u64;
        match self.tx.try_send(m) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.inc_by(n);
            }
        }
    }
}

/// Open the log and start its writer thread. The thread ends (after writing what is
/// queued) when every [`DecisionLog`] is dropped.
pub fn start(
    target: &LogTarget,
    dropped: Counter,
) -> std::io::Result<(DecisionLog, JoinHandle<()>)> {
    let out: Box<dyn Write + Send> = match target {
        LogTarget::Stdout => Box::new(std::io::stdout()),
        LogTarget::File(p) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)?,
        ),
    };
    let (tx, rx) = sync_channel(QUEUE);
    let handle = std::thread::Builder::new()
        .name("regain-decision-log".into())
        .spawn(move || write_loop(rx, out))?;
    Ok((DecisionLog { tx, dropped }, handle))
}

#[derive(Serialize)]
struct Line<'a> {
    decision_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_id: Option<Uuid>,
    timestamp: &'a str,
    policy: &'a str,
    revision: &'a str,
    decision: crate::DecisionKind,
    paths: Vec<&'a str>,
    denied_by: &'a [String],
    profile: Map<String, Value>,
}

fn value(ir: &Ir, fact: usize, v: i64) -> Value {
    match ir.facts.get(fact).map(|f| &f.ty) {
        Some(crate::check::ir::FactType::Bool) => Value::Bool(v != 0),
        Some(crate::check::ir::FactType::Enum(_)) => {
            Value::String(ir.facts.get(fact).map(|f| f.show(v)).unwrap_or_default())
        }
        _ => Value::from(v),
    }
}

fn render(m: &Message, buf: &mut Vec<u8>) {
    let timestamp = humantime::format_rfc3339_micros(m.time).to_string();
    let ir = m.policy.engine.policy().ir();
    let decisions = m.policy.engine.graph().decisions();
    let fail = crate::Decision::fail_closed();
    for e in &m.entries {
        let d = e.terminal.and_then(|i| decisions.get(i)).unwrap_or(&fail);
        let mut profile = Map::new();
        for (f, v) in m.policy.log_fields.iter().zip(&e.fields) {
            if let Some(fact) = ir.facts.get(*f) {
                profile.insert(fact.name.clone(), value(ir, *f, *v));
            }
        }
        let line = Line {
            decision_id: e.decision_id,
            batch_id: m.batch_id,
            timestamp: &timestamp,
            policy: &m.policy.name,
            revision: &m.policy.revision,
            decision: d.kind(),
            paths: d.path_names(),
            denied_by: d.denied_by(),
            profile,
        };
        if serde_json::to_writer(&mut *buf, &line).is_ok() {
            buf.push(b'\n');
        }
    }
}

fn write_loop(rx: Receiver<Message>, mut out: Box<dyn Write + Send>) {
    let mut buf = Vec::with_capacity(1 << 16);
    while let Ok(m) = rx.recv() {
        render(&m, &mut buf);
        // Take whatever else is queued, then write it in one go.
        loop {
            if buf.len() > 1 << 20 {
                break;
            }
            match rx.try_recv() {
                Ok(m) => render(&m, &mut buf),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if out.write_all(&buf).and_then(|()| out.flush()).is_err() {
            // The log cannot be written (disk full, closed pipe): keep draining so
            // decisions never wait on it.
        }
        buf.clear();
    }
    let _ = out.flush();
}
