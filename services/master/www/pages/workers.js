// Workers: the master each is connected to, its info, paused / graceful state, and the
// pause / unpause actions (JSON-RPC on /workers/<id>).

import * as api from "../api.js";
import { byId, html, setHTML } from "../util.js";

function state(worker) {
  if (worker.paused) return html`<span class="badge r-warnings" title="${worker.pause_reason || ""}">paused${worker.pause_reason ? `: ${worker.pause_reason}` : ""}</span>`;
  if (worker.graceful) return html`<span class="badge r-skipped">stopping gracefully</span>`;
  if (worker.connected_to.length) return html`<span class="badge r-success">connected</span>`;
  return html`<span class="badge r-cancelled">disconnected</span>`;
}

export async function render(view) {
  view.el.innerHTML = "<h1>Workers</h1><div class=\"list\"></div>";
  const target = view.el.querySelector(".list");

  const load = async () => {
    const [workersBody, mastersBody, buildersBody] = await Promise.all([api.get("workers", { order: "name" }), api.get("masters"), api.get("builders")]);
    const masters = byId(api.list(mastersBody, "masters"), "masterid");
    const builders = byId(api.list(buildersBody, "builders"), "builderid");
    const workers = api.list(workersBody, "workers");
    setHTML(target, html`<table class="workers"><thead><tr><th>Worker</th><th>State</th><th>Master</th><th>Info</th><th>Builders</th><th></th></tr></thead><tbody>
      ${workers.map((w) => {
        const info = w.workerinfo || {};
        const names = [...new Set(w.configured_on.map((c) => builders.get(c.builderid)?.name).filter(Boolean))];
        return html`<tr data-worker="${w.name}"><td><b>${w.name}</b></td><td class="state">${state(w)}</td>
          <td>${w.connected_to.map((c) => html`<a href="#/masters">${masters.get(c.masterid)?.name ?? c.masterid}</a>`)}</td>
          <td class="info">${info.admin ? html`<div>admin: ${info.admin}</div>` : ""}${info.host ? html`<div>host: ${info.host}</div>` : ""}
            ${info.version ? html`<div>version: ${info.version}</div>` : ""}${info.os ? html`<div>os: ${info.os}</div>` : ""}</td>
          <td>${names.map((n) => html`<span class="tag">${n}</span>`)}</td>
          <td>${w.paused
            ? html`<button type="button" class="small unpause" data-id="${w.workerid}">Unpause</button>`
            : html`<button type="button" class="small pause" data-id="${w.workerid}">Pause</button>`}</td></tr>`;
      })}
      ${workers.length ? "" : html`<tr><td colspan="6" class="muted">No worker is configured.</td></tr>`}</tbody></table>`);
    for (const button of target.querySelectorAll("button.pause, button.unpause")) {
      const action = button.classList.contains("pause") ? "pause" : "unpause";
      button.onclick = () => api.rpc(`workers/${button.dataset.id}`, action, { reason: `${action}d from the dashboard` })
        .then(() => refresh())
        .catch((error) => view.fail(error));
    }
  };

  const refresh = view.refresher(load, 300);
  await view.subscribe("workers/*/*", refresh);
  await view.subscribe("masters/*/*", refresh);
  await refresh();
}
