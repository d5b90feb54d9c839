// Shared helpers of the browser tests: Debian's chromium through playwright-core, with
// the flags a closed network needs (no background networking, no component updates,
// a fresh profile), the regain binary, and the screenshot folder.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = process.env.REGAIN_BIN || join(ROOT, "target/release/regain");
export const URL = process.env.REGAIN_URL || "";
export const SHOTS = join(ROOT, "docs/img");
export const VIEWPORT = { width: 1280, height: 800 };

/** A browser with a fresh profile; close() removes the profile. */
export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "regain-e2e-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: VIEWPORT,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A page that records console errors, page errors and every request. */
export async function watchedPage(context) {
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => requests.push(r.url()));
  return { page, errors, requests };
}

/** Run the regain binary in `cwd`; returns stdout (a diff that finds changes exits 1). */
export function regain(args, okCodes = [0], cwd = ROOT) {
  try {
    return execFileSync(BIN, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  } catch (e) {
    if (okCodes.includes(e.status)) return e.stdout;
    throw new Error(`regain ${args.join(" ")}: exit ${e.status}\n${e.stderr}`);
  }
}

export function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  return join(SHOTS, name);
}

/** axe-core's accessibility rules (WCAG 2 A/AA) on the page as it is now; returns the
 *  violations of impact serious or critical, each as "rule: target (summary)". The
 *  script is injected inline, so it makes no request. */
export async function accessibility(page) {
  const { readFileSync } = await import("node:fs");
  const { createRequire } = await import("node:module");
  const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
  await page.addScriptTag({ content: readFileSync(axePath, "utf8") });
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
  }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} (${n.failureSummary.replace(/\s+/g, " ").slice(0, 160)})`));
}
