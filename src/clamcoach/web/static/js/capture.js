// Frames from the camera or from a chosen video file: drawn into a canvas no larger than
// 640x480, JPEG-encoded, and handed to `onFrame(jpegArrayBuffer, tMs)`. Nothing is stored.
// On a phone, `facing` picks the front camera ("user") or the rear one ("environment").

import { t } from "./i18n.js";

const MAX_W = 640;
const MAX_H = 480;
const FPS = 15;
const JPEG_QUALITY = 0.7;

export class CameraError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // denied | none | busy | insecure | failed
  }
}

export function cameraError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return new CameraError("denied", t("Camera permission was refused. Allow the camera for this page (the camera icon in the address bar), then press Start camera again, or use a video file."));
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return new CameraError("none", t("No camera was found. Connect a camera and press Start camera again, or use a video file."));
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return new CameraError("busy", t("The camera is in use by another program. Close it and press Start camera again."));
  }
  return new CameraError("failed", t("The camera could not be started ({reason}).", { reason: name || err }));
}

export class FrameSource {
  constructor(video, canTake, onFrame) {
    this.video = video;
    this.canTake = canTake;   // () => bool: is there room for another frame in flight?
    this.onFrame = onFrame;
    this.canvas = document.createElement("canvas");
    this.kind = null;         // camera | file
    this.facing = "user";     // the camera in use: user (front) | environment (rear)
    this.epoch = 0;           // bumps when the source (and so its clock) changes
    this.stream = null;
    this.objectUrl = null;
    this.running = false;
    this.lastGrab = -Infinity;
    this.nextDue = -Infinity;
    this.encoding = false;
    this.captured = 0;
    this.onEnded = null;
    this.onTrackEnded = null;
  }

  async startCamera(facing = "user") {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new CameraError("insecure", t("This browser gives no camera here. Open the page at the 127.0.0.1 address clamcoach printed, or, from a phone, start clamcoach with --phone and scan its code."));
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        // "ideal": a laptop's single camera is used whichever way it faces
        video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: FPS },
                 facingMode: { ideal: facing } },
      });
    } catch (err) {
      throw cameraError(err);
    }
    this.stop();
    this.stream = stream;
    this.kind = "camera";
    this.facing = facing;
    this.epoch += 1;
    for (const track of stream.getVideoTracks()) {
      track.onended = () => { if (this.onTrackEnded) this.onTrackEnded(); };
    }
    this.video.srcObject = stream;
    this.video.muted = true;
    await this.video.play();
    this._run();
  }

  async startFile(file) {
    this.stop();
    this.kind = "file";
    this.epoch += 1;
    this.objectUrl = URL.createObjectURL(file);
    this.video.srcObject = null;
    this.video.src = this.objectUrl;
    this.video.muted = true;
    this.video.onended = () => { if (this.onEnded) this.onEnded(); };
    try {
      await this.video.play();
    } catch (err) {
      throw new CameraError("failed", t("This video cannot be played here ({reason}). Try an mp4 or webm file.", { reason: err.name || err }));
    }
    this._run();
  }

  stop() {
    this.running = false;
    this.kind = null;
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
      this.stream = null;
    }
    if (this.objectUrl) {
      URL.revokeObjectURL(this.objectUrl);
      this.objectUrl = null;
    }
    this.video.onended = null;
    this.video.removeAttribute("src");
    this.video.srcObject = null;
  }

  _run() {
    this.running = true;
    const video = this.video;
    if ("requestVideoFrameCallback" in HTMLVideoElement.prototype) {
      // One callback per decoded frame: never the same frame twice, and the file's own
      // media time for each frame.
      const tick = (now, meta) => {
        if (!this.running || this.video !== video) return;
        this._maybeGrab(now, meta);
        video.requestVideoFrameCallback(tick);
      };
      video.requestVideoFrameCallback(tick);
    }
    // A slow timer as well: some headless or background renderers stop frame callbacks.
    const poll = () => {
      if (!this.running) return;
      if (performance.now() - this.lastGrab > 400) this._maybeGrab(performance.now(), null);
      setTimeout(poll, 200);
    };
    setTimeout(poll, 500);
  }

  _maybeGrab(now, meta) {
    const video = this.video;
    if (this.encoding || video.readyState < 2 || !video.videoWidth) return;
    // At most FPS frames a second on average, but with room for the jitter of frame
    // callbacks (a 15 frames/s camera's frames arrive 50-83 ms apart on a 60 Hz display).
    const period = 1000 / FPS;
    if (now < this.nextDue - 0.35 * period) return;
    this.nextDue = Math.max(this.nextDue, now - period) + period;
    this.lastGrab = now;
    if (!this.canTake()) return; // counted as not sent (in-flight cap) by the page
    const tMs = this.kind === "file"
      ? 1000 * (meta && meta.mediaTime !== undefined ? meta.mediaTime : video.currentTime)
      : performance.now();
    const scale = Math.min(1, MAX_W / video.videoWidth, MAX_H / video.videoHeight);
    const w = Math.round(video.videoWidth * scale);
    const h = Math.round(video.videoHeight * scale);
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.canvas.getContext("2d").drawImage(video, 0, 0, w, h);
    this.encoding = true;
    this.canvas.toBlob(async (blob) => {
      try {
        if (blob && this.running) {
          this.captured += 1;
          this.onFrame(await blob.arrayBuffer(), tMs, this.epoch);
        }
      } finally {
        this.encoding = false;
      }
    }, "image/jpeg", JPEG_QUALITY);
  }
}
