// Tokenizes every shipped policy (policies/*.regain) with the extension's TextMate
// grammar through vscode-textmate + vscode-oniguruma (the engine VS Code uses) and
// checks the scopes of keywords, comments, strings, durations, numbers, operators and
// declared names. Run: `npm install && npm test` in editors/vscode.
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const GRAMMAR = path.resolve(__dirname, "..", "syntaxes", "regain.tmLanguage.json");
const KEYWORDS = new Set(
  ("policy facts methods deny path when steps then grants wait notify any of requires " +
    "restricted and or not in true false bool int knowledge possession inherence document human").split(" ")
);

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (p) => new oniguruma.OnigScanner(p),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === "source.regain"
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR)
        : null,
  });
  return registry.loadGrammar("source.regain");
}

/** Tokenize a whole text: per line, the grammar's tokens with their scopes. */
function tokenize(grammar, text) {
  let state = vsctm.INITIAL;
  return text.split(/\r?\n/).map((line) => {
    const r = grammar.tokenizeLine(line, state);
    state = r.ruleStack;
    return { line, tokens: r.tokens };
  });
}

function scopesAt(tokens, i) {
  const t = tokens.find((t) => t.startIndex <= i && i < t.endIndex);
  return t ? t.scopes : [];
}

const LEX = /#.*$|"(?:[^"\\]|\\.)*"?|-?\d+[smhd](?![\w.])|-?\d+(?:\.\.-?\d+)?|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|==|!=|<=|>=|\S/g;

/** What each lexical class must be scoped as. */
function expected(word) {
  if (word.startsWith("#")) return "comment.line.number-sign.regain";
  if (word.startsWith('"')) return "string.quoted.double.regain";
  if (KEYWORDS.has(word)) return "keyword.";
  if (/^-?\d+[smhd]$/.test(word)) return "constant.numeric.duration.regain";
  if (/^-?\d+/.test(word)) return "constant.numeric.integer.regain";
  if (/^(==|!=|<=|>=|<|>)$/.test(word)) return "keyword.operator.comparison.regain";
  return null;
}

const policies = fs
  .readdirSync(path.join(ROOT, "policies"))
  .filter((f) => f.endsWith(".regain"))
  .map((f) => path.join(ROOT, "policies", f));

test("there are shipped policies to tokenize", () => {
  assert.ok(policies.length >= 3, `found ${policies.length}`);
});

for (const file of policies) {
  test(`grammar scopes ${path.basename(file)}`, async () => {
    const grammar = await loadGrammar();
    const lines = tokenize(grammar, fs.readFileSync(file, "utf8"));
    const counts = { keyword: 0, comment: 0, string: 0, duration: 0, number: 0 };
    lines.forEach(({ line, tokens }, n) => {
      assert.ok(tokens.length > 0 || line === "", `line ${n + 1} produced no tokens`);
      for (const m of line.matchAll(LEX)) {
        const want = expected(m[0]);
        if (!want) continue;
        const scopes = scopesAt(tokens, m.index);
        assert.ok(
          scopes.some((s) => s.startsWith(want)),
          `${path.basename(file)}:${n + 1}:${m.index + 1}: \`${m[0]}\` has scopes ${scopes.join(" ")}, expected ${want}`
        );
        if (want === "keyword.") counts.keyword++;
        else if (want.startsWith("comment")) counts.comment++;
        else if (want.startsWith("string")) counts.string++;
        else if (want.includes("duration")) counts.duration++;
        else counts.number++;
      }
    });
    assert.ok(counts.keyword > 10, `keywords checked: ${counts.keyword}`);
    assert.ok(counts.comment > 0, `comments checked: ${counts.comment}`);
  });
}

test("declared names, operators and escapes get their scopes", async () => {
  const grammar = await loadGrammar();
  const src = [
    "policy demo # a comment",
    "facts { phone.active: bool  risk: low | high  n: int 0..5 = 2 }",
    "methods { sms: possession restricted requires phone.active and n >= 2 }",
    'deny "say \\"no\\"" when risk == high',
    'path p "Título ✓" { steps any 1 of (sms) then sms wait 48h notify sms }',
  ].join("\n");
  const lines = tokenize(grammar, src);
  const at = (ln, needle, k = 0) => {
    const { line, tokens } = lines[ln];
    let i = -1;
    for (let j = 0; j <= k; j++) i = line.indexOf(needle, i + 1);
    assert.ok(i >= 0, `${needle} not on line ${ln}`);
    return scopesAt(tokens, i).join(" ");
  };
  assert.match(at(0, "demo"), /entity\.name\.namespace/);
  assert.match(at(0, "#"), /comment\.line/);
  assert.match(at(1, "phone.active"), /variable\.other\.fact\.declaration/);
  assert.match(at(1, "risk"), /variable\.other\.fact\.declaration/);
  assert.match(at(1, ".."), /keyword\.operator\.range/);
  assert.match(at(1, "="), /keyword\.operator\.assignment/);
  assert.match(at(2, "sms"), /entity\.name\.function\.method/);
  assert.match(at(2, "possession"), /keyword\.other\.factor/);
  assert.match(at(2, "phone.active"), /variable\.other\.fact/);
  assert.match(at(2, ">="), /keyword\.operator\.comparison/);
  assert.match(at(3, '\\"'), /constant\.character\.escape/);
  assert.match(at(3, "=="), /keyword\.operator\.comparison/);
  assert.match(at(4, "p "), /entity\.name\.type\.path/);
  assert.match(at(4, "✓"), /string\.quoted/);
  assert.match(at(4, "sms"), /entity\.name\.function\.method/);
  assert.match(at(4, "48h"), /constant\.numeric\.duration/);
  assert.match(at(4, "sms", 2), /entity\.name\.function\.method/);
});
