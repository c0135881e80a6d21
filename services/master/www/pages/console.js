// Console: the newest changes (rows) against the builders (columns); each cell shows the
// builds made for that change. Builds are tied to changes through their request, buildset
// and source stamps; only the newest few hundred of each are read, so it stays fast with
// any history.

import * as api from "../api.js";
import { ago, buildBox, html, setHTML } from "../util.js";

const CHANGES = 25;
const RECENT = 500;

export async function render(view) {
  view.el.innerHTML = '<h1>Console</h1><div class="console-wrap"></div>';
  const target = view.el.querySelector(".console-wrap");

  const load = async () => {
    const [buildersBody, changesBody, buildsetsBody, requestsBody, buildsBody] = await Promise.all([
      api.get("builders", { order: "name" }),
      api.get("changes", { order: "-changeid", limit: CHANGES }),
      api.get("buildsets", { order: "-bsid", limit: RECENT }),
      api.get("buildrequests", { order: "-buildrequestid", limit: RECENT }),
      api.get("builds", { order: "-buildid", limit: RECENT }),
    ]);
    const builders = api.list(buildersBody, "builders").filter((b) => b.masterids.length);
    const changes = api.list(changesBody, "changes");
    const changeBySsid = new Map(changes.map((c) => [c.sourcestamp?.ssid, c.changeid]));
    const changesOfBuildset = new Map();
    for (const bs of api.list(buildsetsBody, "buildsets")) {
      const ids = bs.sourcestamps.map((ss) => changeBySsid.get(ss.ssid)).filter((id) => id !== undefined);
      if (ids.length) changesOfBuildset.set(bs.bsid, ids);
    }
    const requests = new Map(api.list(requestsBody, "buildrequests").map((r) => [r.buildrequestid, r]));
    const cells = new Map(); // "changeid/builderid" -> builds
    const add = (request, item) => {
      for (const changeid of changesOfBuildset.get(request.buildsetid) || []) {
        const key = `${changeid}/${request.builderid}`;
        if (!cells.has(key)) cells.set(key, []);
        cells.get(key).push(item);
      }
    };
    const built = new Set();
    for (const build of api.list(buildsBody, "builds").reverse()) {
      const request = requests.get(build.buildrequestid);
      if (!request) continue;
      built.add(request.buildrequestid);
      add(request, build);
    }
    for (const request of requests.values()) {
      if (!built.has(request.buildrequestid) && !request.complete) add(request, { pending: request.buildrequestid });
    }
    const cell = (change, builder) => {
      const items = cells.get(`${change.changeid}/${builder.builderid}`) || [];
      return html`<td class="boxes">${items.map((item) => (item.pending
        ? html`<a class="box r-pending" href="#/buildrequests/${item.pending}" title="waiting for a worker">…</a>`
        : buildBox(item, builder.name)))}</td>`;
    };
    setHTML(target, html`<table class="console"><thead><tr><th>Change</th>${builders.map((b) => html`<th class="vertical"><a href="#/builders/${b.builderid}">${b.name}</a></th>`)}</tr></thead><tbody>
      ${changes.map((c) => html`<tr><th class="change-cell"><b>${c.author}</b> <span class="muted">${ago(c.when_timestamp)}</span>
        <div><code>${(c.revision || "").slice(0, 10)}</code> ${c.branch ? html`<span class="tag">${c.branch}</span>` : ""}</div>
        <div class="comments" title="${c.comments}">${(c.comments || "").split("\n")[0]}</div></th>${builders.map((b) => cell(c, b))}</tr>`)}
      ${changes.length ? "" : html`<tr><td colspan="${builders.length + 1}" class="muted">No changes yet; forced builds show on the waterfall.</td></tr>`}
      </tbody></table>`);
  };

  const refresh = view.refresher(load, 1000);
  await view.subscribe("builds/*/*", refresh);
  await view.subscribe("buildrequests/*/*", refresh);
  await view.subscribe("changes/*/*", refresh);
  await refresh();
}
