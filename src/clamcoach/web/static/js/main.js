// The session page: wires the camera/file source, the WebSocket and the view together, and
// decides which screen and which message the person sees.
//
// Three kinds of page: this computer's (camera or file, as before); in phone mode, the
// phone's (its camera, over HTTPS) and the computer's, which then shows the pairing code and
// mirrors the phone's coaching (a "viewer": it sends no frames).

import { FrameSource, CameraError } from "./capture.js";
import { loadMessages, N_, t, tn } from "./i18n.js";
import { Speaker } from "./speech.js";
import { Transport } from "./transport.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const SCREENS = ["start", "setup", "reps", "rest", "summary"];
const CUE_SHOW_MS = 5000;
const SLOW_WINDOW_MS = 10000;
const PAIRING_POLL_MS = 5000;
const FACING_KEY = "clamcoach.facing";
const PHONE_MODE = document.body.dataset.phoneMode === "yes";
const WHERE = document.body.dataset.where;          // computer | phone
const VIEWER = PHONE_MODE && WHERE === "computer";
// Spoken numbers come from the catalogue; beyond the list the digits are spoken.
const NUMBERS = [N_("zero"), N_("one"), N_("two"), N_("three"), N_("four"), N_("five"), N_("six"),
  N_("seven"), N_("eight"), N_("nine"), N_("ten"), N_("eleven"), N_("twelve"), N_("thirteen"),
  N_("fourteen"), N_("fifteen"), N_("sixteen"), N_("seventeen"), N_("eighteen"), N_("nineteen"),
  N_("twenty"), N_("twenty-one"), N_("twenty-two"), N_("twenty-three"), N_("twenty-four"),
  N_("twenty-five"), N_("twenty-six"), N_("twenty-seven"), N_("twenty-eight"), N_("twenty-nine"),
  N_("thirty")];

await loadMessages(document.documentElement.lang);

// A page bound to a patient (the workspace's live coaching) names its own socket.
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${document.body.dataset.ws || "/ws"}`;
const transport = new Transport(wsUrl, VIEWER ? "viewer" : "coach");
const speaker = new Speaker();

function spokenNumber(n) {
  return n >= 0 && n < NUMBERS.length ? t(NUMBERS[n]) : String(n);
}

const app = {
  screen: "start",
  session: null,        // the server's session state
  limits: null,
  labels: {},           // finding code -> its name, from the protocol file's [labels]
  setupHints: {},       // setup step -> its hint, from the protocol file's [cues]
  pageCues: {},         // the other [cues] the page shows by itself (get_in_frame), by code
  lastStep: null,
  lastStepSet: null,
  reps: [],             // every rep of every set: {set, index, findings, ...}
  cues: [],             // every cue received: {code, text, kind, rep, set}
  sourceError: null,    // {kind, message}
  sourceStopped: null,  // text when the camera stopped by itself
  restEndsAt: null,
  frameSize: { w: 640, h: 480 },
  slow: { history: [], text: "" },
  endArmedUntil: 0,
  alertKey: "",
  remote: false,        // a viewer: the phone is coaching
  pairing: null,        // a viewer: {url, expires_in_s, ca_fingerprint, phones}
  spoken: { rep: 0, set: 0, holdRep: -1, holdLeft: null },
  wakeLock: null,
};

const source = new FrameSource($("video"), canTake, (jpeg, tMs, epoch) => {
  transport.sendFrame(jpeg, tMs, epoch);
  app.frameSize = { w: source.canvas.width, h: source.canvas.height };
});
source.onEnded = () => {
  // A video file played to its end: the set (and session) ends with it.
  transport.control("end_session");
};
source.onTrackEnded = () => {
  app.sourceStopped = t("The camera stopped (was it unplugged?). Your count is kept: start it again to carry on.");
  source.stop();
  render();
};

function canTake() {
  if (!app.session || app.session.state === "done") return false;
  if (transport.canSend()) return true;
  if (transport.state === "open" && transport.ready) transport.skipped += 1;
  return false;
}

// -- messages from the server -------------------------------------------------------------
transport.addEventListener("state", (ev) => {
  // Another tab coaches now: let go of the camera so it can have it.
  if (ev.detail.state === "taken_over") source.stop();
  render();
});
transport.addEventListener("message", (ev) => {
  const msg = ev.detail;
  switch (msg.type) {
    case "welcome":
    case "ready":
      adopt(msg);
      break;
    case "result":
      onResult(msg);
      break;
    case "session":
      setSession(msg.session);
      break;
    case "error":
      if (msg.code === "engine") app.sourceError = { kind: "engine", message: t("Analysis failed: {reason}", { reason: msg.message }) };
      break;
    default:
      break;
  }
  render();
});

function adopt(msg) {
  if (msg.limits) {
    app.limits = msg.limits;
    view.setupGauges(msg.limits);
  }
  if (msg.labels) app.labels = msg.labels;
  if (msg.setup_hints) app.setupHints = msg.setup_hints;
  if (msg.page_cues) app.pageCues = msg.page_cues;
  if (msg.reps) app.reps = msg.reps.slice();
  if (msg.cues && msg.type === "welcome") app.cues = msg.cues.slice();
  if (msg.last_step !== undefined) {
    app.lastStep = msg.last_step;
    app.lastStepSet = msg.session ? msg.session.set : null;
  }
  if (VIEWER) app.remote = !!msg.session;
  setSession(msg.session);
  if (msg.session && msg.session.error) {
    app.sourceError = { kind: "engine", message: t("The pose model could not be loaded: {reason}", { reason: msg.session.error }) };
  }
  $("start-camera").disabled = false;
}

function setSession(session) {
  if (!session) return;
  const before = app.session;
  app.session = session;
  if (session.state === "rest" && session.rest_left_s !== null) {
    app.restEndsAt = performance.now() + 1000 * session.rest_left_s;
  }
  if (before && before.set !== session.set) {
    app.lastStep = null; // a new set starts with its own setup
    if (session.state === "set") speaker.say(t("Set {set}. Get into position.", { set: session.set }), "info");
  }
  if (before && before.state === "set" && session.state === "rest") {
    speaker.say(t("Set {set} done. Rest.", { set: before.set }), "praise");
  }
  if (session.state === "done" && (!before || before.state !== "done")) {
    if (source.kind === "camera") source.stop();
    releaseWakeLock();
    clearCue(); // the summary is the last word: no cue left over from the last rep
    const work = session.summary && session.summary.work_on;
    speaker.say(work ? t("Well done. One thing to work on: {cue}", { cue: t(work.cue) }) : t("Well done."), "praise");
  }
}

// The rep number as it is counted ("three"), and the hold counted down ("hold, two", "one").
function speakCounts(session, step) {
  const spoken = app.spoken;
  if (spoken.set !== session.set) Object.assign(spoken, { set: session.set, rep: 0, holdRep: -1, holdLeft: null });
  if (session.reps_in_set > spoken.rep) {
    spoken.rep = session.reps_in_set;
    speaker.say(spokenNumber(session.reps_in_set), "count", "count");
  }
  const target = session.hold_target_s;
  const hold = step.hold_s || 0;
  const rep = session.reps_in_set + 1; // the rep being held is the one not counted yet
  if (!(target > 0) || hold <= 0) return;
  const left = Math.max(0, Math.ceil(target - hold));
  if (spoken.holdRep !== rep) {
    spoken.holdRep = rep;
    spoken.holdLeft = left;
    speaker.say(left > 0 ? t("hold, {count}", { count: spokenNumber(left) }) : t("hold"), "count", "hold");
  } else if (left < spoken.holdLeft && left > 0) {
    spoken.holdLeft = left;
    speaker.say(spokenNumber(left), "count", "hold");
  }
}

function onResult(msg) {
  setSession(msg.session);
  const step = msg.step;
  if (!step) return;
  app.lastStep = step;
  app.lastStepSet = msg.session.set;
  if (VIEWER) app.remote = true;
  if (step.reps_replaced_from != null) {
    // Measured again from a new setup (the last was taken in a hold): these reps replace those.
    app.reps = app.reps.filter((r) => r.set !== msg.session.set || r.index < step.reps_replaced_from);
  }
  for (const rep of step.new_reps) app.reps.push(rep);
  if (msg.session.state === "set" || step.new_reps.length) speakCounts(msg.session, step);
  if (step.cue && msg.session.state !== "done") showCue(step.cue);
  app.sourceError = app.sourceError && app.sourceError.kind === "engine" ? null : app.sourceError;
}

let cueTimer = null;
function showCue(cue) {
  app.cues.push(cue);
  const box = $("cue");
  const text = t(cue.text); // the protocol's English text is the catalogue id
  box.className = `cue ${cue.kind}`;
  $("cue-text").textContent = text;
  box.hidden = false;
  box.dataset.code = cue.code;
  clearTimeout(cueTimer);
  cueTimer = setTimeout(clearCue, CUE_SHOW_MS);
  speaker.say(text, cue.kind);
}

function clearCue() {
  clearTimeout(cueTimer);
  $("cue").hidden = true;
  $("cue-text").textContent = "";
}

// -- what the person sees -----------------------------------------------------------------
function screenFor() {
  const s = app.session;
  if (s && s.state === "done") return "summary";
  if (!s || !(source.kind || app.remote)) return "start";
  if (s.state === "rest") return "rest";
  const step = app.lastStepSet === s.set ? app.lastStep : null;
  if (s.reps_in_set > 0 || (step && step.setup_ok)) return "reps";
  return "setup";
}

function personNote() {
  const step = app.lastStep;
  if (!(source.kind || app.remote) || !step || !app.session || app.session.state !== "set") return "";
  const counted = app.session.total_reps;
  if (step.phase === "no_person") {
    return step.setup_ok || counted
      ? tn("You are out of view. Your {n} rep is kept: come back into view.",
        "You are out of view. Your {n} reps are kept: come back into view.", counted)
      : t("Nobody in view yet. Lie down where the camera can see you.");
  }
  if (!step.in_frame) return app.pageCues.get_in_frame ? t(app.pageCues.get_in_frame) : "";
  return "";
}

function currentAlert() {
  // The one most important problem, with what to do about it.
  const st = transport.state;
  if (st === "not_paired") {
    return { key: "unpaired", level: "bad", text: t("This phone is not paired: scan the code on the computer's screen again."), actions: [] };
  }
  if (st === "busy") return { key: "busy", level: "bad", text: t("clamcoach is open in another tab."), actions: [[t("Use this tab instead"), takeOver]] };
  if (st === "taken_over") return { key: "taken", level: "bad", text: t("clamcoach is open in another tab. This tab has stopped."), actions: [[t("Use this tab"), takeOver]] };
  if (st === "reconnecting") {
    return { key: `re${transport.attempt}`, level: "bad",
             text: t("Connection lost: reconnecting (attempt {n}). Your count is kept.", { n: transport.attempt }), actions: [] };
  }
  if (app.sourceError) {
    const acts = app.sourceError.kind === "engine" ? [] : [[t("Start camera"), startCamera], [t("Use a video file"), pickFile]];
    return { key: `src-${app.sourceError.kind}`, level: "bad", text: app.sourceError.message, actions: acts };
  }
  if (app.sourceStopped) return { key: "stopped", level: "bad", text: app.sourceStopped, actions: [[t("Start camera"), startCamera]] };
  const note = personNote();
  if (note) return { key: `note-${note}`, level: "info", text: note, actions: [] };
  if (st === "open" && !transport.ready && !VIEWER) return { key: "loading", level: "info", text: t("Loading the pose model…"), actions: [] };
  return null;
}

function renderAlert() {
  const alert = currentAlert();
  const box = $("alert");
  const key = alert ? `${alert.key}|${alert.text}` : "";
  if (key === app.alertKey) return;
  app.alertKey = key;
  if (!alert) {
    box.hidden = true;
    return;
  }
  box.className = `alert ${alert.level}`;
  $("alert-text").textContent = alert.text;
  $("alert-actions").replaceChildren(...alert.actions.map(([label, fn]) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", fn);
    return b;
  }));
  box.hidden = false;
}

function renderConn() {
  const el = $("conn");
  const st = transport.state;
  const open = VIEWER ? t("Showing the phone's coaching") : WHERE === "phone" ? t("Connected to the computer")
    : t("Connected (this computer only)");
  const text = { open, connecting: t("Connecting…"), reconnecting: t("Reconnecting…"), not_paired: t("Not paired"),
                 busy: t("Open in another tab"), taken_over: t("Open in another tab"), idle: t("Not connected") }[st] || st;
  el.textContent = text;
  el.className = `pill ${st === "open" ? "ok" : st === "connecting" ? "" : "bad"}`;
}

function renderSlow() {
  const now = performance.now();
  const h = app.slow.history;
  const lost = transport.skipped + transport.serverDropped;
  h.push({ now, lost, captured: source.captured });
  while (h.length && now - h[0].now > SLOW_WINDOW_MS) h.shift();
  const first = h[0];
  const recentLost = lost - first.lost;
  const recentCaptured = source.captured - first.captured + recentLost;
  const lat = transport.latencies.slice(-30).sort((a, b) => a - b);
  const p50 = lat.length ? lat[Math.floor(lat.length / 2)] : 0;
  const slow = (recentLost >= 5 && recentLost > 0.2 * recentCaptured) || p50 > 400;
  const el = $("slow");
  el.hidden = !slow;
  if (slow) el.textContent = t("Slow machine: {n} frames dropped", { n: lost });
  app.slow.text = slow ? el.textContent : "";
}

function render() {
  const screen = screenFor();
  if (screen !== app.screen) {
    app.screen = screen;
    for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  }
  document.querySelector("main").classList.toggle("wide", screen === "start" || screen === "summary" || !source.kind);
  // a mirror is what people expect of a camera facing them; the rear camera is not one
  $("preview").classList.toggle("camera", source.kind === "camera" && source.facing === "user");
  document.body.dataset.screen = screen;
  if (VIEWER) renderPairing();
  renderConn();
  renderAlert();
  const s = app.session;
  const step = s && app.lastStepSet === s.set ? app.lastStep : null;
  if (screen === "setup") view.showSetup(step, app.setupHints);
  if (screen === "reps" && s) {
    view.showCounter(s, step);
    view.showGauges(step);
    view.showReps(app.reps, s.set, app.labels);
  }
  if (screen === "rest" && s) view.showRest(s, app.restEndsAt ? (app.restEndsAt - performance.now()) / 1000 : 0);
  if (screen === "summary" && s && s.summary) view.showSummary(s.summary);
  view.drawPose($("overlay"), app.frameSize, source.kind ? step : null);
}

// -- phone mode ---------------------------------------------------------------------------
function renderPairing() {
  const p = app.pairing;
  if (!p) return;
  $("pair-url").textContent = p.url;
  $("pair-fingerprint").textContent = p.ca_fingerprint;
  const status = app.remote ? t("The phone is connected.")
    : p.phones ? t("Paired. Press Start camera on the phone.") : t("Waiting for the phone…");
  if ($("pair-status").textContent !== status) $("pair-status").textContent = status;
}

async function refreshPairing() {
  try {
    const res = await fetch("/pairing", { cache: "no-store" });
    if (!res.ok) return;
    const p = await res.json();
    if (!app.pairing || app.pairing.url !== p.url) $("pair-qr").src = `/pairing/qr.svg?v=${Date.now()}`;
    app.pairing = p;
    renderPairing();
  } catch (err) {
    // the server is away: the connection pill says so
  }
}

function chosenFacing() {
  const stored = localStorage.getItem(FACING_KEY);
  return stored === "environment" ? "environment" : "user";
}

async function keepScreenOn() {
  // The Screen Wake Lock API where the browser has it: the phone's screen stays on during a set.
  if (!("wakeLock" in navigator) || app.wakeLock || document.visibilityState !== "visible") return;
  try {
    app.wakeLock = await navigator.wakeLock.request("screen");
    app.wakeLock.addEventListener("release", () => { app.wakeLock = null; });
  } catch (err) {
    app.wakeLock = null; // refused (e.g. battery saver): the page still works
  }
}

function releaseWakeLock() {
  if (app.wakeLock) app.wakeLock.release().catch(() => {});
  app.wakeLock = null;
}

document.addEventListener("visibilitychange", () => {
  // the lock is dropped when the page is hidden; take it again when it comes back mid-set
  if (source.kind === "camera" && app.session && app.session.state !== "done") keepScreenOn();
});

// -- actions ------------------------------------------------------------------------------
async function startCamera() {
  app.sourceError = null;
  app.sourceStopped = null;
  $("start-camera").disabled = true;
  try {
    await source.startCamera(chosenFacing());
    keepScreenOn();
  } catch (err) {
    app.sourceError = err instanceof CameraError ? { kind: err.kind, message: err.message }
      : { kind: "failed", message: t("The camera could not be started ({reason}).", { reason: String(err) }) };
  } finally {
    $("start-camera").disabled = false;
  }
  render();
}

async function startFile(file) {
  app.sourceError = null;
  app.sourceStopped = null;
  try {
    await source.startFile(file);
  } catch (err) {
    app.sourceError = { kind: err.kind || "failed", message: err.message || String(err) };
  }
  render();
}

function pickFile() {
  $("video-file").click();
}

function takeOver() {
  source.stop();
  transport.connect(true);
}

function control(action) {
  transport.control(action);
}

function endSession() {
  control("end_session");
}

$("start-camera").addEventListener("click", startCamera);
$("video-file").addEventListener("change", (ev) => {
  const file = ev.target.files && ev.target.files[0];
  if (file) startFile(file);
});
$("mute").addEventListener("click", () => setMuted(!speaker.muted));
$("mute-count").addEventListener("click", () => setChannelMuted("count", !speaker.isMuted("count")));
$("mute-hold").addEventListener("click", () => setChannelMuted("hold", !speaker.isMuted("hold")));
for (const input of document.querySelectorAll("input[name=facing]")) {
  input.checked = input.value === chosenFacing();
  input.addEventListener("change", () => { if (input.checked) localStorage.setItem(FACING_KEY, input.value); });
}
$("finish-set").addEventListener("click", () => control("finish_set"));
$("skip-rest").addEventListener("click", () => control("next_set"));
$("end-session").addEventListener("click", endSession);
$("end-session-rest").addEventListener("click", endSession);
$("new-session").addEventListener("click", () => {
  app.reps = [];
  app.cues = [];
  app.lastStep = null;
  control("new_session");
});

function setMuted(muted) {
  speaker.setMuted(muted);
  const b = $("mute");
  b.setAttribute("aria-pressed", String(muted));
  b.textContent = muted ? t("Voice off") : t("Voice on");
}

const CHANNEL_LABELS = {
  count: { button: "mute-count", on: N_("Counting on"), off: N_("Counting off") },
  hold: { button: "mute-hold", on: N_("Hold count on"), off: N_("Hold count off") },
};

function setChannelMuted(channel, muted) {
  speaker.setChannelMuted(channel, muted);
  const labels = CHANNEL_LABELS[channel];
  const b = $(labels.button);
  b.setAttribute("aria-pressed", String(muted));
  b.textContent = muted ? t(labels.off) : t(labels.on);
}

document.addEventListener("keydown", (ev) => {
  if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target instanceof HTMLInputElement) return;
  const key = ev.key.toLowerCase();
  if (key === "m") setMuted(!speaker.muted);
  else if (key === "n" && app.session) control(app.session.state === "rest" ? "next_set" : "finish_set");
  else if (key === "e" && app.session && app.session.state !== "done") {
    // Two presses, so a stray key never ends a session.
    if (performance.now() < app.endArmedUntil) endSession();
    else {
      app.endArmedUntil = performance.now() + 3000;
      showCue({ code: "confirm_end", text: t("Press E again to end the session."), kind: "info", rep: null, set: null });
    }
  } else return;
  ev.preventDefault();
});

// -- for tests and the latency benchmark: the page's state, read-only ---------------------
window.clamcoach = {
  state: () => ({
    conn: transport.state, ready: transport.ready, screen: app.screen, source: source.kind,
    session: app.session, lastStep: app.lastStep, reps: app.reps, cues: app.cues,
    spoken: speaker.log, speechOverlaps: speaker.overlaps, muted: speaker.muted,
    alert: $("alert").hidden ? "" : $("alert-text").textContent, slow: app.slow.text,
    latency: transport.latencyStats(), captured: source.captured, sessionId: transport.sessionId,
    where: WHERE, viewer: VIEWER, remote: app.remote, facing: source.kind === "camera" ? source.facing : null,
    wakeLock: !!app.wakeLock, cue: $("cue").hidden ? "" : $("cue-text").textContent,
    lang: document.documentElement.lang, labels: app.labels, setupHints: app.setupHints,
  }),
  latencies: () => transport.latencies.slice(),
  serverMs: () => transport.serverMs.slice(),
  dropConnection: () => transport.dropForTest(),
};

setMuted(speaker.muted);
setChannelMuted("count", speaker.isMuted("count"));
setChannelMuted("hold", speaker.isMuted("hold"));
if (VIEWER) {
  // the computer's screen in phone mode: the pairing code instead of a camera of its own
  $("start-local").hidden = true;
  $("pairing").hidden = false;
  refreshPairing();
  setInterval(refreshPairing, PAIRING_POLL_MS);
}
if (WHERE === "phone") {
  $("facing").hidden = false;
  $("cert-help").hidden = false;
}
setInterval(() => { renderSlow(); render(); }, 250);
transport.connect();
render();
