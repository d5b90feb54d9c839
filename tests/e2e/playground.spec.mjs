// The playground in a real browser, against a running `regain playground` (REGAIN_URL):
// a typo typed in the editor gives its diagnostic with its code on its line, typing the
// fix brings back the shares (equal to `regain analyze`'s) and the graph, profiles are
// decided as `regain eval` decides them, a simulation draws its charts from the same
// JSON as `regain simulate`, and the share link reproduces the page in a fresh browser.
// Also keyboard use, axe-core's WCAG A/AA rules, and no request leaving the server.
// Screenshots at 1280×800: docs/img/playground.png, playground-diagnostic.png,
// playground-analysis.png, playground-graph.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, watchedPage, shot, regain, accessibility, ROOT, URL } from "./lib.mjs";

const SOURCE = readFileSync(join(ROOT, "policies/alipay.regain"), "utf8");
const MODEL = readFileSync(join(ROOT, "policies/alipay.model.yaml"), "utf8");
const BANK = readFileSync(join(ROOT, "policies/bank.regain"), "utf8");
// The line of alipay.regain where `sms_code then` is (the sms path's steps).
const TYPO_LINE = SOURCE.split("\n").findIndex((l) => l.includes("steps sms_code then")) + 1;
const SEED = {
  phone: { bound: true, active: false, sim_changed_days: 400, owner_verified: true },
  device: { trusted: false },
  email: { bound: true, verified: true, changed_days: 900 },
  questions: { set: 3 }, identity: { verified: true }, bank_card: { bound: true },
  account: { risk: "low" },
};
const PROFILES = {
  allow: SEED,
  deny: { ...SEED, account: { risk: "low", frozen: true } },
  lockout: {
    ...SEED, phone: { bound: false, active: false, sim_changed_days: 400, owner_verified: false },
    email: { bound: false, verified: false, changed_days: 0 }, questions: { set: 0 },
    identity: { verified: false }, bank_card: { bound: false },
  },
};
const TRIALS = 20000;
const SIM_SEED = 7;

let browser, page, errors, requests, tmp;
const origin = () => new globalThis.URL(URL).origin;
const ready = (p = page) => p.evaluate(() => window.regain.ready());
const offOrigin = (reqs) => reqs.filter((r) => !r.startsWith(origin() + "/") && !r.startsWith("data:"));
const cliJson = (args) => JSON.parse(regain([...args, "--format", "json"]));

before(async () => {
  assert.ok(URL, "REGAIN_URL is set to a running `regain playground`");
  tmp = mkdtempSync(join(tmpdir(), "regain-playground-"));
  browser = await launch();
  ({ page, errors, requests } = await watchedPage(browser.context));
  await page.goto(URL, { waitUntil: "load" });
  await page.waitForFunction(() => window.regain && typeof window.regain.ready === "function");
  await ready();
});
after(async () => {
  await browser.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function shares(p = page) {
  return p.$$eval('[data-testid="shares"] [data-decision]', (xs) =>
    Object.fromEntries(xs.map((x) => [x.dataset.decision, Number(x.dataset.share)])));
}
async function offered(p = page) {
  return p.$$eval('[data-testid="paths"] [data-path]', (xs) => xs.map((x) => x.dataset.path));
}

test("the page starts with the seed example, checked, with labelled controls", async () => {
  const source = await page.inputValue('[data-testid="source"]');
  assert.equal(source, SOURCE, "the seed example is the shipped alipay.regain");
  assert.equal(await page.locator('[data-testid="diagnostics"] > *').count(), 0);
  assert.match(await page.locator('[data-testid="decision"]').innerText(), /^allow/);
  for (const id of ["source", "profile", "model", "share-link"]) {
    const label = await page.locator(`[data-testid="${id}"]`).evaluate((e) =>
      e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].textContent) || "");
    assert.ok(label.trim().length > 0, `${id} has a label`);
  }
  assert.deepEqual(offOrigin(requests), [], "no request leaves the server");
});

test("a typo typed in the editor gives its diagnostic, with its code, on its line", async () => {
  const editor = page.locator('[data-testid="source"]');
  // Put the caret right after `sms_code` on its line and delete the `e`, as a user would.
  await editor.focus();
  await editor.evaluate((ta, line) => {
    const lines = ta.value.split("\n");
    let pos = 0;
    for (let i = 0; i < line - 1; i++) pos += lines[i].length + 1;
    pos += lines[line - 1].indexOf("sms_code") + "sms_code".length;
    ta.setSelectionRange(pos, pos);
  }, TYPO_LINE);
  await page.keyboard.press("Backspace");
  await ready();
  const typo = SOURCE.split("\n").map((l, i) => (i === TYPO_LINE - 1 ? l.replace("sms_code then", "sms_cod then") : l)).join("\n");
  assert.equal(await editor.inputValue(), typo);
  // The CLI's diagnostic for the same text: the page shows the same code on the same line.
  const file = join(tmp, "typo.regain");
  writeFileSync(file, typo);
  const cli = JSON.parse(regain(["check", file, "--format", "json"], [0, 1]));
  const cliDiags = (cli.diagnostics || cli.files?.[0]?.diagnostics || []).filter((d) => d.severity === "error");
  assert.ok(cliDiags.length >= 1, `the CLI reports the typo: ${JSON.stringify(cli).slice(0, 300)}`);
  const shown = await page.$$eval('[data-testid="diagnostics"] > *', (xs) => xs.map((x) => [x.dataset.code, Number(x.dataset.line)]));
  assert.deepEqual(shown, cliDiags.map((d) => [d.code, d.location?.line ?? d.line]));
  assert.deepEqual(shown, [["E0005", TYPO_LINE]]);
  const diag = page.locator('[data-testid="diagnostics"] [data-code="E0005"]');
  assert.match(await diag.innerText(), /sms_cod/);
  // The line is marked in the gutter and behind the text; the results say they are stale.
  assert.equal(await page.locator("#gutter div").nth(TYPO_LINE - 1).getAttribute("class"), "err");
  assert.equal(await page.locator("#backdrop div").nth(TYPO_LINE - 1).getAttribute("class"), "err");
  assert.equal(await page.isVisible("#stale-note"), true);
  // Scroll the editor so the marked line sits in the middle, as one would to read it.
  await editor.evaluate((ta, line) => { ta.scrollTop = (line - 12) * 20; ta.dispatchEvent(new Event("scroll")); }, TYPO_LINE);
  await page.screenshot({ path: shot("playground-diagnostic.png") });
});

test("typing the fix clears it and shows the shares of `regain analyze` and the graph", async () => {
  await page.keyboard.type("e");
  await ready();
  assert.equal(await page.inputValue('[data-testid="source"]'), SOURCE);
  assert.equal(await page.locator('[data-testid="diagnostics"] > *').count(), 0);
  assert.equal(await page.isVisible("#stale-note"), false);
  const cli = cliJson(["analyze", "policies/alipay.regain"]);
  assert.deepEqual(await shares(), cli.shares, "the shares are analyze's, to the last digit");
  await page.click("#tab-analysis");
  assert.equal(await page.locator("#lockout tbody tr").count(), cli.lockout.conditions.length);
  const conditions = await page.$$eval("#lockout tbody tr code", (xs) => xs.map((x) => x.textContent));
  assert.deepEqual(conditions, cli.lockout.conditions.map((c) => c.condition));
  const findings = await page.$$eval("#findings [data-code]", (xs) => xs.map((x) => [x.dataset.code, Number(x.dataset.line)]));
  assert.deepEqual(findings, cli.findings.map((f) => [f.code, f.line]));
  await page.screenshot({ path: shot("playground-analysis.png") });

  await page.click("#tab-graph");
  await ready();
  const svg = page.locator('[data-testid="graph"] svg');
  assert.equal(await svg.count(), 1);
  const box = await svg.boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100, "the graph is drawn");
  // alipay's decision graph has 225 nodes: the automatic view is the diagram.
  const labels = await page.$$eval('[data-testid="graph"] svg text', (xs) => xs.map((x) => x.textContent.trim()));
  assert.ok(labels.includes("account.frozen"), "the decision graph's nodes are facts");
  // The paths view, fitted to the panel's width.
  await page.check('input[name="view"][value="paths"]');
  await ready();
  await page.click("#zoom-fit");
  const fitted = await page.$eval('[data-testid="graph"]', (g) => [g.querySelector("svg").getBoundingClientRect().width, g.clientWidth]);
  assert.ok(fitted[0] <= fitted[1], `fitted: ${fitted}`);
  const pathLabels = await page.$$eval('[data-testid="graph"] svg text', (xs) => xs.map((x) => x.textContent.trim()));
  for (const p of ["path sms", "path unbind_phone", "path email", "path carrier", "path support"]) {
    assert.ok(pathLabels.includes(p), `${p} in the paths view`);
  }
  await page.click("#zoom-one");
  assert.equal(await page.locator("#zoom-level").innerText(), "100%");
  await page.screenshot({ path: shot("playground-graph.png") });
  await page.check('input[name="view"][value="auto"]');
  await ready();
});

test("profiles are decided as `regain eval` decides them, with the explanation", async () => {
  await page.click("#tab-decision");
  for (const [want, prof] of Object.entries(PROFILES)) {
    const text = JSON.stringify(prof, null, 2);
    await page.locator('[data-testid="profile"]').fill(text);
    await ready();
    const file = join(tmp, `${want}.json`);
    writeFileSync(file, text);
    const cli = cliJson(["eval", "policies/alipay.regain", "--profile", file, "--explain"]);
    assert.equal(cli.decision, want);
    const decision = await page.locator('[data-testid="decision"]').innerText();
    assert.ok(decision.startsWith(cli.decision), `${decision} starts with ${cli.decision}`);
    assert.deepEqual(await offered(), cli.paths.map((p) => p.name));
    if (want === "deny") assert.match(decision, /account is frozen/);
    const explained = await page.locator("#explain li").count();
    assert.equal(explained, cli.explain.denies.length + cli.explain.paths.length, "one line per deny rule and path");
  }
  // A profile that breaks the rules says why, and a good one brings the decision back.
  await page.evaluate(() => window.regain.setProfile('{"phone": {"active": "yes"}}'));
  await ready();
  assert.match(await page.locator("#profile-error").innerText(), /phone\.active|missing fact/);
  assert.equal(await page.locator('[data-testid="decision"]').innerText(), "");
  await page.evaluate((p) => window.regain.setProfile(p), JSON.stringify(SEED, null, 2));
  await ready();
  assert.match(await page.locator('[data-testid="decision"]').innerText(), /^allow/);
  assert.equal(await page.locator("#profile-error").innerText(), "");
});

test("a simulation draws its charts from the JSON of `regain simulate`", async () => {
  await page.evaluate((m) => window.regain.setModel(m), MODEL);
  await page.click("#tab-simulation");
  await page.fill("#trials", String(TRIALS));
  await page.fill("#seed", String(SIM_SEED));
  await page.click("#run-sim");
  await ready();
  const shown = JSON.parse(await page.locator("#sim-json").textContent());
  const cli = cliJson(["simulate", "policies/alipay.regain", "--trials", String(TRIALS), "--seed", String(SIM_SEED), "--quiet"]);
  assert.deepEqual(shown, cli, "the page's run is the CLI's run");
  assert.match(await page.locator(".sim-summary").innerText(), new RegExp(`^${TRIALS} trials, seed ${SIM_SEED}`));
  for (const k of ["recovered", "lockout", "failed"]) {
    const kpi = page.locator(`[data-kpi="${k}"]`);
    assert.equal(Number(await kpi.getAttribute("data-share")), cli.outcomes[k].share);
    assert.equal(await kpi.locator("b").innerText(), `${(cli.outcomes[k].share * 100).toFixed(2)}%`);
  }
  const charts = await page.$$eval('[data-testid="simulation"] svg', (svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    // Marks in a colour (not white, black or grey), filled or stroked.
    const chromatic = (c) => {
      const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(c || "");
      return !!m && !(m[1] === m[2] && m[2] === m[3]);
    };
    const filled = [...s.querySelectorAll("rect, polyline, path, line, circle")].filter((x) => {
      const st = getComputedStyle(x);
      return chromatic(st.fill) || chromatic(st.stroke);
    }).length;
    return { w: r.width, h: r.height, filled, title: s.querySelector("title")?.textContent || "", texts: s.querySelectorAll("text").length };
  }));
  assert.ok(charts.length >= 5, `charts (${charts.length})`);
  for (const c of charts) {
    assert.ok(c.w > 300 && c.h > 100, `chart ${c.title} has a size (${c.w}×${c.h})`);
    assert.ok(c.filled >= 2, `chart ${c.title} draws coloured marks (${c.filled})`);
    assert.ok(c.texts >= 5, `chart ${c.title} has labels`);
  }
  const titles = charts.map((c) => c.title).join(" | ");
  for (const t of ["Outcomes for the account owner", "Outcomes per segment", "Recovered, by path", "Time to recover", "Takeover"]) {
    assert.ok(titles.includes(t), `${t} in ${titles}`);
  }
  // The charts keep their own fonts and colours (the graph's styles do not leak).
  const font = await page.$eval('[data-testid="simulation"] svg text', (t) => getComputedStyle(t).fontFamily);
  assert.doesNotMatch(font, /Mono/);
  await page.evaluate(() => { document.getElementById("source").scrollTop = 0; });
  await page.screenshot({ path: shot("playground.png") });
});

test("the share link reproduces the page in a fresh browser", async () => {
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: origin() });
  await page.click("#share");
  await ready();
  assert.equal(await page.locator("#status").innerText(), "link copied");
  const link = await page.inputValue('[data-testid="share-link"]');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link, "the link is on the clipboard");
  assert.equal(await page.evaluate(() => location.href), link, "the address bar holds it too");
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  assert.ok(link.startsWith(origin() + "/"));
  const before = {
    source: await page.inputValue('[data-testid="source"]'),
    profile: await page.inputValue('[data-testid="profile"]'),
    model: await page.inputValue('[data-testid="model"]'),
    decision: await page.locator('[data-testid="decision"]').innerText(),
    paths: await offered(),
    shares: await shares(),
    sim: await page.locator("#sim-json").textContent(),
  };
  const other = await launch();
  try {
    const { page: p2, errors: e2, requests: r2 } = await watchedPage(other.context);
    await p2.goto(link, { waitUntil: "load" });
    await p2.waitForFunction(() => window.regain && window.regain.ready);
    await ready(p2);
    assert.equal(await p2.inputValue('[data-testid="source"]'), before.source);
    assert.equal(await p2.inputValue('[data-testid="profile"]'), before.profile);
    assert.equal(await p2.inputValue('[data-testid="model"]'), before.model);
    assert.equal(await p2.locator('[data-testid="decision"]').innerText(), before.decision);
    assert.deepEqual(await offered(p2), before.paths);
    assert.deepEqual(await shares(p2), before.shares);
    assert.equal(await p2.getAttribute("#tab-simulation", "aria-selected"), "true", "the same tab is open");
    assert.equal(await p2.inputValue("#trials"), String(TRIALS));
    assert.equal(await p2.inputValue("#seed"), String(SIM_SEED));
    assert.equal(await p2.locator("#sim-json").textContent(), before.sim, "the same simulation is on show");
    assert.ok((await p2.locator('[data-testid="simulation"] svg').count()) >= 5);
    assert.deepEqual(e2, []);
    assert.deepEqual(offOrigin(r2), []);
  } finally {
    await other.close();
  }
});

test("a policy served by the server can be picked; a large one is drawn as paths", async () => {
  const names = await page.$$eval("#policy-pick option", (xs) => xs.map((x) => x.value));
  assert.ok(names.includes("bank_online_banking_recovery"), names.join(", "));
  await page.selectOption("#policy-pick", "bank_online_banking_recovery");
  await ready();
  assert.equal(await page.inputValue('[data-testid="source"]'), BANK);
  assert.match(await page.locator("#model-name").innerText(), /bank_online_banking_recovery/);
  assert.equal(await page.locator('[data-testid="diagnostics"] > *').count(), 0);
  const cli = cliJson(["analyze", "policies/bank.regain"]);
  assert.deepEqual(await shares(), cli.shares);
  // 5,002 nodes: the automatic view is the paths view.
  await page.click("#tab-graph");
  await ready();
  const labels = await page.$$eval('[data-testid="graph"] svg text', (xs) => xs.map((x) => x.textContent.trim()));
  assert.ok(labels.some((t) => t.startsWith("path ")), "paths view");
  assert.ok(labels.length < 2000, `the paths view stays small (${labels.length} labels)`);
  // Back to the seed example.
  await page.selectOption("#policy-pick", "");
  await ready();
  assert.equal(await page.inputValue('[data-testid="source"]'), SOURCE);
});

test("keyboard: tabs move with the arrow keys, a diagnostic's Enter goes to its line", async () => {
  await page.focus("#tab-decision");
  await page.keyboard.press("Enter");
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.getAttribute("#tab-analysis", "aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "tab-analysis");
  assert.equal(await page.isVisible("#panel-analysis"), true);
  await page.keyboard.press("End");
  assert.equal(await page.evaluate(() => document.activeElement.id), "tab-simulation");
  await page.keyboard.press("Home");
  assert.equal(await page.evaluate(() => document.activeElement.id), "tab-decision");
  // Tab from the editor leaves it (it does not insert a tab character).
  await page.focus('[data-testid="source"]');
  await page.keyboard.press("Tab");
  assert.notEqual(await page.evaluate(() => document.activeElement.id), "source");
  assert.equal(await page.inputValue('[data-testid="source"]'), SOURCE);
  // A diagnostic is reachable by keyboard and Enter puts the caret on its line.
  await page.evaluate((s) => window.regain.setSource(s.replace("sms_code then", "sms_cod then")), SOURCE);
  await ready();
  await page.focus('[data-testid="diagnostics"] [data-code="E0005"]');
  await page.keyboard.press("Enter");
  const caretLine = await page.$eval("#source", (t) => t.value.slice(0, t.selectionStart).split("\n").length);
  assert.equal(caretLine, TYPO_LINE);
  assert.equal(await page.evaluate(() => document.activeElement.id), "source");
  await page.evaluate((s) => window.regain.setSource(s), SOURCE);
  await ready();
});

test("accessibility: no serious or critical axe-core violations on any tab", async () => {
  for (const tab of ["decision", "analysis", "graph", "simulation"]) {
    await page.click(`#tab-${tab}`);
    await ready();
    assert.deepEqual(await accessibility(page), [], `tab ${tab}`);
  }
});

test("no console errors, and no request left the server", async () => {
  // 400 answers while the source has a typo are the API's answer, not page errors.
  const real = errors.filter((e) => !/status of 400/.test(e));
  assert.deepEqual(real, []);
  assert.deepEqual(offOrigin(requests), []);
});
