// The bound live page's pain rating, per set: when a set finishes (the rest after it, or the
// end of the session), the page asks how it felt, about that set. It reads the page's state
// (window.clamcoach, main.js) and the sets this sign-in saved (GET .../live/sets, each with
// its prescription check's notes in the page's language), and posts the rating to the set's
// own session (POST .../sessions/{id}/pain; a second answer corrects the first).
//
// Which saved set a finished set is: a set is saved before the page hears it finished
// (the save runs on the session's worker before its state is sent), so the saved sets that
// are new since the last look are the ones that just finished, oldest first.

import { t, tn } from "/static/js/i18n.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 300;
const form = $("live-pain");
const box = $("live-sets");
const list = $("live-set-list");
const status = $("live-pain-status");
const OWN = $("live-pain-h").dataset.own === "yes";
const NAME = document.querySelector("#live-whose .whose-name").textContent;
const home = { parent: form.parentElement, before: form.nextSibling };

const known = new Set(); // saved sets this page is not asking about (older, or matched already)
const finished = [];     // this page's finished sets: {set, live, saved: {...} | null, skipped}
let current = null;      // the finished set the form is about
let live = null;         // the live session whose sets are counted
let counted = 0;         // its sets seen finished
let busy = false;

async function savedSets() {
  const res = await fetch(box.dataset.sets, { credentials: "same-origin", cache: "no-store" });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await res.json()).sets;
}

async function tick() {
  const api = window.clamcoach;
  if (!api || busy) return;
  const st = api.state();
  const s = st.session;
  if (!s) return;
  if (s.id !== live) {
    // a new session (or the one this page found running): its earlier sets were not seen here
    live = s.id;
    counted = s.sets_done.length;
  } else if (s.sets_done.length > counted) {
    const done = s.sets_done.slice(counted);
    counted = s.sets_done.length;
    form.hidden = true; // about the set before: not shown while the new one is looked up
    busy = true;
    try {
      await match(done, s.id);
    } finally {
      busy = false;
    }
  }
  place(st.screen);
}

async function match(done, liveId) {
  let sets = [];
  try {
    sets = await savedSets();
  } catch (err) {
    sets = []; // the list could not be read: these sets are shown as not saved
  }
  const fresh = sets.filter((x) => !known.has(x.id));
  done.forEach((rec, i) => {
    const saved = fresh[i] || null;
    if (saved) known.add(saved.id);
    finished.push({ set: rec.set, live: liveId, saved, skipped: false });
  });
  ask(finished[finished.length - 1]);
}

function ask(entry) {
  current = entry;
  status.textContent = "";
  if (!entry || !entry.saved) {
    form.hidden = true;
    renderList();
    return;
  }
  const saved = entry.saved;
  $("live-pain-h").textContent = OWN ? t("Set {set}: how did it feel?", { set: entry.set })
    : t("Set {set}: how did it feel for {name}?", { set: entry.set, name: NAME });
  $("live-pain-notes").replaceChildren(...notesOf(saved));
  for (const input of form.querySelectorAll("input[name=rating]")) input.checked = Number(input.value) === saved.rating;
  form.querySelector("textarea[name=note]").value = saved.note || "";
  if (saved.rating !== null) status.textContent = t("Rated {rating}/10. Choose again to change it.", { rating: saved.rating });
  form.action = saved.rate;
  form.hidden = false;
  renderList();
}

function notesOf(saved) {
  if (!saved.notes.length) return [li(t("The set followed the prescription."), "ok")];
  return saved.notes.map((n) => {
    const item = li("", n.severity);
    const b = document.createElement("b");
    b.textContent = `${n.label}: `;
    item.append(b, n.text);
    return item;
  });
}

function li(text, kind) {
  const item = document.createElement("li");
  item.textContent = text;
  if (kind) item.className = kind;
  return item;
}

function renderList() {
  const rows = finished.filter((e) => e.live === live).map((entry) => {
    const row = document.createElement("li");
    row.dataset.set = String(entry.set);
    const head = document.createElement("p");
    const saved = entry.saved;
    const parts = [t("Set {set}", { set: entry.set })];
    if (!saved) parts.push(t("not saved"));
    else {
      parts.push(tn("{n} rep", "{n} reps", saved.reps));
      parts.push(saved.rating !== null ? t("pain {rating}/10", { rating: saved.rating }) : t("pain not rated"));
    }
    head.textContent = parts.join(" · ");
    row.append(head);
    if (saved) {
      const notes = document.createElement("ul");
      notes.className = "live-notes";
      notes.append(...notesOf(saved));
      row.append(notes);
      if (entry !== current || form.hidden) {
        const again = document.createElement("button");
        again.type = "button";
        again.className = "rate-set";
        again.textContent = t("Rate set {set}", { set: entry.set });
        again.addEventListener("click", () => { ask(entry); form.querySelector("input[name=rating]").focus(); });
        row.append(again);
      }
    }
    return row;
  });
  list.replaceChildren(...rows);
}

function place(screen) {
  // The one form: in the rest screen during a rest, else in the summary, under the sets.
  const rest = document.querySelector("#screen-rest .col");
  if (screen === "rest" && form.parentElement !== rest) rest.append(form);
  else if (screen !== "rest" && form.parentElement !== home.parent) home.parent.insertBefore(form, home.before);
}

form.addEventListener("keydown", (ev) => ev.stopPropagation()); // typing a note is not the page's keys
form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const entry = current;
  if (!entry || !entry.saved) return;
  try {
    const res = await fetch(entry.saved.rate, {
      method: "POST", credentials: "same-origin", headers: { Accept: "application/json" },
      body: new URLSearchParams(new FormData(form)),
    });
    if (!res.ok) throw new Error(res.status === 401 ? t("please sign in again") : `HTTP ${res.status}`);
    const rated = await res.json();
    Object.assign(entry.saved, { rating: rated.rating, note: rated.note });
    status.textContent = t("Rated {rating}/10. Choose again to change it.", { rating: rated.rating });
    renderList();
  } catch (err) {
    status.textContent = t("The rating could not be saved ({reason}).", { reason: err.message });
  }
});
$("live-pain-skip").addEventListener("click", () => {
  if (current) current.skipped = true;
  form.hidden = true;
  renderList();
});

// for tests: this page's finished sets and what it knows of them, read-only
window.clamcoachLive = { sets: () => JSON.parse(JSON.stringify(finished)) };

try {
  for (const s of await savedSets()) known.add(s.id);
} catch (err) {
  // no list: sets finished now are shown as not saved
}
setInterval(tick, POLL_MS);
