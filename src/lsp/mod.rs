//! `regain lsp`: the language server (design/editor.md) over stdio, on rust-analyzer's
//! `lsp-server` framework. Everything it says comes from the library: the checker's
//! diagnostics, the formatter, the analyser's shares (on a worker thread, bounded by a
//! node limit), and the syntax tree's spans for navigation.
//!
//! Every request is answered; a handler that panics (it should not) is caught at the
//! dispatcher and answered with an internal error, and the server goes on. A malformed
//! message is answered with a parse error and skipped (see `transport`).

mod features;
mod lens;
mod lex;
mod model;
mod text;
mod transport;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::{
    CodeActionParams, CodeActionProviderCapability, CodeLensOptions, CodeLensParams,
    CompletionOptions, CompletionParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, DocumentSymbolParams,
    DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse, HoverParams,
    HoverProviderCapability, InitializeParams, OneOf, PrepareRenameResponse,
    PublishDiagnosticsParams, ReferenceParams, RenameOptions, RenameParams, ServerCapabilities,
    ServerInfo, TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};
use serde_json::Value;

use features::Doc;
use lens::Analyser;

/// How long a request waits for the analyser before answering without its shares.
const LENS_WAIT: Duration = Duration::from_secs(3);
const HOVER_WAIT: Duration = Duration::from_millis(500);

/// Run the server on stdin/stdout until `exit`; returns the process exit code (0 after
/// `shutdown` then `exit`, 1 otherwise).
pub fn run() -> i32 {
    let (connection, writer) = transport::stdio();
    let code = match serve(&connection) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("regain lsp: {e}");
            1
        }
    };
    drop(connection);
    writer.join();
    code
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(
            TextDocumentSyncKind::INCREMENTAL,
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                [" ", "=", "[", "(", ",", ":", "."]
                    .map(String::from)
                    .to_vec(),
            ),
            ..Default::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        ..Default::default()
    }
}

struct Server<'c> {
    conn: &'c Connection,
    docs: HashMap<Uri, Doc>,
    analyser: Analyser,
    shutdown: bool,
}

fn serve(conn: &Connection) -> Result<i32, String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let init = serde_json::json!({
        "capabilities": caps,
        "serverInfo": ServerInfo { name: "regain".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    let (id, params) = conn.initialize_start().map_err(|e| e.to_string())?;
    conn.initialize_finish(id, init)
        .map_err(|e| e.to_string())?;
    let params: Option<InitializeParams> = serde_json::from_value(params).ok();
    let refresh = params
        .as_ref()
        .and_then(|p| p.capabilities.workspace.as_ref())
        .and_then(|w| w.code_lens.as_ref())
        .and_then(|c| c.refresh_support)
        .unwrap_or(false);

    // After each analysis, ask the client to fetch the lenses again (when it can).
    // The worker's sender is dropped when the loop ends, so that the writer thread of
    // the connection can finish.
    let sender = Arc::new(Mutex::new(Some(conn.sender.clone())));
    let worker_sender = sender.clone();
    let next_id = Arc::new(AtomicU64::new(1));
    let alive = Arc::new(AtomicBool::new(true));
    let alive_worker = alive.clone();
    let analyser = Analyser::start(move |_uri| {
        if refresh && alive_worker.load(Ordering::Relaxed) {
            let n = next_id.fetch_add(1, Ordering::Relaxed);
            let req = Request::new(
                RequestId::from(format!("regain-lens-refresh-{n}")),
                "workspace/codeLens/refresh".into(),
                Value::Null,
            );
            if let Some(s) = worker_sender.lock().ok().as_ref().and_then(|g| g.as_ref()) {
                let _ = s.send(req.into());
            }
        }
    });
    let mut server = Server {
        conn,
        docs: HashMap::new(),
        analyser,
        shutdown: false,
    };
    let code = loop {
        let Ok(msg) = conn.receiver.recv() else {
            break 1;
        };
        match msg {
            Message::Request(req) => {
                let id = req.id.clone();
                let resp =
                    catch_unwind(AssertUnwindSafe(|| server.request(req))).unwrap_or_else(|_| {
                        Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            "internal error in regain lsp (please report it)".into(),
                        )
                    });
                if conn.sender.send(resp.into()).is_err() {
                    break 1;
                }
            }
            Message::Notification(n) => {
                if n.method == "exit" {
                    break if server.shutdown { 0 } else { 1 };
                }
                let method = n.method.clone();
                if catch_unwind(AssertUnwindSafe(|| server.notification(n))).is_err() {
                    eprintln!("regain lsp: internal error handling `{method}`");
                }
            }
            Message::Response(_) => {}
        }
    };
    alive.store(false, Ordering::Relaxed);
    if let Ok(mut s) = sender.lock() {
        s.take();
    }
    Ok(code)
}

type Answer = Result<Value, (ErrorCode, String)>;

fn params<P: serde::de::DeserializeOwned>(v: Value) -> Result<P, (ErrorCode, String)> {
    serde_json::from_value(v).map_err(|e| (ErrorCode::InvalidParams, e.to_string()))
}

fn json(v: impl serde::Serialize) -> Answer {
    serde_json::to_value(v).map_err(|e| (ErrorCode::InternalError, e.to_string()))
}

impl Server<'_> {
    fn doc(&self, uri: &Uri) -> Result<&Doc, (ErrorCode, String)> {
        self.docs.get(uri).ok_or_else(|| {
            (
                ErrorCode::InvalidParams,
                format!("unknown document `{}`: open it first", uri.as_str()),
            )
        })
    }

    fn at(&self, p: &TextDocumentPositionParams) -> Result<(&Doc, usize), (ErrorCode, String)> {
        let doc = self.doc(&p.text_document.uri)?;
        Ok((doc, doc.offset(p.position)))
    }

    /// The analyser's answer for a document: for this version when it checks (waiting
    /// at most `wait`), else (or until it is ready) the last version that checked.
    fn shares(&self, doc: &Doc, wait: Duration) -> Option<lens::Answer> {
        doc.model
            .policy
            .is_some()
            .then(|| self.analyser.answer(&doc.uri, doc.version, wait))
            .flatten()
            .or_else(|| self.analyser.latest(&doc.uri))
    }

    fn request(&mut self, req: Request) -> Response {
        let id = req.id.clone();
        let answer = if self.shutdown {
            Err((
                ErrorCode::InvalidRequest,
                "the server is shutting down".into(),
            ))
        } else {
            self.answer(req)
        };
        match answer {
            Ok(v) => Response::new_ok(id, v),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    fn answer(&mut self, req: Request) -> Answer {
        match req.method.as_str() {
            "shutdown" => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => {
                let p: HoverParams = params(req.params)?;
                let (doc, off) = self.at(&p.text_document_position_params)?;
                let answer = self.shares(doc, HOVER_WAIT);
                json(features::hover(doc, off, answer.as_ref()))
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = params(req.params)?;
                let (doc, off) = self.at(&p.text_document_position_params)?;
                json(features::definition(doc, off).map(GotoDefinitionResponse::Scalar))
            }
            "textDocument/references" => {
                let p: ReferenceParams = params(req.params)?;
                let (doc, off) = self.at(&p.text_document_position)?;
                json(features::references(
                    doc,
                    off,
                    p.context.include_declaration,
                ))
            }
            "textDocument/prepareRename" => {
                let p: TextDocumentPositionParams = params(req.params)?;
                let (doc, off) = self.at(&p)?;
                match features::prepare_rename(doc, off) {
                    Ok(r) => json(PrepareRenameResponse::Range(r)),
                    Err(e) => Err((ErrorCode::RequestFailed, e)),
                }
            }
            "textDocument/rename" => {
                let p: RenameParams = params(req.params)?;
                let (doc, off) = self.at(&p.text_document_position)?;
                features::rename(doc, off, &p.new_name)
                    .map_err(|e| (ErrorCode::RequestFailed, e))
                    .and_then(json)
            }
            "textDocument/completion" => {
                let p: CompletionParams = params(req.params)?;
                let (doc, off) = self.at(&p.text_document_position)?;
                json(features::completion(doc, off))
            }
            "textDocument/formatting" => {
                let p: DocumentFormattingParams = params(req.params)?;
                json(features::formatting(self.doc(&p.text_document.uri)?))
            }
            "textDocument/documentSymbol" => {
                let p: DocumentSymbolParams = params(req.params)?;
                let doc = self.doc(&p.text_document.uri)?;
                json(DocumentSymbolResponse::Nested(features::symbols(doc)))
            }
            "textDocument/codeAction" => {
                let p: CodeActionParams = params(req.params)?;
                let doc = self.doc(&p.text_document.uri)?;
                json(features::code_actions(doc, p.range))
            }
            "textDocument/codeLens" => {
                let p: CodeLensParams = params(req.params)?;
                let doc = self.doc(&p.text_document.uri)?;
                let answer = self.shares(doc, LENS_WAIT);
                json(features::code_lenses(doc, answer.as_ref()))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("regain lsp does not handle `{other}`"),
            )),
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) {
                    let d = p.text_document;
                    self.update(Doc::new(d.uri, d.version, d.text));
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    let Some(old) = self.docs.remove(&uri) else {
                        return;
                    };
                    let mut text = old.text;
                    for change in &p.content_changes {
                        text::apply_change(&mut text, change);
                    }
                    self.update(Doc::new(uri, p.text_document.version, text));
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params) {
                    let uri = p.text_document.uri;
                    self.docs.remove(&uri);
                    self.analyser.forget(&uri);
                    self.publish(uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    fn update(&mut self, doc: Doc) {
        let diags = features::diagnostics(&doc);
        if let Some(policy) = &doc.model.policy {
            self.analyser
                .submit(doc.uri.clone(), doc.version, policy.clone());
        }
        self.publish(doc.uri.clone(), diags, Some(doc.version));
        self.docs.insert(doc.uri.clone(), doc);
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        let _ = self
            .conn
            .sender
            .send(Notification::new("textDocument/publishDiagnostics".into(), params).into());
    }
}
