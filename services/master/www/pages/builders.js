// Builders: every builder with its tags, workers and its last few builds.

import * as api from "../api.js";
import { buildBox, html, setHTML } from "../util.js";

const LAST_BUILDS = 8;

export async function render(view) {
  view.el.innerHTML = "<h1>Builders</h1><div class=\"list\"></div>";
  const target = view.el.querySelector(".list");

  const load = async () => {
    const [buildersBody, workersBody] = await Promise.all([api.get("builders", { order: "name" }), api.get("workers")]);
    const builders = api.list(buildersBody, "builders");
    const workers = api.list(workersBody, "workers");
    const lasts = await Promise.all(
      builders.map((b) => api.get(`builders/${b.builderid}/builds`, { order: "-number", limit: LAST_BUILDS })),
    );
    const rows = builders.map((builder, i) => {
      const own = workers.filter((w) => w.configured_on.some((c) => c.builderid === builder.builderid));
      const builds = api.list(lasts[i], "builds").reverse();
      return html`<tr data-builderid="${builder.builderid}">
        <td><a class="builder-link" href="#/builders/${builder.builderid}">${builder.name}</a>
          ${builder.masterids.length ? "" : html` <span class="muted">(not configured)</span>`}
          ${builder.description ? html`<div class="muted">${builder.description}</div>` : ""}</td>
        <td>${builder.tags.map((t) => html`<span class="tag">${t}</span>`)}</td>
        <td class="boxes">${builds.map((b) => buildBox(b, builder.name))}</td>
        <td>${own.map((w) => html`<span class="worker-pill ${w.connected_to.length ? "on" : "off"}" title="${w.connected_to.length ? "connected" : "disconnected"}">${w.name}</span>`)}</td>
      </tr>`;
    });
    setHTML(target, html`<table class="builders"><thead><tr><th>Builder</th><th>Tags</th><th>Last builds</th><th>Workers</th></tr></thead>
      <tbody>${rows}${rows.length ? "" : html`<tr><td colspan="4" class="muted">No builder is configured.</td></tr>`}</tbody></table>`);
  };

  const refresh = view.refresher(load, 1000);
  await view.subscribe("builds/*/*", refresh);
  await view.subscribe("workers/*/*", refresh);
  await refresh();
}
