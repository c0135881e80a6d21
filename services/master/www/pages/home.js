// Home: running builds with a progress bar and ETA (from the builder's earlier successful
// builds), pending requests and the most recent finished builds.

import * as api from "../api.js";
import { ago, badge, buildBox, buildHref, byId, duration, elapsed, html, setHTML } from "../util.js";

const RECENT = 20;
const HISTORY = 5;

/** The mean duration of a builder's last few successful builds, or null. */
async function typicalDuration(builderid, cache) {
  if (!cache.has(builderid)) {
    const body = await api.get(`builders/${builderid}/builds`, {
      complete: true, results: 0, order: "-number", limit: HISTORY,
    });
    const times = api.list(body, "builds").map((b) => b.complete_at - b.started_at);
    cache.set(builderid, times.length ? times.reduce((a, b) => a + b, 0) / times.length : null);
  }
  return cache.get(builderid);
}

function runningRow(build, builder, typical) {
  const spent = elapsed(build);
  const left = typical === null ? null : typical - spent;
  const percent = typical ? Math.min(100, Math.round((100 * spent) / typical)) : null;
  const eta = left === null ? "no earlier build to judge by" : left > 0 ? `ETA ${duration(left)}` : `overdue by ${duration(-left)}`;
  return html`<tr class="running-build" data-buildid="${build.buildid}">
    <td><a href="#/builders/${build.builderid}">${builder?.name ?? build.builderid}</a></td>
    <td><a href="${buildHref(build)}">#${build.number}</a></td>
    <td>${build.state_string}</td>
    <td>${duration(spent)}</td>
    <td class="eta"><div class="progress"><div style="width:${percent ?? 100}%" class="${percent === null ? "unknown" : ""}"></div></div>${eta}</td>
  </tr>`;
}

export async function render(view) {
  view.el.innerHTML = "<h1>Home</h1><div class=\"home\"></div>";
  const body = view.el.querySelector(".home");
  const typical = new Map();
  let running = [];
  let builders = new Map();

  const drawRunning = async () => {
    const rows = [];
    for (const build of running) {
      rows.push(runningRow(build, builders.get(build.builderid), await typicalDuration(build.builderid, typical)));
    }
    const table = body.querySelector(".running tbody");
    if (table) setHTML(table, rows.length ? rows : html`<tr><td colspan="5" class="muted">No build is running.</td></tr>`);
  };

  const load = async () => {
    const [buildersBody, runningBody, recentBody, pendingBody] = await Promise.all([
      api.get("builders"),
      api.get("builds", { complete: false, order: "-buildid", limit: 100 }),
      api.get("builds", { complete: true, order: "-buildid", limit: RECENT }),
      api.get("buildrequests", { claimed: false, complete: false, order: "-buildrequestid", limit: 1 }),
    ]);
    builders = byId(api.list(buildersBody, "builders"), "builderid");
    running = api.list(runningBody, "builds");
    const recent = api.list(recentBody, "builds");
    const pending = pendingBody.meta?.total ?? api.list(pendingBody, "buildrequests").length;
    typical.clear();
    setHTML(body, html`
      <section><h2>Running builds <span class="count">${running.length}</span></h2>
        <table class="running"><thead><tr><th>Builder</th><th>Build</th><th>State</th><th>Running for</th><th>Progress</th></tr></thead><tbody></tbody></table>
        <p class="muted">${pending} build request${pending === 1 ? "" : "s"} waiting for a worker.</p>
      </section>
      <section><h2>Recent builds</h2>
        <p class="boxes">${recent.map((b) => buildBox(b, builders.get(b.builderid)?.name))}</p>
        <table class="recent"><thead><tr><th>Builder</th><th>Build</th><th>Result</th><th>State</th><th>Took</th><th>Finished</th></tr></thead><tbody>
        ${recent.map((b) => html`<tr><td><a href="#/builders/${b.builderid}">${builders.get(b.builderid)?.name ?? b.builderid}</a></td>
          <td><a href="${buildHref(b)}">#${b.number}</a></td><td>${badge(b.results)}</td><td>${b.state_string}</td>
          <td>${duration(elapsed(b))}</td><td title="${new Date(b.complete_at * 1000).toISOString()}">${ago(b.complete_at)}</td></tr>`)}
        ${recent.length ? "" : html`<tr><td colspan="6" class="muted">No build has finished yet.</td></tr>`}
        </tbody></table>
      </section>`);
    await drawRunning();
  };

  const refresh = view.refresher(load, 500);
  await view.subscribe("builds/*/*", refresh);
  await view.subscribe("buildrequests/*/*", refresh);
  view.every(1000, () => running.length && drawRunning().catch(() => {}));
  await refresh();
}
