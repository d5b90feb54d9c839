// regain playground: plain JavaScript, no build step, no network beyond this server.
// Talks to the authoring endpoints of `regain serve` (design/serve.md) and renders
// their JSON; charts of a simulation come from the server (the HTML reports' chart
// functions) at /playground/charts/simulation.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  };
  const pct = (x) => {
    const p = Math.abs(x) < 1e-15 ? 0 : x * 100;
    if (p > 0 && p < 0.01) return p.toExponential(1) + "%";
    return p.toFixed(2) + "%";
  };
  const human = (s) => {
    if (s === null || s === undefined) return "–";
    const units = [[604800, "w"], [86400, "d"], [3600, "h"], [60, "m"]];
    for (const [n, u] of units) if (s >= n) { const v = s / n; return (v >= 10 || Math.abs(v - Math.round(v)) < 0.05 ? Math.round(v) : v.toFixed(1)) + u; }
    return Math.round(s) + "s";
  };

  // ------------------------------------------------------------ pending work
  // ready() resolves when no debounce is waiting and no request is in flight and the
  // page has re-rendered.
  let pending = 0;
  let waiters = [];
  const begin = () => { pending++; };
  const end = () => {
    pending = Math.max(0, pending - 1);
    if (pending === 0) {
      requestAnimationFrame(() => {
        if (pending !== 0) return;
        const w = waiters; waiters = [];
        w.forEach((f) => f());
      });
    }
  };
  const ready = () => new Promise((resolve) => {
    if (pending === 0) requestAnimationFrame(() => (pending === 0 ? resolve() : waiters.push(resolve)));
    else waiters.push(resolve);
  });

  function debounce(fn, ms) {
    let t = null;
    return function (...args) {
      if (t !== null) clearTimeout(t); else begin();
      t = setTimeout(async () => {
        t = null;
        try { await fn(...args); } finally { end(); }
      }, ms);
    };
  }

  // Only the newest answer of each kind is rendered.
  const generation = {};
  async function api(kind, path, body) {
    const gen = (generation[kind] = (generation[kind] || 0) + 1);
    begin();
    try {
      const res = await fetch(path, body === undefined ? {} : {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
      const type = res.headers.get("content-type") || "";
      const data = type.includes("json") ? await res.json() : await res.text();
      return { ok: res.ok, status: res.status, data, stale: gen !== generation[kind] };
    } catch (e) {
      return { ok: false, status: 0, data: { message: String(e) }, stale: gen !== generation[kind] };
    } finally {
      end();
    }
  }

  const setStatus = (text, bad) => {
    const s = $("status");
    s.textContent = text;
    s.classList.toggle("bad", !!bad);
  };

  // ------------------------------------------------------------ state
  const src = $("source");
  const profile = $("profile");
  const model = $("model");
  let seed = null; // {source, profile, model} of the shipped seed example
  let sourceOk = false;
  // The parameters of the simulation on show ({trials, seed, exact}), kept in the share
  // link; a link that has them runs the same seeded simulation when it opens.
  let lastSim = null;
  let pendingSim = null;

  // ------------------------------------------------------------ editor
  function lineCount(text) { return text.split("\n").length; }

  function paintEditor(marks) {
    const n = lineCount(src.value);
    const gutter = $("gutter");
    const back = $("backdrop");
    const gf = document.createDocumentFragment();
    const bf = document.createDocumentFragment();
    for (let i = 1; i <= n; i++) {
      const m = marks.get(i);
      gf.append(el("div", { class: m || null, text: String(i) }));
      bf.append(el("div", { class: m || null, text: "\u200b" }));
    }
    gutter.replaceChildren(gf);
    back.replaceChildren(bf);
    syncScroll();
  }
  let currentMarks = new Map();
  function syncScroll() {
    $("gutter").scrollTop = src.scrollTop;
    $("backdrop").scrollTop = src.scrollTop;
    $("backdrop").scrollLeft = src.scrollLeft;
  }
  src.addEventListener("scroll", syncScroll);

  function goToLine(line, col) {
    const lines = src.value.split("\n");
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, (col || 1) - 1);
    src.focus();
    src.setSelectionRange(pos, pos);
    src.scrollTop = Math.max(0, (line - 4) * 20);
  }

  function diagLine(d) { return d.line ?? (d.location && d.location.line) ?? 1; }
  function diagCol(d) { return d.col ?? (d.location && d.location.col) ?? 1; }

  function renderDiagnostics(list, summary) {
    const ul = $("diagnostics");
    ul.replaceChildren();
    const marks = new Map();
    let errors = 0;
    for (const d of list) {
      const line = diagLine(d);
      const sev = d.severity || "error";
      if (sev === "error") errors++;
      if (sev === "error" || !marks.has(line)) marks.set(line, sev === "error" ? "err" : "warn");
      const li = el("li", {
        class: sev, "data-code": d.code, "data-line": String(line), tabindex: "0",
        title: "Go to line " + line,
      },
        el("span", { class: "code-tag", text: d.code }),
        el("span", { class: "where", text: "line " + line + ":" + diagCol(d) }),
        el("span", { text: d.message }),
        d.help ? el("span", { class: "help", text: "help: " + d.help }) : null);
      const go = () => goToLine(line, diagCol(d));
      li.addEventListener("click", go);
      li.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
      ul.append(li);
    }
    $("diag-ok").hidden = list.length !== 0;
    const c = $("diag-count");
    c.textContent = String(list.length);
    c.classList.toggle("bad", errors > 0);
    currentMarks = marks;
    paintEditor(marks);
    if (summary) {
      $("summary").textContent = `${summary.facts ?? "?"} facts · ${summary.methods ?? "?"} methods · ${summary.deny ?? summary.denies ?? 0} deny · ${summary.paths ?? "?"} paths`;
    }
  }

  // ------------------------------------------------------------ the pipeline
  async function onSourceChanged() {
    updateShareLink();
    const source = src.value;
    const r = await api("check", "/v1/check", { source });
    if (r.stale) return;
    if (!r.ok && r.status !== 400) {
      setStatus("check failed: " + (r.data.message || r.status), true);
      return;
    }
    const d = r.data;
    const diags = d.diagnostics || d.errors || [];
    renderDiagnostics(diags, d.summary);
    sourceOk = d.ok === true || (r.ok && !diags.some((x) => x.severity === "error"));
    markStale(!sourceOk);
    if (lastSim) setSimStale(true);
    if (!sourceOk) {
      setStatus("the policy has errors", true);
      return;
    }
    setStatus("checked");
    await Promise.all([analyze(), graph(), evaluate()]);
    if (pendingSim) {
      const p = pendingSim;
      pendingSim = null;
      setSimOptions(p);
      await runSimulation();
    }
    setStatus("up to date");
  }
  // While the source has errors the results of the last version that checked stay on
  // show, marked as such.
  function markStale(on) {
    document.querySelector("section.right").classList.toggle("stale", on);
    $("stale-note").hidden = !on;
  }
  function setSimStale(on) {
    $("simulation").classList.toggle("stale", on);
    $("sim-stale").hidden = !on;
  }
  const sourceChanged = debounce(onSourceChanged, 300);
  src.addEventListener("input", () => { paintEditor(currentMarks); sourceChanged(); });

  async function evaluate() {
    updateShareLink();
    const err = $("profile-error");
    let prof;
    try {
      prof = profile.value.trim() === "" ? {} : JSON.parse(profile.value);
      err.textContent = "";
    } catch (e) {
      err.textContent = "The profile is not JSON: " + e.message;
      return;
    }
    if (!sourceOk) return;
    const r = await api("eval", "/v1/eval", { source: src.value, profile: prof, explain: true });
    if (r.stale) return;
    const dec = $("decision");
    if (!r.ok) {
      const d = r.data || {};
      const first = (d.errors && d.errors[0]) || {};
      err.textContent = (d.message || "cannot evaluate") + (first.message && first.message !== d.message ? "\n" + first.message : "");
      dec.textContent = "";
      dec.className = "decision";
      $("paths").replaceChildren();
      $("explain").replaceChildren();
      return;
    }
    const res = r.data.result || r.data;
    dec.className = "decision " + res.decision;
    dec.textContent = res.decision + (res.decision === "deny" && res.denied_by.length ? ": " + res.denied_by.join("; ")
      : res.decision === "allow" ? ` — ${res.paths.length} path${res.paths.length === 1 ? "" : "s"} offered` : " — no path is available");
    const ol = $("paths");
    ol.replaceChildren();
    for (const p of res.paths || []) {
      const steps = (p.steps || []).map((s) => s.length === 1 ? s[0] : "(" + s.join(" | ") + ")").join(" → ");
      const meta = [`grants ${p.grants}`];
      if (p.wait_s) meta.push("wait " + human(p.wait_s));
      if (p.notify && p.notify.length) meta.push("notify " + p.notify.join(", "));
      ol.append(el("li", { "data-path": p.name },
        el("strong", { text: p.name }), p.title ? " — " + p.title : "", el("br"),
        el("code", { text: steps }), el("br"),
        el("span", { class: "meta", text: meta.join(" · ") })));
    }
    renderExplain(r.data.explain || res.explain);
  }
  const profileChanged = debounce(evaluate, 300);
  profile.addEventListener("input", profileChanged);

  function renderExplain(ex) {
    const ul = $("explain");
    ul.replaceChildren();
    if (!ex) return;
    const mark = (good, text) => el("span", { class: good ? "ok" : "no", text: good ? "✓ " : "✗ " }, text);
    for (const d of ex.denies || []) {
      ul.append(el("li", { "data-line": String(d.line || "") },
        mark(!d.fires, ""), `deny “${d.reason}” ${d.fires ? "fires" : "does not fire"}`,
        d.because ? ": " + d.because : "", d.line ? el("span", { class: "meta", text: ` (line ${d.line})` }) : null));
    }
    for (const p of ex.paths || []) {
      ul.append(el("li", { "data-line": String(p.line || "") },
        mark(p.available, ""), el("strong", { text: p.path }), p.available ? " is available" : " is not available",
        p.because ? ": " + p.because : "", p.line ? el("span", { class: "meta", text: ` (line ${p.line})` }) : null));
    }
  }

  async function analyze() {
    const r = await api("analyze", "/v1/analyze", { source: src.value });
    if (r.stale || !r.ok) return;
    const a = r.data;
    const box = $("shares");
    box.replaceChildren();
    for (const k of ["allow", "deny", "lockout"]) {
      const v = a.shares[k];
      box.append(el("div", { class: "share-row", "data-decision": k, "data-share": String(v) },
        el("span", { text: k }),
        el("div", { class: "share-track", role: "img", "aria-label": `${k} ${pct(v)}` },
          (() => { const f = el("div", { class: "share-fill " + k }); f.style.width = (v * 100).toFixed(3) + "%"; return f; })()),
        el("span", { class: "v", text: pct(v) })));
    }
    const lock = $("lockout");
    lock.replaceChildren();
    if (!a.lockout.conditions.length) lock.append(el("p", { text: "No lockout: every profile that is not denied has a way back in." }));
    else {
      lock.append(el("p", { text: `${pct(a.lockout.share)} of profiles have no way back in; exactly those where one of these holds:` }));
      const t = el("table", {}, el("thead", {}, el("tr", {}, el("th", { class: "num", text: "share" }), el("th", { text: "condition" }))));
      const tb = el("tbody");
      for (const c of a.lockout.conditions.slice(0, 50)) tb.append(el("tr", {}, el("td", { class: "num", text: pct(c.share) }), el("td", {}, el("code", { text: c.condition }))));
      t.append(tb);
      lock.append(t);
    }
    const ps = $("path-shares");
    const t = el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "path" }), el("th", { class: "num", text: "available" }), el("th", { class: "num", text: "first" }))));
    const tb = el("tbody");
    for (const [n, p] of Object.entries(a.paths || {})) tb.append(el("tr", {}, el("td", { text: n }), el("td", { class: "num", text: pct(p.available.share) }), el("td", { class: "num", text: pct(p.first.share) })));
    t.append(tb);
    ps.replaceChildren(t);
    const fl = $("findings");
    fl.replaceChildren();
    if (!a.findings.length) fl.append(el("li", { text: "No findings." }));
    for (const f of a.findings) {
      fl.append(el("li", { "data-code": f.code, "data-line": String(f.line) },
        el("span", { class: "sev " + f.severity, text: f.severity }),
        el("code", { text: f.code }), " line " + f.line + ": " + f.message,
        f.cites ? el("span", { class: "cites", text: "cites: " + f.cites }) : null));
    }
  }

  function viewChoice() {
    const v = document.querySelector('input[name="view"]:checked');
    return v ? v.value : "auto";
  }
  async function graph() {
    const body = { source: src.value, format: "svg" };
    const v = viewChoice();
    if (v !== "auto") body.view = v;
    const r = await api("graph", "/v1/graph", body);
    if (r.stale) return;
    const g = $("graph");
    if (!r.ok) { g.textContent = "No graph: " + ((r.data && r.data.message) || r.status); return; }
    const text = typeof r.data === "string" ? r.data : (r.data.svg || r.data.graph || "");
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = doc.documentElement;
    if (svg && svg.nodeName.toLowerCase() === "svg") {
      const node = document.importNode(svg, true);
      scopeStyles(node, "#graph");
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", "Graph of the policy (" + (v === "auto" ? "automatic view" : v === "mdd" ? "decision graph" : "paths view") + ")");
      g.replaceChildren(node);
      applyZoom();
    } else g.textContent = "No graph.";
  }
  // An inline <svg>'s <style> applies to the whole page: the graph's rules (`rect {…}`,
  // `text {…}`) would restyle the simulation charts. Prefix every selector with the
  // graph's container so they stay inside it.
  function scopeStyles(svg, scope) {
    for (const st of svg.querySelectorAll("style")) {
      st.textContent = st.textContent.replace(/([^{}]+)\{/g, (_, sel) =>
        sel.split(",").map((x) => scope + " " + x.trim()).join(", ") + " {");
    }
  }
  let zoom = 1;
  let zoomFit = false;
  function graphSize(svg) {
    const vb = svg.viewBox && svg.viewBox.baseVal;
    const w = Number(svg.getAttribute("width")) || (vb && vb.width) || 800;
    const h = Number(svg.getAttribute("height")) || (vb && vb.height) || 600;
    return { w, h };
  }
  function applyZoom() {
    const g = $("graph");
    const svg = g.querySelector("svg");
    if (!svg) return;
    const { w, h } = graphSize(svg);
    if (zoomFit && g.clientWidth > 0) zoom = Math.min(1, Math.max(0.02, (g.clientWidth - 14) / w));
    svg.style.width = (w * zoom).toFixed(1) + "px";
    svg.style.height = (h * zoom).toFixed(1) + "px";
    $("zoom-level").textContent = Math.round(zoom * 100) + "%";
  }
  const setZoom = (z, fit) => { zoomFit = !!fit; zoom = Math.min(4, Math.max(0.02, z)); applyZoom(); };
  $("zoom-in").addEventListener("click", () => setZoom(zoom * 1.25));
  $("zoom-out").addEventListener("click", () => setZoom(zoom / 1.25));
  $("zoom-fit").addEventListener("click", () => setZoom(zoom, true));
  $("zoom-one").addEventListener("click", () => setZoom(1));
  document.querySelectorAll('input[name="view"]').forEach((r) => r.addEventListener("change", () => { updateShareLink(); begin(); graph().finally(end); }));

  // ------------------------------------------------------------ simulation
  async function runSimulation() {
    updateShareLink();
    const err = $("sim-error");
    err.textContent = "";
    if (!sourceOk) { err.textContent = "Fix the policy's errors first."; return; }
    const body = { source: src.value, model: model.value, seed: Number($("seed").value) || 0 };
    if ($("exact").checked) body.exact = true;
    else body.trials = Math.max(1, Number($("trials").value) || 20000);
    setStatus("simulating…");
    const out = $("simulation");
    const r = await api("simulate", "/v1/simulate", body);
    if (r.stale) return;
    if (!r.ok) {
      const d = r.data || {};
      err.textContent = (d.message || "simulation failed") + ((d.errors || []).map((e) => "\n" + (e.message || "")).join(""));
      setStatus("simulation failed", true);
      return;
    }
    const rep = r.data;
    const c = await api("charts", "/playground/charts/simulation", rep);
    if (c.stale) return;
    out.replaceChildren();
    const f = rep;
    const o = f.outcomes;
    const t = f.time_to_recover_s || {};
    const worst = Object.entries(f.attackers || {}).sort((x, y) => y[1].takeover.share - x[1].takeover.share)[0];
    const kpi = (value, label, cls, data) => el("div", { class: "kpi " + (cls || ""), ...data }, el("b", { text: value }), el("span", { text: label }));
    out.append(el("p", { class: "sim-summary" },
      (rep.exact ? "Exact (every profile of the model weighed)" : `${rep.trials} trials, seed ${rep.seed}`) + " · " + ($("model-name").textContent.replace(/[()]/g, "") || "the model above")));
    out.append(el("div", { class: "kpis" },
      kpi(pct(o.recovered.share), "recovered", "good", { "data-kpi": "recovered", "data-share": String(o.recovered.share) }),
      kpi(pct(o.lockout.share), "locked out", "bad", { "data-kpi": "lockout", "data-share": String(o.lockout.share) }),
      kpi(pct(o.failed.share), "tried, failed", "", { "data-kpi": "failed", "data-share": String(o.failed.share) }),
      kpi(`${human(t.p50)} / ${human(t.p95)}`, "time p50 / p95", "", { "data-kpi": "time" }),
      worst ? kpi(pct(worst[1].takeover.share), `takeover (${worst[0]})`, "bad", { "data-kpi": "takeover", "data-share": String(worst[1].takeover.share) }) : null));
    $("sim-json").textContent = JSON.stringify(rep, null, 2);
    $("sim-json-box").hidden = false;
    lastSim = body.exact ? { exact: true } : { trials: body.trials, seed: body.seed };
    setSimStale(false);
    updateShareLink();
    if (c.ok && Array.isArray(c.data.charts)) {
      for (const ch of c.data.charts) {
        const doc = new DOMParser().parseFromString(ch.svg, "image/svg+xml");
        const fig = el("figure", { "data-chart": ch.id });
        fig.append(document.importNode(doc.documentElement, true));
        out.append(fig);
      }
    } else {
      err.textContent = "charts unavailable: " + ((c.data && c.data.message) || c.status);
    }
    setStatus("simulated");
  }
  $("run-sim").addEventListener("click", () => { begin(); runSimulation().finally(end); });
  function setSimOptions(o) {
    $("exact").checked = !!o.exact;
    if (o.trials) $("trials").value = String(o.trials);
    if (o.seed !== undefined) $("seed").value = String(o.seed);
  }

  // ------------------------------------------------------------ share link
  const b64url = (bytes) => {
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const unb64url = (s) => {
    const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    const out = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out;
  };
  async function pipe(bytes, stream) {
    const s = new Blob([bytes]).stream().pipeThrough(stream);
    return new Uint8Array(await new Response(s).arrayBuffer());
  }
  async function encodeState() {
    const tab = tabs.find((t) => t.getAttribute("aria-selected") === "true");
    const json = JSON.stringify({
      v: 1, source: src.value, profile: profile.value, model: model.value,
      tab: tab ? tab.id.replace(/^tab-/, "") : "decision", view: viewChoice(), sim: lastSim,
    });
    const z = await pipe(new TextEncoder().encode(json), new CompressionStream("deflate-raw"));
    return "s=" + b64url(z);
  }
  async function decodeState(hash) {
    const m = /(?:^#|&)s=([A-Za-z0-9_-]+)/.exec(hash);
    if (!m) return null;
    const raw = await pipe(unb64url(m[1]), new DecompressionStream("deflate-raw"));
    return JSON.parse(new TextDecoder().decode(raw));
  }
  let shareGen = 0;
  async function updateShareLinkNow() {
    const g = ++shareGen;
    const frag = await encodeState();
    if (g !== shareGen) return;
    const url = location.href.split("#")[0] + "#" + frag;
    $("share-link").value = url;
    history.replaceState(null, "", "#" + frag);
  }
  const updateShareLink = debounce(updateShareLinkNow, 150);
  model.addEventListener("input", () => { updateShareLink(); if (lastSim) setSimStale(true); });
  $("share").addEventListener("click", async () => {
    begin();
    try {
      await updateShareLinkNow();
      const link = $("share-link");
      link.focus();
      link.select();
      // The clipboard may be refused (or, in some browsers, never answer): the link is
      // selected either way.
      const timeout = new Promise((_, no) => setTimeout(() => no(new Error("timeout")), 2000));
      try { await Promise.race([navigator.clipboard.writeText(link.value), timeout]); setStatus("link copied"); }
      catch (_) { setStatus("link selected: copy it with Ctrl+C"); }
    } finally {
      end();
    }
  });

  // ------------------------------------------------------------ policies
  async function loadPolicies() {
    const sel = $("policy-pick");
    sel.replaceChildren(el("option", { value: "", text: "seed example" }));
    const r = await api("policies", "/v1/policies");
    if (r.ok && r.data && Array.isArray(r.data.policies)) {
      for (const p of r.data.policies) sel.append(el("option", { value: p.name, text: p.name }));
    }
  }
  async function pick(name) {
    if (!name) {
      setState(seed);
      return;
    }
    const r = await api("policy", "/v1/policies/" + encodeURIComponent(name));
    if (!r.ok) { setStatus("cannot load " + name, true); return; }
    const p = r.data;
    const shipped = await api("seeds", "/playground/seeds");
    const known = shipped.ok ? (shipped.data.models || {})[name] : undefined;
    setState({ source: p.source || "", profile: profile.value, model: p.model || known || model.value });
    $("model-name").textContent = p.model || known ? `(${name}'s model)` : "";
  }
  $("policy-pick").addEventListener("change", (e) => { begin(); pick(e.target.value).finally(end); });

  $("fmt").addEventListener("click", async () => {
    const r = await api("fmt", "/v1/fmt", { source: src.value });
    if (r.ok && typeof r.data.source === "string") { src.value = r.data.source; sourceChanged(); }
    else setStatus("format: fix the errors first", true);
  });

  function setState(s) {
    if (!s) return;
    if (typeof s.source === "string") { src.value = s.source; sourceChanged(); }
    if (typeof s.profile === "string") { profile.value = s.profile; profileChanged(); }
    if (typeof s.model === "string") { model.value = s.model; updateShareLink(); }
  }

  // ------------------------------------------------------------ tabs (WAI-ARIA)
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  function selectTab(t, focus) {
    for (const o of tabs) {
      const on = o === t;
      o.setAttribute("aria-selected", String(on));
      o.tabIndex = on ? 0 : -1;
      $(o.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) t.focus();
    if (t.id === "tab-graph") applyZoom();
    updateShareLink();
  }
  tabs.forEach((t, i) => {
    t.addEventListener("click", () => selectTab(t, false));
    t.addEventListener("keydown", (e) => {
      let j = null;
      if (e.key === "ArrowRight") j = (i + 1) % tabs.length;
      else if (e.key === "ArrowLeft") j = (i - 1 + tabs.length) % tabs.length;
      else if (e.key === "Home") j = 0;
      else if (e.key === "End") j = tabs.length - 1;
      if (j !== null) { e.preventDefault(); selectTab(tabs[j], true); }
    });
  });
  // Tab inserts spaces in the editor only with Alt held off: plain Tab moves focus (keyboard users), Ctrl+] indents.
  src.addEventListener("keydown", (e) => {
    if (e.key === "]" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      const { selectionStart: a, selectionEnd: b } = src;
      src.setRangeText("    ", a, b, "end");
      src.dispatchEvent(new Event("input"));
    }
  });

  // ------------------------------------------------------------ hooks and start
  window.regain = {
    setSource(text) { src.value = String(text); sourceChanged(); },
    setProfile(jsonText) { profile.value = String(jsonText); profileChanged(); },
    setModel(yamlText) { model.value = String(yamlText); updateShareLink(); },
    runSimulation() { selectTab($("tab-simulation"), false); begin(); return runSimulation().finally(end); },
    ready,
    selectTab(name) { const t = $("tab-" + name); if (t) selectTab(t, false); },
  };

  async function start() {
    begin();
    try {
      const s = await api("seeds", "/playground/seeds");
      seed = s.ok ? s.data.seed : { source: "", profile: "{}", model: "" };
      await loadPolicies();
      let state = null;
      try { state = await decodeState(location.hash); } catch (e) { setStatus("the share link is damaged", true); }
      if (state) {
        const view = document.querySelector(`input[name="view"][value="${state.view}"]`);
        if (view) view.checked = true;
        const tab = $("tab-" + state.tab);
        if (tab && tab.getAttribute("role") === "tab") selectTab(tab, false);
        if (state.sim && typeof state.sim === "object") pendingSim = state.sim;
        setState({ source: state.source || "", profile: state.profile || "{}", model: state.model || "" });
      } else {
        setState(seed);
      }
      $("model-name").textContent = state ? "" : "(seed example's model)";
    } finally {
      end();
    }
  }
  start();
})();
