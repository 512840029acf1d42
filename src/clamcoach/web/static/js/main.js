// The session page: wires the camera/file source, the WebSocket and the view together, and
// decides which screen and which message the person sees.

import { FrameSource, CameraError } from "./capture.js";
import { Speaker } from "./speech.js";
import { Transport } from "./transport.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const SCREENS = ["start", "setup", "reps", "rest", "summary"];
const CUE_SHOW_MS = 5000;
const SLOW_WINDOW_MS = 10000;

const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const transport = new Transport(wsUrl);
const speaker = new Speaker();

const app = {
  screen: "start",
  session: null,        // the server's session state
  limits: null,
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
  app.sourceStopped = "The camera stopped (was it unplugged?). Your count is kept: start it again to carry on.";
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
      if (msg.code === "engine") app.sourceError = { kind: "engine", message: `Analysis failed: ${msg.message}` };
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
  if (msg.reps) app.reps = msg.reps.slice();
  if (msg.cues && msg.type === "welcome") app.cues = msg.cues.slice();
  if (msg.last_step !== undefined) {
    app.lastStep = msg.last_step;
    app.lastStepSet = msg.session ? msg.session.set : null;
  }
  setSession(msg.session);
  if (msg.session && msg.session.error) {
    app.sourceError = { kind: "engine", message: `The pose model could not be loaded: ${msg.session.error}` };
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
    if (session.state === "set") speaker.say(`Set ${session.set}. Get into position.`, "info");
  }
  if (before && before.state === "set" && session.state === "rest") {
    speaker.say(`Set ${before.set} done. Rest.`, "praise");
  }
  if (session.state === "done" && (!before || before.state !== "done")) {
    if (source.kind === "camera") source.stop();
    const work = session.summary && session.summary.work_on;
    speaker.say(work ? `Well done. One thing to work on: ${work.cue}` : "Well done.", "praise");
  }
}

function onResult(msg) {
  setSession(msg.session);
  const step = msg.step;
  if (!step) return;
  app.lastStep = step;
  app.lastStepSet = msg.session.set;
  for (const rep of step.new_reps) app.reps.push(rep);
  if (step.cue) showCue(step.cue);
  app.sourceError = app.sourceError && app.sourceError.kind === "engine" ? null : app.sourceError;
}

let cueTimer = null;
function showCue(cue) {
  app.cues.push(cue);
  const box = $("cue");
  box.className = `cue ${cue.kind}`;
  $("cue-text").textContent = cue.text;
  box.hidden = false;
  box.dataset.code = cue.code;
  clearTimeout(cueTimer);
  cueTimer = setTimeout(() => { box.hidden = true; }, CUE_SHOW_MS);
  speaker.say(cue.text, cue.kind);
}

// -- what the person sees -----------------------------------------------------------------
function screenFor() {
  const s = app.session;
  if (s && s.state === "done") return "summary";
  if (!s || !source.kind) return "start";
  if (s.state === "rest") return "rest";
  const step = app.lastStepSet === s.set ? app.lastStep : null;
  if (s.reps_in_set > 0 || (step && step.setup_ok)) return "reps";
  return "setup";
}

function personNote() {
  const step = app.lastStep;
  if (!source.kind || !step || !app.session || app.session.state !== "set") return "";
  const counted = app.session.total_reps;
  if (step.phase === "no_person") {
    return step.setup_ok || counted
      ? `You are out of view. Your ${counted} rep${counted === 1 ? " is" : "s are"} kept: come back into view.`
      : "Nobody in view yet. Lie down where the camera can see you.";
  }
  if (!step.in_frame) return "Move so your whole body is in view.";
  return "";
}

function currentAlert() {
  // The one most important problem, with what to do about it.
  const st = transport.state;
  if (st === "busy") return { key: "busy", level: "bad", text: "clamcoach is open in another tab.", actions: [["Use this tab instead", takeOver]] };
  if (st === "taken_over") return { key: "taken", level: "bad", text: "clamcoach is open in another tab. This tab has stopped.", actions: [["Use this tab", takeOver]] };
  if (st === "reconnecting") {
    return { key: `re${transport.attempt}`, level: "bad",
             text: `Connection lost: reconnecting (attempt ${transport.attempt}). Your count is kept.`, actions: [] };
  }
  if (app.sourceError) {
    const acts = app.sourceError.kind === "engine" ? [] : [["Start camera", startCamera], ["Use a video file", pickFile]];
    return { key: `src-${app.sourceError.kind}`, level: "bad", text: app.sourceError.message, actions: acts };
  }
  if (app.sourceStopped) return { key: "stopped", level: "bad", text: app.sourceStopped, actions: [["Start camera", startCamera]] };
  const note = personNote();
  if (note) return { key: `note-${note}`, level: "info", text: note, actions: [] };
  if (st === "open" && !transport.ready) return { key: "loading", level: "info", text: "Loading the pose model…", actions: [] };
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
  const text = { open: "Connected (this computer only)", connecting: "Connecting…", reconnecting: "Reconnecting…",
                 busy: "Open in another tab", taken_over: "Open in another tab", idle: "Not connected" }[st] || st;
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
  if (slow) el.textContent = `Slow machine: ${lost} frames dropped`;
  app.slow.text = slow ? el.textContent : "";
}

function render() {
  const screen = screenFor();
  if (screen !== app.screen) {
    app.screen = screen;
    for (const name of SCREENS) $(`screen-${name}`).hidden = name !== screen;
  }
  document.querySelector("main").classList.toggle("wide", screen === "start" || screen === "summary" || !source.kind);
  $("preview").classList.toggle("camera", source.kind === "camera");
  renderConn();
  renderAlert();
  const s = app.session;
  const step = s && app.lastStepSet === s.set ? app.lastStep : null;
  if (screen === "setup") view.showSetup(step);
  if (screen === "reps" && s) {
    view.showCounter(s, step);
    view.showGauges(step);
    view.showReps(app.reps, s.set);
  }
  if (screen === "rest" && s) view.showRest(s, app.restEndsAt ? (app.restEndsAt - performance.now()) / 1000 : 0);
  if (screen === "summary" && s && s.summary) view.showSummary(s.summary);
  view.drawPose($("overlay"), app.frameSize, source.kind ? step : null);
}

// -- actions ------------------------------------------------------------------------------
async function startCamera() {
  app.sourceError = null;
  app.sourceStopped = null;
  $("start-camera").disabled = true;
  try {
    await source.startCamera();
  } catch (err) {
    app.sourceError = err instanceof CameraError ? { kind: err.kind, message: err.message }
      : { kind: "failed", message: `The camera could not be started (${err})` };
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
  b.textContent = muted ? "Voice off" : "Voice on";
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
      showCue({ code: "confirm_end", text: "Press E again to end the session.", kind: "info", rep: null, set: null });
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
  }),
  latencies: () => transport.latencies.slice(),
  serverMs: () => transport.serverMs.slice(),
  dropConnection: () => transport.dropForTest(),
};

setMuted(speaker.muted);
setInterval(() => { renderSlow(); render(); }, 250);
transport.connect();
render();
