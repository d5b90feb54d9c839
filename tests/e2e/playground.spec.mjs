// The playground in a real browser: diagnostics on the right line while typing, shares
// and the graph once fixed, a decision for a profile, simulation charts, and a share
// link that reproduces the page in a fresh browser. Needs REGAIN_URL (the address of a
// running `regain playground`). Screenshot: docs/img/playground.png at 1280×800.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { launch, watchedPage, shot, ROOT, URL } from "./lib.mjs";

const SOURCE = readFileSync(join(ROOT, "policies/alipay.regain"), "utf8");
const MODEL = readFileSync(join(ROOT, "policies/alipay.model.yaml"), "utf8");
// Line 62 of alipay.regain: `steps sms_code then any 1 of (...)`.
const TYPO_LINE = 62;
const TYPO = SOURCE.split("\n").map((l, i) => (i === TYPO_LINE - 1 ? l.replace("sms_code then", "sms_cod then") : l)).join("\n");
const PROFILE = JSON.stringify({
  phone: { bound: true, active: false, sim_changed_days: 400, owner_verified: true },
  device: { trusted: false },
  email: { bound: true, verified: true, changed_days: 900 },
  questions: { set: 3 }, identity: { verified: true }, bank_card: { bound: true },
  account: { risk: "low" },
}, null, 2);

let browser, page, errors, requests;
before(async () => {
  assert.ok(URL, "REGAIN_URL is set to a running `regain playground`");
  browser = await launch();
  ({ page, errors, requests } = await watchedPage(browser.context));
  await page.goto(URL, { waitUntil: "load" });
  await page.waitForFunction(() => window.regain && typeof window.regain.ready === "function");
  await page.evaluate(() => window.regain.ready());
});
after(async () => {
  await browser.close();
});

const ready = () => page.evaluate(() => window.regain.ready());

test("the page starts with the seed example, labelled controls and no errors", async () => {
  assert.ok((await page.inputValue('[data-testid="source"]')).includes("policy "));
  assert.equal(await page.locator('[data-testid="diagnostics"] [data-code]').count(), 0);
  for (const id of ["source", "profile"]) {
    const label = await page.locator(`[data-testid="${id}"]`).evaluate((e) => e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].textContent) || "");
    assert.ok(label.trim().length > 0, `${id} is labelled`);
  }
  const origin = new globalThis.URL(URL).origin;
  assert.deepEqual(requests.filter((r) => !r.startsWith(origin) && !r.startsWith("data:")), [], "no request leaves the server");
});

test("a typo gives its diagnostic with its code on the right line, as the user types", async () => {
  const editor = page.locator('[data-testid="source"]');
  await editor.fill(TYPO);
  // …and one more keystroke typed for real at the end.
  await editor.press("End");
  await page.keyboard.type(" ");
  await ready();
  const diag = page.locator('[data-testid="diagnostics"] [data-code="E0005"]');
  assert.equal(await diag.count(), 1, await page.locator('[data-testid="diagnostics"]').innerText());
  assert.equal(await diag.getAttribute("data-line"), String(TYPO_LINE));
  assert.match(await diag.innerText(), /sms_cod/);
  // The line is marked in the editor's gutter.
  const mark = await page.locator("#gutter div").nth(TYPO_LINE - 1).getAttribute("class");
  assert.equal(mark, "err");
});

test("fixing it shows the shares and the graph", async () => {
  await page.evaluate((s) => window.regain.setSource(s), SOURCE);
  await ready();
  assert.equal(await page.locator('[data-testid="diagnostics"] [data-code]').count(), 0);
  const shares = await page.$$eval('[data-testid="shares"] [data-decision]', (xs) => xs.map((x) => [x.dataset.decision, Number(x.dataset.share)]));
  assert.deepEqual(shares.map((s) => s[0]), ["allow", "deny", "lockout"]);
  const sum = shares.reduce((a, s) => a + s[1], 0);
  assert.ok(Math.abs(sum - 1) < 1e-9, `shares add up to 1 (${sum})`);
  assert.ok(shares[0][1] > 0.5);
  await page.click("#tab-graph");
  const svg = page.locator('[data-testid="graph"] svg');
  assert.equal(await svg.count(), 1);
  const box = await svg.boundingBox();
  assert.ok(box && box.width > 100 && box.height > 100, "the graph is drawn");
  assert.ok((await page.locator('[data-testid="graph"] svg text').count()) > 5);
});

test("a profile is evaluated with its paths and explanation", async () => {
  await page.click("#tab-decision");
  await page.locator('[data-testid="profile"]').fill(PROFILE);
  await ready();
  const decision = await page.locator('[data-testid="decision"]').innerText();
  assert.match(decision, /^allow/);
  const paths = await page.$$eval('[data-testid="paths"] [data-path]', (xs) => xs.map((x) => x.dataset.path));
  assert.deepEqual(paths, ["email", "carrier", "support"]);
  assert.ok((await page.locator("#explain li").count()) > 0, "an explanation is shown");
  // A profile that is not valid says why.
  await page.evaluate(() => window.regain.setProfile('{"phone": {"active": "yes"}}'));
  await ready();
  assert.ok((await page.locator("#profile-error").innerText()).length > 0);
  await page.evaluate((p) => window.regain.setProfile(p), PROFILE);
  await ready();
  assert.match(await page.locator('[data-testid="decision"]').innerText(), /^allow/);
});

test("a simulation on the model draws its charts", async () => {
  await page.evaluate((m) => window.regain.setModel(m), MODEL);
  await page.evaluate(() => window.regain.runSimulation());
  await ready();
  const charts = await page.$$eval('[data-testid="simulation"] svg', (svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    return { w: r.width, h: r.height, marks: s.querySelectorAll("rect, polyline, path, line").length, title: s.querySelector("title")?.textContent || "" };
  }));
  assert.ok(charts.length >= 4, `charts (${charts.length})`);
  for (const c of charts) assert.ok(c.w > 200 && c.h > 80 && c.marks >= 3, `chart ${c.title} drawn`);
  const titles = charts.map((c) => c.title).join(" | ");
  for (const t of ["Outcomes", "segment", "Time to recover", "Takeover"]) assert.ok(titles.includes(t), `${t} in ${titles}`);
  await page.screenshot({ path: shot("playground.png") });
  await page.click("#tab-analysis");
  await page.screenshot({ path: shot("playground-analysis.png") });
});

test("the share link reproduces the page in a fresh browser", async () => {
  await ready();
  const link = await page.inputValue('[data-testid="share-link"]');
  assert.match(link, /#s=[A-Za-z0-9_-]+$/);
  const other = await launch();
  try {
    const { page: p2, errors: e2 } = await watchedPage(other.context);
    await p2.goto(link, { waitUntil: "load" });
    await p2.waitForFunction(() => window.regain && window.regain.ready);
    await p2.evaluate(() => window.regain.ready());
    assert.equal(await p2.inputValue('[data-testid="source"]'), SOURCE);
    assert.equal(await p2.inputValue('[data-testid="profile"]'), PROFILE);
    assert.equal(await p2.inputValue('[data-testid="model"]'), MODEL);
    assert.match(await p2.locator('[data-testid="decision"]').innerText(), /^allow/);
    const paths = await p2.$$eval('[data-testid="paths"] [data-path]', (xs) => xs.map((x) => x.dataset.path));
    assert.deepEqual(paths, ["email", "carrier", "support"]);
    assert.deepEqual(e2, []);
  } finally {
    await other.close();
  }
});

test("keyboard: tabs move with the arrow keys", async () => {
  await page.focus("#tab-decision");
  await page.keyboard.press("ArrowRight");
  assert.equal(await page.getAttribute("#tab-analysis", "aria-selected"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "tab-analysis");
  assert.equal(await page.isVisible("#panel-analysis"), true);
});

test("no console errors", async () => {
  // 400 answers for the typo are expected; anything else is a bug.
  const real = errors.filter((e) => !/status of 400/.test(e));
  assert.deepEqual(real, []);
});
