// One builder: Force buttons (one per ForceScheduler), pending requests with Cancel, its
// workers and its builds, paged (limit/offset), newest first.

import * as api from "../api.js";
import { toast } from "../app.js";
import { openForceDialog } from "../force.js";
import { ago, badge, buildHref, duration, elapsed, html, setHTML, pager, utc } from "../util.js";

const PAGE = 25;

export async function render(view) {
  const builderid = view.params.builderid;
  const offset = Math.max(0, Number(view.query.get("offset")) || 0);
  const builder = await api.one(`builders/${builderid}`, "builders");
  if (!builder) throw new Error(`builder ${builderid} not found`);
  const route = `#/builders/${builderid}`;
  const forceschedulers = api.list(await api.get(`builders/${builderid}/forceschedulers`), "forceschedulers");
  setHTML(view.el, html`<h1>Builder <span class="builder-name">${builder.name}</span></h1>
    ${builder.description ? html`<p>${builder.description}</p>` : ""}
    <p>${builder.tags.map((t) => html`<span class="tag">${t}</span>`)}</p>
    <div class="toolbar">${forceschedulers.map((s, i) => html`<button type="button" class="primary force-button" data-index="${i}">${s.button_name || s.name}</button>`)}</div>
    <div class="columns"><section class="wide"><h2>Builds</h2><div class="builds"></div></section>
    <aside><h2>Pending build requests</h2><div class="pending"></div><h2>Workers</h2><div class="workers"></div></aside></div>`);
  for (const button of view.el.querySelectorAll(".force-button")) {
    button.onclick = () => openForceDialog(forceschedulers[Number(button.dataset.index)], builder, (brid) => {
      toast(`Build request ${brid} submitted`, "info");
      location.hash = `#/buildrequests/${brid}`;
    });
  }

  const loadBuilds = async () => {
    const body = await api.get(`builders/${builderid}/builds`, { order: "-number", limit: PAGE, offset });
    const builds = api.list(body, "builds");
    setHTML(view.el.querySelector(".builds"), html`<table class="build-list"><thead><tr><th>#</th><th>Result</th><th>State</th><th>Started</th><th>Duration</th></tr></thead><tbody>
      ${builds.map((b) => html`<tr data-number="${b.number}"><td><a href="${buildHref(b)}">#${b.number}</a></td><td>${badge(b.results)}</td>
        <td>${b.state_string}</td><td title="${utc(b.started_at)}">${ago(b.started_at)}</td><td>${duration(elapsed(b))}</td></tr>`)}
      ${builds.length ? "" : html`<tr><td colspan="5" class="muted">No builds${offset ? " on this page" : " yet"}.</td></tr>`}
      </tbody></table>${pager(route, offset, PAGE, body.meta?.total)}`);
  };

  const loadPending = async () => {
    const body = await api.get(`builders/${builderid}/buildrequests`, { claimed: false, complete: false, order: "buildrequestid", limit: 50 });
    const requests = api.list(body, "buildrequests");
    setHTML(view.el.querySelector(".pending"), requests.length
      ? html`<ul class="plain">${requests.map((r) => html`<li data-brid="${r.buildrequestid}"><a href="#/buildrequests/${r.buildrequestid}">request ${r.buildrequestid}</a>
          <span class="muted">${ago(r.submitted_at)}, priority ${r.priority}</span> <button type="button" class="small cancel-request" data-brid="${r.buildrequestid}">Cancel</button></li>`)}</ul>
          ${body.meta?.total > requests.length ? html`<p class="muted">and ${body.meta.total - requests.length} more</p>` : ""}`
      : html`<p class="muted">None.</p>`);
    for (const button of view.el.querySelectorAll(".cancel-request")) {
      button.onclick = () => api.rpc(`buildrequests/${button.dataset.brid}`, "cancel", { reason: "cancelled from the dashboard" })
        .catch((error) => view.fail(error));
    }
  };

  const loadWorkers = async () => {
    const workers = api.list(await api.get(`builders/${builderid}/workers`), "workers");
    setHTML(view.el.querySelector(".workers"), workers.length
      ? html`<ul class="plain">${workers.map((w) => html`<li><span class="worker-pill ${w.connected_to.length ? "on" : "off"}">${w.name}</span>
          ${w.paused ? html` <span class="badge r-warnings">paused</span>` : ""}</li>`)}</ul>`
      : html`<p class="muted">No worker is configured for this builder.</p>`);
  };

  const builds = view.refresher(loadBuilds, 300);
  const pending = view.refresher(loadPending, 300);
  const workers = view.refresher(loadWorkers, 1000);
  await view.subscribe(`builders/${builderid}/builds/*/*`, builds);
  await view.subscribe(`builders/${builderid}/buildrequests/*/*`, pending);
  await view.subscribe("workers/*/*", workers);
  await Promise.all([builds(), pending(), workers()]);
}
