// The regain extension's client: starts `regain lsp` (from PATH, or the
// `regain.server.path` setting) for .regain files. Plain JavaScript, no build step.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("regain").get("server.path") || "regain";
  const server = { command, args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient(
    "regain",
    "regain language server",
    { run: server, debug: server },
    { documentSelector: [{ language: "regain" }] }
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
