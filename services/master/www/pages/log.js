// A log viewer that follows a log live: the last lines first (a huge log is never loaded
// whole; the rest is one click away as raw text), then every `logs/<id>/append` fetches only
// the lines after the ones shown. Stdio lines carry their stream letter: o, e (stderr), h.

import * as api from "../api.js";
import { ansiToHtml } from "../ansi.js";
import { esc } from "../util.js";

/** Lines shown at most when a log is opened; more come as it grows. */
const TAIL = 2000;
/** Lines fetched per request. */
const CHUNK = 1000;

function lineHtml(line, stream) {
  if (!stream) return `<div class="line">${ansiToHtml(line)}</div>`;
  const kind = line[0];
  const cls = kind === "e" ? "stderr" : kind === "h" ? "header" : "stdout";
  return `<div class="line ${cls}">${ansiToHtml(line.slice(1))}</div>`;
}

/** Shows `log` in `container` and follows it while `view` is shown. */
export async function openLog(view, container, log) {
  container.innerHTML = `<div class="log-head"><b>${esc(log.name)}</b>
    <a href="api/v2/logs/${log.logid}/raw_inline" target="_blank">view raw</a>
    <a href="api/v2/logs/${log.logid}/raw">download</a> <span class="log-count"></span></div>
    <p class="log-skipped muted" hidden></p><pre class="log" data-logid="${log.logid}"></pre>`;
  const pre = container.querySelector("pre");
  const count = container.querySelector(".log-count");
  const stream = log.type === "s";
  let shown = Math.max(0, log.num_lines - TAIL);
  let complete = log.complete;
  let busy = false;
  if (shown > 0) {
    const skipped = container.querySelector(".log-skipped");
    skipped.hidden = false;
    skipped.textContent = `${shown} earlier lines are not shown; view raw for the whole log.`;
  }
  let again = false;
  // Reads from the first line not shown until a short read; lines past the end read as nothing.
  const pull = async () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      for (;;) {
        const body = await api.get(`logs/${log.logid}/contents`, { offset: shown, limit: CHUNK });
        if (!view.alive) return;
        const text = api.list(body, "logchunks")[0]?.content ?? "";
        if (!text) break;
        const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
        const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        pre.insertAdjacentHTML("beforeend", lines.map((l) => lineHtml(l, stream)).join(""));
        if (follow) pre.scrollTop = pre.scrollHeight;
        shown += lines.length;
        if (lines.length < CHUNK) break;
      }
      count.textContent = `${shown} line${shown === 1 ? "" : "s"}${complete ? "" : ", following"}`;
    } catch (error) {
      view.fail(error);
    } finally {
      busy = false;
    }
    // Events that came during a read asked for another one.
    if (again && view.alive) {
      again = false;
      await pull();
    }
  };
  await view.subscribe(`logs/${log.logid}/*`, (key, message) => {
    if (message?.complete !== undefined) complete = message.complete;
    pull();
  });
  // Consuming first, reading second: no line can fall between the two.
  await pull();
}
