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

fn value(ir: &Ir, fact: usize, v: i64) -> Value {
    match ir.facts.get(fact).map(|f| &f.ty) {
        Some(crate::check::ir::FactType::Bool) => Value::Bool(v != 0),
        Some(crate::check::ir::FactType::Enum(_)) => {
            Value::String(ir.facts.get(fact).map(|f| f.show(v)).unwrap_or_default())
        }
        _ => Value::from(v),
    }
}

fn push_id(buf: &mut Vec<u8>, key: &str, id: Uuid) {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    buf.extend_from_slice(key.as_bytes());
    buf.push(b'"');
    buf.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
    buf.push(b'"');
}

/// The lines of a message: `{"decision_id", "batch_id"?, "timestamp", "policy",
/// "revision", "decision", "paths", "denied_by", "profile"}`. What a decision
/// contributes (decision, paths, deny rules) and the policy's fields were rendered once
/// when the policy loaded; a line writes its ids, the time and the asked facts.
fn render(m: &Message, buf: &mut Vec<u8>) {
    let timestamp = humantime::format_rfc3339_micros(m.time).to_string();
    let ir = m.policy.engine.policy().ir();
    for e in &m.entries {
        push_id(buf, "{\"decision_id\":", e.decision_id);
        if let Some(b) = m.batch_id {
            push_id(buf, ",\"batch_id\":", b);
        }
        buf.extend_from_slice(b",\"timestamp\":\"");
        buf.extend_from_slice(timestamp.as_bytes());
        buf.extend_from_slice(b"\",");
        buf.extend_from_slice(m.policy.log_head.as_bytes());
        buf.push(b',');
        buf.extend_from_slice(m.policy.log_fragment(e.terminal).as_bytes());
        buf.extend_from_slice(b",\"profile\":");
        let mut profile = Map::new();
        for (f, v) in m.policy.log_fields.iter().zip(&e.fields) {
            if let Some(fact) = ir.facts.get(*f) {
                profile.insert(fact.name.clone(), value(ir, *f, *v));
            }
        }
        if serde_json::to_writer(&mut *buf, &profile).is_err() {
            buf.extend_from_slice(b"{}");
        }
        buf.extend_from_slice(b"}\n");
    }
}

/// While decisions keep coming, how long the writer sleeps between two writes.
const BUSY_PAUSE: std::time::Duration = std::time::Duration::from_millis(2);

/// Write what is queued. Idle, the writer waits on the queue; once a message wakes it,
/// it drains the queue every [`BUSY_PAUSE`] until a pause finds nothing new. A writer
/// blocked on the queue would be woken by every decision — a system call and a context
/// switch per decision on the request path — where a sleeping one costs senders
/// nothing.
fn write_loop(rx: Receiver<Message>, mut out: Box<dyn Write + Send>) {
    let mut buf = Vec::with_capacity(1 << 16);
    let mut write = |buf: &mut Vec<u8>| {
        if !buf.is_empty() && out.write_all(buf).and_then(|()| out.flush()).is_err() {
            // The log cannot be written (disk full, closed pipe): keep draining so
            // decisions never wait on it.
        }
        buf.clear();
    };
    while let Ok(m) = rx.recv() {
        render(&m, &mut buf);
        loop {
            // Take whatever else is queued, then write it in one go.
            let (mut open, mut drained) = (true, false);
            while buf.len() <= 1 << 20 {
                match rx.try_recv() {
                    Ok(m) => render(&m, &mut buf),
                    Err(TryRecvError::Empty) => {
                        drained = true;
                        break;
                    }
                    Err(TryRecvError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
            write(&mut buf);
            if !open {
                return;
            }
            if !drained {
                continue; // more is queued: write it without pausing
            }
            std::thread::sleep(BUSY_PAUSE);
            match rx.try_recv() {
                Ok(m) => render(&m, &mut buf),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
    }
}
