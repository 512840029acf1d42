// Spoken cues with the browser's own speech synthesis (no cloud voice is ever asked for).
// One at a time: while a cue is being spoken, a newer one waits (only the newest), and is
// dropped if it has gone stale by the time the first one ends.
// Three things are spoken, each mutable on its own and remembered: the cues ("voice"), the
// rep numbers ("count") and the hold countdown ("hold").

const MUTE_KEY = "clamcoach.muted";
const CHANNEL_KEYS = { count: "clamcoach.muted.count", hold: "clamcoach.muted.hold" };
const STALE_MS = 2500;
const WATCHDOG_MS = 8000;

export class Speaker {
  constructor() {
    this.synth = window.speechSynthesis || null;
    this.muted = localStorage.getItem(MUTE_KEY) === "1";
    this.channelMuted = {};
    for (const [channel, key] of Object.entries(CHANNEL_KEYS)) this.channelMuted[channel] = localStorage.getItem(key) === "1";
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

  isMuted(channel) {
    return channel === "voice" ? this.muted : !!this.channelMuted[channel];
  }

  setChannelMuted(channel, muted) {
    this.channelMuted[channel] = muted;
    localStorage.setItem(CHANNEL_KEYS[channel], muted ? "1" : "0");
  }

  /** `channel`: "voice" (cues, muted by the voice button), "count" or "hold". */
  say(text, kind = "info", channel = "voice") {
    const muted = this.isMuted(channel);
    const entry = { text, kind, channel, at: performance.now(), spoken: false, muted: !!muted };
    this.log.push(entry);
    if (this.log.length > 200) this.log.shift();
    if (muted || !this.synth) return;
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
    if (next && !this.isMuted(next.channel) && performance.now() - next.at < STALE_MS) this._speak(next);
  }
}
