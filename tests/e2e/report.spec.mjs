// Each HTML report opened from disk (file://) in a real browser: no console errors, no
// request besides the file itself, the charts present and non-empty (titled, sized,
// drawing marks in colour, with labels), the embedded JSON equal to the CLI's
// `--format json` for the same run (a separate run without --report), the headline
// figures equal to that JSON's, no horizontal scrolling at 1280 px, and axe-core's WCAG
// A/AA rules. Screenshots at 1280×800: docs/img/report-{simulate,analyze,diff}.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { launch, watchedPage, regain, shot, accessibility, ROOT } from "./lib.mjs";

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

/** A share as the reports print it (the CLI's percentages). */
function pct(x) {
  const p = Math.abs(x) < 1e-15 ? 0 : x * 100;
  if (p > 0 && p < 0.01) return p.toExponential(1) + "%"; // Rust's {:.1e}: 9.1e-3
  return p.toFixed(2) + "%";
}

async function openReport(file, cliJson, screenshot) {
  const { page, errors, requests } = await watchedPage(browser.context);
  const url = pathToFileURL(file).href;
  await page.goto(url, { waitUntil: "load" });
  assert.deepEqual(errors, [], "no console errors");
  assert.deepEqual(requests.filter((r) => r !== url), [], "no request besides the file itself");
  const embedded = await page.evaluate(() => JSON.parse(document.getElementById("regain-data").textContent));
  assert.deepEqual(embedded, JSON.parse(cliJson), "the embedded JSON is the CLI's --format json");
  const charts = await page.$$eval("svg.chart", (svgs) => svgs.map((s) => {
    const r = s.getBoundingClientRect();
    const chromatic = (c) => {
      const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(c || "");
      return !!m && !(m[1] === m[2] && m[2] === m[3]);
    };
    const marks = [...s.querySelectorAll("rect, polyline, path, line, circle")].filter((x) => {
      const st = getComputedStyle(x);
      const b = x.getBBox();
      return (chromatic(st.fill) || chromatic(st.stroke)) && (b.width > 0 || b.height > 0);
    }).length;
    return { w: r.width, h: r.height, marks, texts: s.querySelectorAll("text").length, title: s.querySelector("title")?.textContent || s.getAttribute("aria-label") || "" };
  }));
  assert.ok(charts.length >= 2, `charts present (${charts.length})`);
  for (const c of charts) {
    assert.ok(c.title.length > 0, "the chart has a title");
    assert.ok(c.w > 300 && c.h > 100, `chart ${c.title} has a size (${c.w}×${c.h})`);
    assert.ok(c.marks >= 2, `chart ${c.title} draws coloured marks (${c.marks})`);
    assert.ok(c.texts >= 5, `chart ${c.title} has labels (${c.texts})`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scroll (${overflow}px)`);
  const kpis = await page.$$eval(".kpi", (xs) => Object.fromEntries(xs.map((x) => [x.querySelector("span").textContent, x.querySelector("b").textContent])));
  await page.screenshot({ path: shot(screenshot) });
  assert.deepEqual(await accessibility(page), [], "axe-core: no serious or critical violations");
  await page.close();
  return { embedded, charts, kpis };
}

test("simulation report", async () => {
  const file = join(dir, "simulate.html");
  const args = ["simulate", "policies/alipay.regain", "--trials", "100000", "--seed", "3", "--quiet"];
  regain([...args, "--report", file]);
  const json = regain([...args, "--format", "json"]);
  const { embedded, charts, kpis } = await openReport(file, json, "report-simulate.png");
  const titles = charts.map((c) => c.title);
  for (const t of ["Outcomes for the account owner", "Outcomes per segment", "Recovered, by path", "Time to recover (recovered trials)", "Takeover, per attacker and segment", "Human review load"]) {
    assert.ok(titles.includes(t), `${t} in ${titles.join(" | ")}`);
  }
  assert.ok(embedded.time_to_recover_s.cdf.length > 2);
  assert.equal(kpis["recovered"], pct(embedded.outcomes.recovered.share));
  assert.equal(kpis["locked out (no path)"], pct(embedded.outcomes.lockout.share));
  assert.equal(kpis["tried and failed"], pct(embedded.outcomes.failed.share));
  assert.equal(kpis["human review load"], pct(embedded.human_review_load.share));
});

test("analysis report", async () => {
  const file = join(dir, "analyze.html");
  regain(["analyze", "policies/alipay.regain", "--report", file]);
  const json = regain(["analyze", "policies/alipay.regain", "--format", "json"]);
  const { embedded, kpis } = await openReport(file, json, "report-analyze.png");
  assert.equal(kpis["allow"], pct(embedded.shares.allow));
  assert.equal(kpis["deny"], pct(embedded.shares.deny));
  assert.equal(kpis["lockout (no way back in)"], pct(embedded.shares.lockout));
});

test("diff report", async () => {
  // Relative names in a folder of its own, so the report (and its screenshot) name the
  // files as a reviewer would.
  const src = readFileSync(join(ROOT, "policies/alipay.regain"), "utf8");
  copyFileSync(join(ROOT, "policies/alipay.regain"), join(dir, "alipay.regain"));
  writeFileSync(join(dir, "alipay-q3.regain"), src.replace("questions.set >= 2", "questions.set >= 3"));
  const file = join(dir, "diff.html");
  const args = ["diff", "alipay.regain", "alipay-q3.regain"];
  regain([...args, "--report", file], [0, 1], dir);
  const json = regain([...args, "--format", "json"], [0, 1], dir);
  const { embedded, kpis } = await openReport(file, json, "report-diff.png");
  assert.equal(embedded.equivalent, false);
  assert.equal(kpis["decided differently"], pct(embedded.share));
  assert.equal(kpis["changed regions"], String(embedded.regions.length));
});
