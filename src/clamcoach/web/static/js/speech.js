// Spoken cues with the browser's own speech synthesis (no cloud voice is ever asked for).
// One at a time: while a cue is being spoken, a newer one waits (only the newest), and is
// dropped if it has gone stale by the time the first one ends.

const MUTE_KEY = "clamcoach.muted";
const STALE_MS = 2500;
const WATCHDOG_MS = 8000;

export class Speaker {
  constructor() {
    this.synth = window.speechSynthesis || null;
    this.muted = localStorage.getItem(MUTE_KEY) === "1";
    this.busy = false;
    this.pending = null;
    this.log = [];        // everything asked to be said: {text, kind, at, spoken}
    this.overlaps = 0;    // times speech was asked while another was playing (and held back)
    this._watchdog = null;
  }

  setMuted(muted) {
    this.muted = muted;
    localStorage.setItem(MUTE_KEY, muted ? "1" : "0");
    if (muted && this.synth) {
      this.pending = null;
      this.synth.cancel();
      this.busy = false;
    }
  }

  say(text, kind = "info") {
    const entry = { text, kind, at: performance.now(), spoken: false };
    this.log.push(entry);
    if (this.log.length > 200) this.log.shift();
    if (this.muted || !this.synth) return;
    if (this.busy || this.synth.speaking || this.synth.pending) {
      this.overlaps += 1;
      this.pending = entry;
      return;
    }
    this._speak(entry);
  }

  _speak(entry) {
    let utterance;
    try {
      utterance = new SpeechSynthesisUtterance(entry.text);
    } catch (err) {
      return; // no speech on this browser: the cue is still shown
    }
    utterance.rate = 0.95;
    utterance.lang = document.documentElement.lang || "en";
    const done = () => {
      if (!this.busy) return;
      this.busy = false;
      clearTimeout(this._watchdog);
      this._next();
    };
    utterance.onend = done;
    utterance.onerror = done;
    this.busy = true;
    entry.spoken = true;
    // Some engines never fire onend (no voice installed): free the guard after a while.
    this._watchdog = setTimeout(done, WATCHDOG_MS);
    this.synth.speak(utterance);
  }

  _next() {
    const next = this.pending;
    this.pending = null;
    if (next && !this.muted && performance.now() - next.at < STALE_MS) this._speak(next);
  }
}
