// Waterfall: one column per builder, time flowing down from the newest build, one box per
// build spanning its start and end. Quiet gaps are compressed (the spacing between two
// moments grows with the log of the time between them), so minutes and days both read well.
// Only the newest `limit` builds are loaded (default 100), older ones page by offset.

import * as api from "../api.js";
import { buildHref, duration, elapsed, esc, now, resultName, resultClass } from "../util.js";

const DEFAULT_LIMIT = 100;
const MIN_BOX = 16;

function clock(epoch) {
  const d = new Date(epoch * 1000);
  return d.toISOString().slice(5, 19).replace("T", " ");
}

/** A build's start and end in whole seconds, at least one second apart. */
function span(build, t) {
  const start = Math.floor(build.started_at);
  return [start, Math.max(start + 1, Math.ceil(build.complete_at ?? t))];
}

/** y for every moment: newest at 0, spacing by the log of the time between moments, and
 * every build at least `MIN_BOX` tall, so boxes of one column never overlap. */
function timeAxis(builds, t) {
  const moments = new Set();
  const endsOfStart = new Map(); // start moment -> end moments of the builds starting then
  for (const b of builds) {
    const [start, end] = span(b, t);
    moments.add(start);
    moments.add(end);
    if (!endsOfStart.has(start)) endsOfStart.set(start, []);
    endsOfStart.get(start).push(end);
  }
  const sorted = [...moments].sort((a, b) => b - a);
  const y = new Map();
  let position = 0;
  sorted.forEach((moment, i) => {
    if (i > 0) position += Math.min(80, 7 * Math.log2(1 + sorted[i - 1] - moment));
    for (const end of endsOfStart.get(moment) || []) position = Math.max(position, y.get(end) + MIN_BOX);
    y.set(moment, position);
  });
  return { y, sorted, height: position + MIN_BOX + 4 };
}

export async function render(view) {
  const limit = Math.min(1000, Math.max(1, Number(view.query.get("limit")) || DEFAULT_LIMIT));
  const offset = Math.max(0, Number(view.query.get("offset")) || 0);
  view.el.innerHTML = '<h1>Waterfall</h1><div class="waterfall-wrap"></div>';
  const target = view.el.querySelector(".waterfall-wrap");

  const load = async () => {
    const [buildersBody, buildsBody] = await Promise.all([
      api.get("builders", { order: "name" }),
      api.get("builds", { order: "-buildid", limit, offset }),
    ]);
    const builders = api.list(buildersBody, "builders").filter((b) => b.masterids.length);
    const builds = api.list(buildsBody, "builds");
    const total = buildsBody.meta?.total;
    const t = now();
    const { y, sorted, height } = timeAxis(builds, t);
    let bottomMost = height;
    const columns = builders.map((builder) => {
      // Newest first; builds within the same second share a moment, so each box also starts
      // below the previous one of its column.
      const own = builds.filter((b) => b.builderid === builder.builderid).sort((a, b) => b.number - a.number);
      let floor = 0;
      const boxes = own.map((b) => {
        const [start, end] = span(b, t);
        const top = Math.max(y.get(end), floor);
        const bottom = Math.max(y.get(start), top + MIN_BOX);
        floor = bottom;
        bottomMost = Math.max(bottomMost, bottom + 4);
        const size = bottom - top;
        const title = `${builder.name} #${b.number}: ${resultName(b.results)}, ${b.state_string} (${duration(elapsed(b))})`;
        return `<a class="build ${resultClass(b.results)}" href="${buildHref(b)}" title="${esc(title)}" style="top:${top}px;height:${size}px">#${b.number}${size >= 30 ? `<small>${esc(b.state_string)}</small>` : ""}</a>`;
      });
      return `<div class="wf-column" data-builderid="${builder.builderid}">${boxes.join("")}</div>`;
    });
    let lastLabel = -Infinity;
    const labels = sorted.filter((moment) => {
      if (y.get(moment) - lastLabel < 40) return false;
      lastLabel = y.get(moment);
      return true;
    }).map((moment) => `<div class="wf-time" style="top:${y.get(moment)}px">${clock(moment)}</div>`);
    const older = total === undefined || offset + limit < total
      ? `<a class="next" href="#/waterfall?limit=${limit}&offset=${offset + limit}">older builds →</a>` : "";
    const newer = offset > 0 ? `<a class="prev" href="#/waterfall?limit=${limit}&offset=${Math.max(0, offset - limit)}">← newer builds</a>` : "";
    target.innerHTML = `<div class="pager">${newer}<span>${builds.length} builds${total !== undefined ? ` of ${total}` : ""}</span>${older}</div>
      <div class="waterfall">
        <div class="wf-header"><div class="wf-axis-head">time (UTC)</div>${builders.map((b) => `<div class="wf-name"><a href="#/builders/${b.builderid}">${esc(b.name)}</a></div>`).join("")}</div>
        <div class="wf-body" style="height:${bottomMost}px"><div class="wf-axis">${labels.join("")}</div>${columns.join("")}</div>
      </div>
      ${builds.length ? "" : '<p class="muted">No builds yet.</p>'}`;
  };

  const refresh = view.refresher(load, 1000);
  await view.subscribe("builds/*/*", refresh);
  // Running builds grow downwards as time passes.
  view.every(5000, () => refresh());
  await refresh();
}
