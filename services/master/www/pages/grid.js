// Grid: branches (rows) against builders (columns); each cell shows the newest builds of that
// builder on that branch, newest on the right. Reads only the newest builds (with their
// `branch` property), so it stays fast with any history.

import * as api from "../api.js";
import { buildBox, html, setHTML } from "../util.js";

const RECENT = 300;
const PER_CELL = 5;

export async function render(view) {
  const wanted = view.query.get("branch");
  view.el.innerHTML = '<h1>Grid</h1><div class="grid-wrap"></div>';
  const target = view.el.querySelector(".grid-wrap");

  const load = async () => {
    const [buildersBody, buildsBody] = await Promise.all([
      api.get("builders", { order: "name" }),
      api.get("builds", { order: "-buildid", limit: RECENT, property: "branch" }),
    ]);
    const builders = api.list(buildersBody, "builders").filter((b) => b.masterids.length);
    const cells = new Map(); // branch -> builderid -> builds (newest first)
    for (const build of api.list(buildsBody, "builds")) {
      const branch = build.properties?.branch?.[0] || "(no branch)";
      if (!cells.has(branch)) cells.set(branch, new Map());
      const row = cells.get(branch);
      if (!row.has(build.builderid)) row.set(build.builderid, []);
      const list = row.get(build.builderid);
      if (list.length < PER_CELL) list.push(build);
    }
    const branches = [...cells.keys()].sort();
    const shown = wanted ? branches.filter((b) => b === wanted) : branches;
    setHTML(target, html`<p><label>Branch <select class="branch-filter"><option value="">all</option>
      ${branches.map((b) => html`<option ${b === wanted ? "selected" : ""}>${b}</option>`)}</select></label></p>
      <table class="grid"><thead><tr><th>Branch</th>${builders.map((b) => html`<th><a href="#/builders/${b.builderid}">${b.name}</a></th>`)}</tr></thead><tbody>
      ${shown.map((branch) => html`<tr><th><span class="tag">${branch}</span></th>${builders.map((b) => html`<td class="boxes">${(cells.get(branch).get(b.builderid) || []).slice().reverse().map((x) => buildBox(x, b.name))}</td>`)}</tr>`)}
      ${shown.length ? "" : html`<tr><td colspan="${builders.length + 1}" class="muted">No builds yet.</td></tr>`}</tbody></table>`);
    target.querySelector(".branch-filter").onchange = (event) => {
      location.hash = event.target.value ? `#/grid?branch=${encodeURIComponent(event.target.value)}` : "#/grid";
    };
  };

  const refresh = view.refresher(load, 1000);
  await view.subscribe("builds/*/*", refresh);
  await refresh();
}
