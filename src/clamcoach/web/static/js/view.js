// Drawing the session: gauges with their safe bands, setup steps, reps, summary, skeleton.
// Pure DOM updates from plain data; no state of its own.

import { t, tn } from "./i18n.js";

const $ = (id) => document.getElementById(id);

export const OPEN_RANGE = [0, 75];
export const ROLL_RANGE = [-25, 10];

function pct(value, [lo, hi]) {
  return (100 * (Math.min(hi, Math.max(lo, value)) - lo)) / (hi - lo);
}

function paintBands(el, range, bands) {
  el.replaceChildren(...bands.map(([from, to, kind]) => {
    const band = document.createElement("div");
    band.className = `band ${kind}`;
    band.style.left = `${pct(from, range)}%`;
    band.style.width = `${pct(to, range) - pct(from, range)}%`;
    return band;
  }));
}

export function setupGauges(limits) {
  const o = limits.opening;
  paintBands($("open-bands"), OPEN_RANGE, [
    [OPEN_RANGE[0], o.min, "rest"], [o.min, o.fine_max, "ok"],
    [o.fine_max, o.too_high, "warn"], [o.too_high, OPEN_RANGE[1], "bad"],
  ]);
  const r = limits.roll;
  paintBands($("roll-bands"), ROLL_RANGE, [
    [ROLL_RANGE[0], -r.error, "bad"], [-r.error, -r.warn, "warn"], [-r.warn, ROLL_RANGE[1], "ok"],
  ]);
}

// "30° ± 4": the measure and its standard deviation, as the engine states them.
function withSd(text, sd) {
  return sd === null || sd === undefined ? text : `${text} ± ${Math.max(1, Math.round(sd))}°`;
}

function needle(gaugeId, needleId, valueId, value, range, fmt, missing, sd) {
  const gauge = $(gaugeId);
  const track = gauge.querySelector(".track");
  const n = $(needleId);
  if (value === null || value === undefined) {
    n.classList.add("off");
    gauge.classList.add("disabled");
    $(valueId).textContent = missing;
    track.setAttribute("aria-valuetext", missing);
    return;
  }
  gauge.classList.remove("disabled");
  n.classList.remove("off");
  n.style.left = `${pct(value, range)}%`;
  const text = withSd(fmt(Math.round(value)), sd);
  $(valueId).textContent = text;
  track.setAttribute("aria-valuenow", String(Math.round(value)));
  track.setAttribute("aria-valuetext", text);
}

export function showGauges(step) {
  needle("gauge-open", "open-needle", "open-value", step ? step.opening_deg : null, OPEN_RANGE, (v) => `${v}°`, "–",
    step ? step.opening_sd_deg : null);
  const rollMissing = step && !step.view_can_see_roll ? t("not visible from this camera") : "–";
  needle("gauge-roll", "roll-needle", "roll-value", step ? step.roll_change_deg : null, ROLL_RANGE,
    (v) => (v > 0 ? t("+{v}° forward", { v }) : v < 0 ? t("{v}° back", { v }) : "0°"), rollMissing,
    step ? step.roll_sd_deg : null);
}

function okState(value) {
  if (value === true) return "yes";
  if (value === false) return "no";
  if (value === null) return "cannot";
  return "unknown";
}

// hints: setup step -> its hint, the protocol file's cue (sent by the server); the catalogue
// translates it.
export function showSetup(step, hints) {
  const checks = (step && step.setup_checks) || {};
  $("chk-in-frame").dataset.ok = step ? okState(step.in_frame) : "unknown";
  $("chk-view").dataset.ok = step && step.phase !== "no_person" ? okState(step.view_can_see_roll) : "unknown";
  // null until a setup has been measured: not yet known, not "cannot".
  const sized = step && step.phase !== "no_person" ? step.view_can_size_opening : undefined;
  $("chk-opening").dataset.ok = okState(sized === null ? undefined : sized);
  // The placement that serves both camera checks, once either is known to fail.
  $("camera-hint").hidden = !($("chk-view").dataset.ok === "no" || $("chk-opening").dataset.ok === "no");
  let current = null;
  for (const li of $("setup-steps").children) {
    const name = li.dataset.check;
    const state = okState(name in checks ? checks[name] : undefined);
    li.dataset.ok = state;
    const isCurrent = current === null && (state === "no" || state === "unknown");
    li.dataset.current = String(isCurrent);
    if (isCurrent) current = name;
  }
  let text;
  if (!step || step.phase === "no_person") text = t("Lie down where the camera can see you.");
  else if (current) text = hints && hints[current] ? t(hints[current]) : "";
  else text = t("Good. Now hold still: counting starts in a moment.");
  if ($("setup-current").textContent !== text) $("setup-current").textContent = text;
}

export function showCounter(session, step) {
  $("rep-count").textContent = String(session.reps_in_set);
  $("of-line").textContent = t("of {reps} reps", { reps: session.reps_target });
  $("set-line").textContent = t("Set {set} of {sets}", { set: session.set, sets: session.sets });
  const hold = step ? step.hold_s || 0 : 0;
  $("hold-s").textContent = hold.toFixed(1);
  $("hold-target").textContent = String(session.hold_target_s);
  const holdEl = $("hold");
  holdEl.classList.toggle("active", hold > 0);
  holdEl.classList.toggle("met", hold >= session.hold_target_s && hold > 0);
}

// A finding's name in the page's language: the protocol file's label (sent by the server,
// the one registry of names), translated by the catalogue, which holds every label.
export function findingName(code, labels) {
  const label = labels && labels[code];
  return label ? t(label) : code.replace(/_/g, " ");
}

export function repChip(rep, labels) {
  const li = document.createElement("li");
  const serious = rep.findings.filter((f) => f.severity !== "info");
  const words = serious.map((f) => findingName(f.code, labels));
  li.textContent = words.length ? `${rep.index}: ${words.join(", ")}` : `${rep.index} ✓`;
  li.className = serious.some((f) => f.severity === "error") ? "bad" : serious.length ? "warn" : "";
  li.dataset.findings = rep.findings.map((f) => f.code).join(" ");
  li.setAttribute("aria-label", words.length ? t("Rep {n}: {what}", { n: rep.index, what: words.join(", ") })
    : t("Rep {n}: clean", { n: rep.index }));
  return li;
}

export function showReps(reps, setIndex, labels) {
  const list = $("rep-list");
  const mine = reps.filter((r) => r.set === setIndex);
  if (list.children.length === mine.length) return;
  list.replaceChildren(...mine.map((rep) => repChip(rep, labels)));
}

export function showRest(session, restLeftS) {
  const s = Math.max(0, Math.ceil(restLeftS));
  $("rest-left").textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  $("rest-next").textContent = t("Next: set {set} of {sets}", { set: session.set + 1, sets: session.sets });
  const last = session.sets_done[session.sets_done.length - 1];
  $("rest-done").textContent = last
    ? t("Set {set}: {reps} reps, {clean} clean.", { set: last.set, reps: last.reps, clean: last.clean_reps }) : "";
}

export function showSummary(summary) {
  $("summary-total").textContent = t("Reps: {reps} ({clean} clean). Sets: {done} of {planned}.", {
    reps: summary.reps, clean: summary.clean_reps, done: summary.sets_done, planned: summary.sets_planned });
  $("went-well").replaceChildren(...summary.went_well_items.map((item) => {
    const li = document.createElement("li");
    li.textContent = item.plural ? tn(item.id, item.plural, item.n, item.params) : t(item.id, item.params);
    return li;
  }));
  if (summary.work_on) {
    $("work-on").textContent = summary.work_on.cue ? t(summary.work_on.cue) : summary.work_on.code;
    $("work-on").dataset.code = summary.work_on.code;
    $("work-on-why").textContent = t(summary.work_on.message);
  } else {
    $("work-on").textContent = t("Nothing to change: keep doing it this way.");
    $("work-on").dataset.code = "";
    $("work-on-why").textContent = "";
  }
}

const BONES = [[11, 12], [11, 23], [12, 24], [23, 24], [23, 25], [25, 27], [24, 26], [26, 28],
  [11, 13], [13, 15], [12, 14], [14, 16], [27, 31], [28, 32]];

export function drawPose(canvas, size, step) {
  if (canvas.width !== size.w || canvas.height !== size.h) {
    canvas.width = size.w;
    canvas.height = size.h;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!step || !step.pose) return;
  const p = step.pose;
  const roll = step.roll_change_deg;
  ctx.strokeStyle = roll !== null && roll <= -15 ? "#ff6b6b" : roll !== null && roll <= -10 ? "#ffc933" : "#3ddc84";
  ctx.lineWidth = Math.max(3, size.w / 160);
  ctx.lineCap = "round";
  for (const [a, b] of BONES) {
    if (!p[a] || !p[b] || p[a][0] === null || p[b][0] === null) continue;
    ctx.beginPath();
    ctx.moveTo(p[a][0], p[a][1]);
    ctx.lineTo(p[b][0], p[b][1]);
    ctx.stroke();
  }
}
