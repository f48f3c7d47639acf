// SPDX-License-Identifier: ISC
// The status page in a real browser: Debian's chromium, headless, driven
// over the DevTools protocol with nothing but Node (its WebSocket: run with
// --experimental-websocket on Node 20, built in from 22). It loads the page,
// waits until job NAME shows as running, clicks its stop button, waits
// until the page shows it stopped, and saves a screenshot.
//
// usage: node --experimental-websocket page.mjs URL NAME SCREENSHOT.png
// exit: 0 done, 1 the page did not do it (why on stderr), 77 no chromium
// or one that does not start.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync }
  from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, name, shot] = process.argv.slice(2);
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";
if (!existsSync(chromium)) {
  console.error(`SKIP: ${chromium} is not installed`);
  process.exit(77);
}
if (typeof WebSocket === "undefined") {
  console.error("SKIP: this node has no WebSocket (use --experimental-websocket)");
  process.exit(77);
}
// Chromium is started, and started again once with a new profile when it
// exits or has not said its DevTools port within START_MS: a cold machine
// under a parallel make check has been seen to take longer than 20 s, and
// that says nothing about the page: a second failure skips the test.
// /dev/shm is not used (Debian's wrapper decides that from findmnt, which
// prints one line per mount).
const START_MS = 30000;
let profile = null, browser = null, browserLog = "", browserExit = null;
function launch() {
  profile = mkdtempSync(join(tmpdir(), "schedd-chromium-"));
  browserLog = "";
  browserExit = null;
  browser = spawn(chromium, ["--headless=new", "--no-sandbox",
    "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--no-default-browser-check", "--disable-extensions",
    "--window-size=1280,800", "--remote-debugging-port=0",
    `--user-data-dir=${profile}`, "about:blank"],
    { stdio: ["ignore", "ignore", "pipe"] });
  const mine = browser;
  mine.stderr.on("data", (d) => { if (mine === browser) browserLog += d; });
  mine.on("exit", (code, sig) => {
    if (mine === browser) browserExit = sig ? `signal ${sig}` : `exit ${code}`;
  });
}
// What chromium said, without its complaints about a missing D-Bus.
const said = () => browserLog.split("\n")
  .filter((l) => !/dbus|D-Bus/.test(l)).join("\n").slice(-3000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function finish(code, why) {
  if (why) console.error(why);
  try { browser.kill("SIGKILL"); } catch (e) { /* gone */ }
  setTimeout(() => {
    if (profile) rmSync(profile, { recursive: true, force: true });
    process.exit(code);
  }, 300);
}
setTimeout(() => finish(1, "timed out after 100 s\n" + said()), 100000);

// The DevTools port, once chromium writes it; null when it exits first or
// START_MS pass.
async function devtoolsPort() {
  const f = join(profile, "DevToolsActivePort");
  for (const end = Date.now() + START_MS; Date.now() < end;) {
    if (existsSync(f)) {
      const port = readFileSync(f, "utf8").split("\n")[0];
      if (port) return port;
    }
    if (browserExit) return null;
    await sleep(100);
  }
  return null;
}

async function main() {
  // Chromium writes its port into the profile once it listens.
  launch();
  let t0 = Date.now(), port = await devtoolsPort();
  if (!port) {
    console.error(`chromium did not start in ${Date.now() - t0} ms ` +
      `(${browserExit || "still running"}); once more:\n${said()}`);
    try { browser.kill("SIGKILL"); } catch (e) { /* gone */ }
    rmSync(profile, { recursive: true, force: true });
    launch();
    t0 = Date.now();
    port = await devtoolsPort();
  }
  // Twice: the machine cannot run a browser now, which is not the page's
  // fault; the test is skipped and says why.
  if (!port) {
    finish(77, `SKIP: chromium did not start in ${Date.now() - t0} ms ` +
      `twice (${browserExit || "still running"}):\n${said()}`);
    return false;
  }
  let target = null;
  for (let i = 0; i < 50 && target == null; i++) {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    target = list.find((t) => t.type === "page");
    if (!target) await sleep(100);
  }
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, ko) => { ws.onopen = ok; ws.onerror = ko; });
  let next = 1;
  const waiting = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  };
  const send = (method, params = {}) => new Promise((ok, ko) => {
    const id = next++;
    waiting.set(id, (msg) => msg.error ? ko(new Error(JSON.stringify(msg.error)))
      : ok(msg.result));
    ws.send(JSON.stringify({ id, method, params }));
  });
  const evaluate = async (expr) => (await send("Runtime.evaluate",
    { expression: expr, returnByValue: true })).result.value;
  const sel = `document.querySelector('tr[data-name=${JSON.stringify(name)}]')`;
  const state = () => evaluate(`(${sel} || {}).querySelector ? ` +
    `${sel}.querySelector('.state').textContent : null`);
  async function until(want, ms) {
    let got = null;
    for (const end = Date.now() + ms; Date.now() < end;) {
      got = await state();
      if (got === want) return;
      await sleep(100);
    }
    throw new Error(`job ${name} did not show as ${want} (last: ${got}); ` +
      `page says: ${await evaluate("document.getElementById('err').textContent")}`);
  }

  await send("Page.enable");
  await send("Runtime.enable");
  await send("Page.navigate", { url });
  await until("running", 15000);
  // The CPU map and the events panel are there too.
  let cpus = 0;
  for (let i = 0; i < 50 && !(cpus > 0); i++) {
    cpus = await evaluate("document.querySelectorAll('#cpus .cpu').length");
    if (!(cpus > 0)) await sleep(100);
  }
  if (!(cpus > 0)) throw new Error("the CPU map is empty: " +
    await evaluate("document.getElementById('cpus').textContent"));
  // Its detail: the live tree and its last output.
  await evaluate(`${sel}.querySelector('a[data-job]').click()`);
  let detail = "";
  for (let i = 0; i < 50; i++) {
    detail = await evaluate("document.getElementById('dtree').textContent + " +
      "'|' + document.getElementById('dout').textContent");
    if (detail.includes("sleep") && detail.includes("hello-from-" + name)) break;
    await sleep(100);
  }
  if (!detail.includes("sleep") || !detail.includes("hello-from-" + name))
    throw new Error("the detail shows no tree or output: " + detail);
  const clicked = await evaluate(`(() => { const b = ${sel}` +
    `.querySelector('button[data-act=stop]'); if (!b || b.disabled) ` +
    `return false; b.click(); return true; })()`);
  if (!clicked) throw new Error("no enabled stop button for " + name);
  await until("stopped", 15000);
  // Let the events panel catch the stop, then the picture.
  for (let i = 0; i < 30; i++) {
    const ev = await evaluate("document.getElementById('events').textContent");
    if (ev.includes("stopped")) break;
    await sleep(100);
  }
  const png = await send("Page.captureScreenshot", { format: "png" });
  writeFileSync(shot, Buffer.from(png.data, "base64"));
  ws.close();
  return true;
}

main().then((done) => { if (done) finish(0); },
  (e) => finish(1, "FAIL: " + e.message));
