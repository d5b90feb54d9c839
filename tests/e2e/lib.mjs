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

/** Run the regain binary; returns stdout (exit codes 0 and, for diff, 1 are fine). */
export function regain(args, okCodes = [0]) {
  try {
    return execFileSync(BIN, args, { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  } catch (e) {
    if (okCodes.includes(e.status)) return e.stdout;
    throw new Error(`regain ${args.join(" ")}: exit ${e.status}\n${e.stderr}`);
  }
}

export function shot(name) {
  mkdirSync(SHOTS, { recursive: true });
  return join(SHOTS, name);
}
