// The page's words in its language: the server's gettext catalogue (English text is the id),
// loaded once before the page starts. `t("Set {set} of {sets}", {set: 1, sets: 3})`.
// Babel extracts t(), tn() and N_() calls from these files (python -m clamcoach.web.i18n.extract).

let messages = {};

export async function loadMessages(lang) {
  if (!lang || lang === "en") return;
  try {
    const res = await fetch(`/i18n/${encodeURIComponent(lang)}.json`, { credentials: "same-origin" });
    if (res.ok) messages = (await res.json()).messages || {};
  } catch (err) {
    messages = {}; // the page still works, in English
  }
}

function fill(text, params) {
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** The translation of `msgid` (English if there is none), with {name} filled from `params`. */
export function t(msgid, params) {
  const found = messages[msgid];
  return fill(typeof found === "string" && found ? found : msgid, params);
}

/** Singular or plural by `n` (en, es and de share the rule n != 1); {n} is filled too. */
export function tn(singular, plural, n, params) {
  const found = messages[singular];
  const index = n === 1 ? 0 : 1;
  const text = Array.isArray(found) && found[index] ? found[index] : index === 0 ? singular : plural;
  return fill(text, { n, ...params });
}

/** Marks a text for the catalogue without translating it yet (gettext's N_). */
export const N_ = (msgid) => msgid;
