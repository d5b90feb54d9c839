// Each HTML report opened from disk (file://): no console errors, no network requests,
// charts present and non-empty, and the embedded JSON equal to the CLI's JSON for the
// same run. Screenshots at 1280×800 go to docs/img/report-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { launch, watchedPage, regain, shot, ROOT } from "./lib.mjs";

let browser;
let dir;
before(async () => {
  browser = await launch();
  dir = mkdtempSync(join(tmpdir(), "regain-reports-"));
});
after(async () => {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
});

async function openReport(file, cliJson, screenshot) {
  const { page, errors, requests } = await watchedPage(browser.context);
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: "load" });
  assert.deepEqual(errors, [], "no console errors");
  assert.deepEqual(requests.filter((r) => r !== url), [], "no requests besides the file itself");
  const embedded = await page.evaluate(() => JSON.parse(document.getElementById("regain-data").textContent));
  assert.deepEqual(embedded, JSON.parse(cliJson), "embedded JSON equals the CLI's --format json");
  const charts = await page.$$eval("svg.chart", (svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    return { w: r.width, h: r.height, marks: s.querySelectorAll("rect, polyline, path, line").length, title: s.querySelector("title")?.textContent || "" };
  }));
  assert.ok(charts.length >= 2, `charts present (${charts.length})`);
  for (const c of charts) {
    assert.ok(c.w > 200 && c.h > 80, `chart ${c.title} has a size (${c.w}×${c.h})`);
    assert.ok(c.marks >= 3, `chart ${c.title} draws marks`);
    assert.ok(c.title.length > 0, "chart has a title");
  }
  // Text must not overflow the viewport horizontally at 1280 px.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scroll (${overflow}px)`);
  await page.screenshot({ path: shot(screenshot) });
  await page.close();
  return { embedded, charts };
}

test("simulation report", async () => {
  const file = join(dir, "simulate.html");
  const json = regain(["simulate", "policies/alipay.regain", "--trials", "100000", "--seed", "3", "--quiet", "--format", "json", "--report", file]);
  const { embedded, charts } = await openReport(file, json, "report-simulate.png");
  assert.equal(charts.length, 6);
  assert.ok(embedded.time_to_recover_s.cdf.length > 2);
});

test("analysis report", async () => {
  const file = join(dir, "analyze.html");
  const json = regain(["analyze", "policies/alipay.regain", "--format", "json", "--report", file]);
  await openReport(file, json, "report-analyze.png");
});

test("diff report", async () => {
  const src = readFileSync(join(ROOT, "policies/alipay.regain"), "utf8");
  const changed = join(dir, "alipay-q3.regain");
  writeFileSync(changed, src.replace("questions.set >= 2", "questions.set >= 3"));
  const file = join(dir, "diff.html");
  const json = regain(["diff", "policies/alipay.regain", changed, "--format", "json", "--report", file], [0, 1]);
  const { embedded } = await openReport(file, json, "report-diff.png");
  assert.equal(embedded.equivalent, false);
});
