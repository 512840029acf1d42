// The WebSocket to the local server: hello with the session id, frames out, results in.
// Never more than MAX_IN_FLIGHT frames unanswered (the server keeps only the newest one
// anyway), reconnects with backoff, and keeps the send->receive latency of every frame.

const MAX_IN_FLIGHT = 2;
const LATENCY_KEEP = 3000;
const SESSION_KEY = "clamcoach.session";
const TAB_KEY = "clamcoach.tab";
const CLOSE_NOT_PAIRED = 1008;

function token() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function stored(key, make) {
  let value = sessionStorage.getItem(key);
  if (!value && make) {
    value = make();
    sessionStorage.setItem(key, value);
  }
  return value;
}

export class Transport extends EventTarget {
  constructor(url, role = "coach") {
    super();
    this.url = url;
    this.role = role;         // coach (sends frames) | viewer (shows another page's coaching)
    this.tab = stored(TAB_KEY, token);  // survives a reload of this tab, not a new tab
    this.ws = null;
    this.state = "idle";      // idle | connecting | open | reconnecting | busy | taken_over | not_paired
    this.ready = false;       // the server's pose model is loaded
    this.attempt = 0;
    this.timer = null;
    this.nextId = 1;
    this.inFlight = new Map(); // frame id -> send time (performance.now())
    this.latencies = [];       // [send->result ms]
    this.serverMs = [];        // [ms the server spent on each answered frame: waiting + analysing]
    this.sent = 0;
    this.results = 0;
    this.skipped = 0;          // frames the page did not send: too many in flight
    this.serverDropped = 0;    // frames the server replaced with newer ones
    this.takeover = false;
  }

  get sessionId() { return sessionStorage.getItem(SESSION_KEY); }

  connect(takeover = false) {
    clearTimeout(this.timer);
    this.takeover = takeover;
    this._set(this.attempt ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (err) {
      this._scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", session: this.sessionId, tab: this.tab, takeover: this.takeover,
                               role: this.role }));
    };
    ws.onmessage = (ev) => this._onMessage(ws, ev);
    ws.onclose = (ev) => this._onClose(ws, ev);
    ws.onerror = () => {}; // onclose follows and decides what to do
  }

  _set(state, detail = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state, attempt: this.attempt, ...detail } }));
  }

  _onMessage(ws, ev) {
    if (ws !== this.ws || typeof ev.data !== "string") return;
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch (err) {
      return;
    }
    const now = performance.now();
    if (msg.id !== undefined && this.inFlight.has(msg.id)) {
      const sentAt = this.inFlight.get(msg.id);
      this.inFlight.delete(msg.id);
      if (msg.type === "result") {
        this.latencies.push(now - sentAt);
        this.serverMs.push((msg.queue_ms || 0) + (msg.proc_ms || 0));
        if (this.latencies.length > LATENCY_KEEP) this.latencies.splice(0, this.latencies.length - LATENCY_KEEP);
        if (this.serverMs.length > LATENCY_KEEP) this.serverMs.splice(0, this.serverMs.length - LATENCY_KEEP);
      }
    }
    switch (msg.type) {
      case "welcome":
        if (msg.session_id) sessionStorage.setItem(SESSION_KEY, msg.session_id);
        this.attempt = 0;
        this.ready = !!(msg.session && msg.session.ready);
        this.inFlight.clear();
        this._set("open");
        break;
      case "ready":
        this.ready = true;
        break;
      case "result":
        this.results += 1;
        break;
      case "dropped":
        this.serverDropped += 1;
        break;
      case "busy":
      case "taken_over":
      case "replaced":
        this.ready = false;
        this._set(msg.type === "busy" ? "busy" : "taken_over", { message: msg.message });
        break;
      default:
        break;
    }
    this.dispatchEvent(new CustomEvent("message", { detail: msg }));
  }

  _onClose(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.ready = false;
    this.inFlight.clear();
    if (ev && ev.code === CLOSE_NOT_PAIRED) {
      this._set("not_paired"); // reconnecting cannot help: the phone must be paired again
      return;
    }
    if (this.state === "busy" || this.state === "taken_over") return; // wait for the person
    this._scheduleReconnect();
  }

  _scheduleReconnect() {
    this.attempt += 1;
    // 0.5, 1, 2, 4, 8 s (with jitter), then every 8 s: quick after a blip, gentle after a crash.
    const delay = Math.min(8000, 500 * 2 ** (this.attempt - 1)) * (0.8 + 0.4 * Math.random());
    this._set("reconnecting", { delay });
    this.timer = setTimeout(() => this.connect(false), delay);
  }

  /** Drop the connection (a test hook and the "simulate" path); it reconnects by itself. */
  dropForTest() {
    if (this.ws) this.ws.close();
  }

  canSend() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN && this.state === "open"
      && this.ready && this.inFlight.size < MAX_IN_FLIGHT;
  }

  /** Send one JPEG; returns false (and counts a skip) when it would exceed the in-flight cap. */
  sendFrame(jpeg, tMs, epoch) {
    if (!this.canSend()) {
      if (this.state === "open" && this.ready) this.skipped += 1;
      return false;
    }
    const id = this.nextId++;
    const header = new TextEncoder().encode(JSON.stringify({ type: "frame", id, t: tMs, epoch }));
    const buf = new Uint8Array(4 + header.length + jpeg.byteLength);
    new DataView(buf.buffer).setUint32(0, header.length, false);
    buf.set(header, 4);
    buf.set(new Uint8Array(jpeg), 4 + header.length);
    this.inFlight.set(id, performance.now());
    this.ws.send(buf);
    this.sent += 1;
    return true;
  }

  control(action) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "control", action }));
      return true;
    }
    return false;
  }

  latencyStats() {
    const xs = [...this.latencies].sort((a, b) => a - b);
    const q = (p) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : null);
    return { n: xs.length, p50: q(0.5), p95: q(0.95), max: xs.length ? xs[xs.length - 1] : null,
             sent: this.sent, results: this.results, skipped: this.skipped, dropped: this.serverDropped };
  }
}
