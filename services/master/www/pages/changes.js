// Changes: newest first, paged (limit/offset).

import * as api from "../api.js";
import { ago, html, pager, setHTML, utc } from "../util.js";

const PAGE = 25;

export async function render(view) {
  const offset = Math.max(0, Number(view.query.get("offset")) || 0);
  view.el.innerHTML = "<h1>Changes</h1><div class=\"list\"></div>";
  const target = view.el.querySelector(".list");
  const load = async () => {
    const body = await api.get("changes", { order: "-changeid", limit: PAGE, offset });
    const changes = api.list(body, "changes");
    setHTML(target, html`<table class="changes"><thead><tr><th>Change</th><th>Author</th><th>When</th><th>Branch</th><th>Revision</th><th>Comments</th></tr></thead><tbody>
      ${changes.map((c) => html`<tr><td>${c.changeid}</td><td>${c.author}</td><td title="${utc(c.when_timestamp)}">${ago(c.when_timestamp)}</td>
        <td>${c.branch ?? ""}</td><td>${c.revlink ? html`<a href="${c.revlink}" target="_blank"><code>${(c.revision || "").slice(0, 12)}</code></a>` : html`<code>${(c.revision || "").slice(0, 12)}</code>`}
        <div class="muted">${c.repository}</div></td>
        <td><div class="comments">${c.comments}</div><div class="muted">${c.files.slice(0, 10).join(", ")}${c.files.length > 10 ? ` and ${c.files.length - 10} more` : ""}</div></td></tr>`)}
      ${changes.length ? "" : html`<tr><td colspan="6" class="muted">No changes.</td></tr>`}</tbody></table>
      ${pager("#/changes", offset, PAGE, body.meta?.total)}`);
  };
  const refresh = view.refresher(load, 500);
  await view.subscribe("changes/*/*", refresh);
  await refresh();
}
