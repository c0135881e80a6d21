// One build request: waits for its build and then shows the build's page (a forced or
// rebuilt request lands here); a pending request can be cancelled.

import * as api from "../api.js";
import { ago, badge, buildHref, html, setHTML } from "../util.js";

export async function render(view) {
  const brid = view.params.buildrequestid;
  const request = await api.one(`buildrequests/${brid}`, "buildrequests");
  if (!request) throw new Error(`build request ${brid} not found`);
  const builder = await api.one(`builders/${request.builderid}`, "builders");

  const load = async () => {
    const current = (await api.one(`buildrequests/${brid}`, "buildrequests")) ?? request;
    const builds = api.list(await api.get(`buildrequests/${brid}/builds`, { order: "-number" }), "builds");
    if (builds.length) {
      // The build page is what the user is after; replace, so Back skips this page.
      location.replace(buildHref(builds[0]));
      return;
    }
    setHTML(view.el, html`<h1>Build request ${brid}</h1>
      <p>For builder <a href="#/builders/${current.builderid}">${builder?.name ?? current.builderid}</a>,
        submitted ${ago(current.submitted_at)}, priority ${current.priority}.</p>
      <p>${badge(current.complete ? current.results : -1, current.complete ? undefined : "waiting for a worker")}</p>
      ${current.complete ? "" : html`<button type="button" class="danger cancel-request">Cancel</button>`}`);
    const cancel = view.el.querySelector(".cancel-request");
    if (cancel) {
      cancel.onclick = () => api.rpc(`buildrequests/${brid}`, "cancel", { reason: "cancelled from the dashboard" })
        .catch((error) => view.fail(error));
    }
  };

  const refresh = view.refresher(load, 200);
  await view.subscribe(`buildrequests/${brid}/*`, refresh);
  await view.subscribe(`builders/${request.builderid}/builds/*/new`, refresh);
  await refresh();
}
