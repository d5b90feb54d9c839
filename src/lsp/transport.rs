//! The stdio transport: `lsp-server`'s connection, framing and messages
//! ([`Message::read`], [`Message::write`]) on our own reader and writer threads, because
//! its stock stdio transport ends the connection at the first malformed message (bad
//! JSON, bad UTF-8, a broken header) and the server must not stop answering. A
//! malformed message is answered with a JSON-RPC parse error (`id: null`) and skipped;
//! the connection goes on with the next message. Only the end of input, `exit`, or a
//! failed read or write ends it.

use std::io::{self, BufRead, Write};
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, ErrorCode, Message};

/// The writer thread, to join so that every queued message is written before exiting.
pub struct Writer(Option<JoinHandle<()>>);

impl Writer {
    /// Wait until the writer has written everything (all senders are dropped).
    pub fn join(self) {
        if let Some(h) = self.0 {
            let _ = h.join();
        }
    }
}

/// A connection over stdin/stdout. The reader thread is not joined: it may be blocked on
/// stdin when the server ends (e.g. after a failed initialization), and ends with the
/// process.
pub fn stdio() -> (Connection, Writer) {
    let (server, client) = Connection::memory();
    let Connection {
        sender: to_server,
        receiver: from_server,
    } = client;
    let writer = thread::Builder::new()
        .name("regain-lsp-writer".into())
        .spawn(move || {
            for msg in from_server.iter() {
                let mut out = io::stdout().lock();
                if msg.write(&mut out).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| eprintln!("regain lsp: cannot start the writer thread: {e}"))
        .ok();
    let reader = thread::Builder::new()
        .name("regain-lsp-reader".into())
        .spawn(move || {
            read_loop(
                io::stdin().lock(),
                |msg| to_server.send(msg).is_ok(),
                |frame| {
                    let mut out = io::stdout().lock();
                    out.write_all(frame)?;
                    out.flush()
                },
            )
        });
    if let Err(e) = reader {
        eprintln!("regain lsp: cannot start the reader thread: {e}");
    }
    (server, Writer(writer))
}

/// The frame of a JSON-RPC parse error (`id: null`; `lsp-server`'s ids cannot be null).
pub fn parse_error_frame(message: &str) -> String {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": ErrorCode::ParseError as i32, "message": message },
    })
    .to_string();
    format!("Content-Length: {}\r\n\r\n{body}", body.len())
}

/// Read messages from `input` and hand each to `deliver` (false: stop) until the end
/// of input, `exit`, or a failed read; answer malformed messages with `answer` and go on.
pub fn read_loop(
    mut input: impl BufRead,
    mut deliver: impl FnMut(Message) -> bool,
    answer: impl Fn(&[u8]) -> io::Result<()>,
) {
    loop {
        match Message::read(&mut input) {
            Ok(Some(msg)) => {
                let exit = matches!(&msg, Message::Notification(n) if n.method == "exit");
                if !deliver(msg) || exit {
                    return;
                }
            }
            Ok(None) => return,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                let why = format!("malformed message skipped: {e}");
                eprintln!("regain lsp: {why}");
                if answer(parse_error_frame(&why).as_bytes()).is_err() {
                    return;
                }
            }
            Err(e) => {
                eprintln!("regain lsp: reading stdin: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut f = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        f.extend_from_slice(body);
        f
    }

    #[test]
    fn malformed_messages_are_answered_and_skipped() {
        let mut input = Vec::new();
        input.extend(frame(b"{bad json"));
        input.extend(frame(b"\xff\xfe"));
        input.extend(b"Garbage-Header\r\n\r\n");
        input.extend(frame(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","method":"exit"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":2,"method":"never read"}"#));
        let got = RefCell::new(Vec::new());
        let answers = RefCell::new(Vec::new());
        read_loop(
            input.as_slice(),
            |m| {
                got.borrow_mut().push(m);
                true
            },
            |f| {
                answers
                    .borrow_mut()
                    .push(String::from_utf8_lossy(f).into_owned());
                Ok(())
            },
        );
        let got = got.into_inner();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(matches!(&got[0], Message::Request(r) if r.method == "shutdown"));
        assert!(matches!(&got[1], Message::Notification(n) if n.method == "exit"));
        let answers = answers.into_inner();
        // Bad JSON, bad UTF-8, then the broken header twice: its line, then the blank
        // line that ends a header without a Content-Length.
        assert_eq!(answers.len(), 4, "{answers:?}");
        for a in &answers {
            let (head, body) = a.split_once("\r\n\r\n").unwrap();
            assert_eq!(head, format!("Content-Length: {}", body.len()));
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(v["id"], serde_json::Value::Null);
            assert_eq!(v["error"]["code"], -32700);
        }
    }
}
