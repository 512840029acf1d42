// The workspace's only script (served from this server; the page allows no other):
// times in the reader's own time zone, and the upload's progress bar.
"use strict";

function localTimes() {
  const fmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const el of document.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!isNaN(when)) { el.textContent = fmt.format(when); el.title = el.getAttribute("datetime"); }
  }
  for (const el of document.querySelectorAll("option[data-time]")) {
    const when = new Date(el.dataset.time);
    if (!isNaN(when)) el.textContent = el.textContent.replace(/^\S+ \S+/, fmt.format(when));
  }
}

function followUpload() {
  // (not "upload": the patient page has a heading of that id)
  const box = document.getElementById("upload-job");
  if (!box) return;
  const bar = document.getElementById("upload-progress");
  const state = document.getElementById("upload-state");
  const done = document.getElementById("upload-done");
  const link = document.getElementById("upload-report");
  // The words, in the page's language, from the template (this script has no catalogue).
  const words = { queued: box.dataset.queued, running: box.dataset.running, done: box.dataset.done,
                  failed: box.dataset.failed };
  async function poll() {
    let status;
    try {
      const res = await fetch(box.dataset.status, { credentials: "same-origin", cache: "no-store" });
      status = await res.json();
    } catch (err) {
      setTimeout(poll, 2000);
      return;
    }
    bar.value = status.percent;
    bar.textContent = status.percent + "%";
    state.textContent = (words[status.state] || status.state) +
      (status.state === "running" ? " " + status.percent + "%" : "") + (status.error ? ": " + status.error : "");
    if (status.report_url) {
      link.href = status.report_url;
      done.hidden = false;
      setTimeout(() => { window.location.assign(status.report_url); }, 800);
    } else if (status.state !== "failed") {
      setTimeout(poll, 700);
    }
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => { localTimes(); followUpload(); });
