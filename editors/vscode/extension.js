// The regain extension's client: starts `regain lsp` (from PATH, or the
// `regain.server.path` setting) for .regain files. Plain JavaScript, no build step;
// `npm run check` type-checks it against the VS Code API it declares in package.json.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

/** @type {LanguageClient | undefined} */
let client;

/** @param {vscode.ExtensionContext} context */
function activate(context) {
  const command = vscode.workspace.getConfiguration("regain").get("server.path") || "regain";
  /** @type {import("vscode-languageclient/node").Executable} */
  const server = { command: String(command), args: ["lsp"], transport: TransportKind.stdio };
  const started = new LanguageClient(
    "regain",
    "regain language server",
    { run: server, debug: server },
    { documentSelector: [{ language: "regain" }] }
  );
  client = started;
  context.subscriptions.push({ dispose: () => started.stop() });
  return started.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
