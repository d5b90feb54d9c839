// The server as the extension starts it: `regain lsp --stdio` (vscode-languageclient
// appends `--stdio` for a stdio transport), driven by vscode-jsonrpc, the JSON-RPC
// library VS Code's client is built on. Needs `regain` on PATH (or REGAIN_BIN); run by
// `npm run test:server` (.ci/lsp.sh does, with the freshly built binary).
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const cp = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const rpc = require("vscode-jsonrpc/node");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const BIN = process.env.REGAIN_BIN || "regain";

test("regain lsp --stdio answers the VS Code client's protocol", async () => {
  const proc = cp.spawn(BIN, ["lsp", "--stdio"], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  const conn = rpc.createMessageConnection(
    new rpc.StreamMessageReader(proc.stdout),
    new rpc.StreamMessageWriter(proc.stdin)
  );
  const published = new Map();
  const waiters = [];
  conn.onNotification("textDocument/publishDiagnostics", (p) => {
    published.set(`${p.uri}@${p.version}`, p.diagnostics);
    waiters.splice(0).forEach((w) => w());
  });
  const diagnostics = async (uri, version) => {
    const key = `${uri}@${version}`;
    while (!published.has(key)) await new Promise((r) => waiters.push(r));
    return published.get(key);
  };
  conn.listen();

  const init = await conn.sendRequest("initialize", {
    processId: process.pid,
    rootUri: null,
    capabilities: {
      general: { positionEncodings: ["utf-16"] },
      textDocument: { hover: { contentFormat: ["markdown", "plaintext"] } },
      workspace: { codeLens: { refreshSupport: true } },
    },
  });
  assert.strictEqual(init.serverInfo.name, "regain");
  assert.strictEqual(init.capabilities.textDocumentSync, 2);
  conn.onRequest("workspace/codeLens/refresh", () => null);
  await conn.sendNotification("initialized", {});

  const uri = "file:///tmp/vscode-client/alipay.regain";
  const src = fs.readFileSync(path.join(ROOT, "policies", "alipay.regain"), "utf8");
  const text = src.replace("deny \"account is frozen\" when account.frozen", "deny \"gelé 😀\" when account.frozn");
  await conn.sendNotification("textDocument/didOpen", {
    textDocument: { uri, languageId: "regain", version: 1, text },
  });
  const diags = await diagnostics(uri, 1);
  const unknown = diags.find((d) => d.code === "E0003");
  assert.ok(unknown, JSON.stringify(diags));
  const lines = text.split("\n");
  const line = lines.findIndex((l) => l.includes("account.frozn"));
  // UTF-16 columns: JavaScript strings count in UTF-16 units too.
  const col = lines[line].indexOf("account.frozn");
  assert.deepStrictEqual(unknown.range, {
    start: { line, character: col },
    end: { line, character: col + "account.frozn".length },
  });
  assert.strictEqual(unknown.relatedInformation[0].message, "help: did you mean `account.frozen`?");

  const at = (needle) => {
    const l = lines.findIndex((x) => x.includes(needle));
    return { line: l, character: lines[l].indexOf(needle) };
  };
  const hover = await conn.sendRequest("textDocument/hover", {
    textDocument: { uri },
    position: at("sms_code then"),
  });
  assert.match(hover.contents.value, /sms_code: possession restricted/);
  const actions = await conn.sendRequest("textDocument/codeAction", {
    textDocument: { uri },
    range: unknown.range,
    context: { diagnostics: [unknown] },
  });
  assert.strictEqual(actions[0].title, "Replace with `account.frozen`");
  assert.strictEqual(actions[0].edit.changes[uri][0].newText, "account.frozen");

  await conn.sendNotification("textDocument/didChange", {
    textDocument: { uri, version: 2 },
    contentChanges: [{ range: unknown.range, text: "account.frozen" }],
  });
  assert.ok((await diagnostics(uri, 2)).every((d) => d.severity !== 1));
  const lenses = await conn.sendRequest("textDocument/codeLens", { textDocument: { uri } });
  assert.match(lenses[0].command.title, /^allow \d+\.\d% · deny \d+\.\d% · lockout \d+\.\d%$/);

  await conn.sendRequest("shutdown");
  await conn.sendNotification("exit");
  assert.strictEqual(await exited, 0);
  conn.dispose();
});
