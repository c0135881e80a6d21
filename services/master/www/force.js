// The Force dialog, generated from a ForceScheduler's parameter specs (`all_fields` of
// /api/v2/forceschedulers): fixed, text/string, textarea, int, bool, username, list (choices),
// file and nested groups (layouts simple, vertical, tabs; 1–4 columns).

import * as api from "./api.js";
import { esc, html, raw, setHTML } from "./util.js";

let serial = 0;

function inputId(spec) {
  serial += 1;
  return `f-${(spec.fullName || spec.name || "field").replace(/[^A-Za-z0-9_-]/g, "_")}-${serial}`;
}

function label(spec, id) {
  return spec.label ? html`<label for="${id}">${spec.label}</label>` : "";
}

function choices(spec) {
  const list = spec.choices || [];
  const defaults = new Set([].concat(spec.default ?? []).map(String));
  return list.map((choice) => html`<option value="${choice}" ${defaults.has(String(choice)) ? raw("selected") : ""}>${choice}</option>`);
}

// One parameter as markup. Inputs carry their fullName and kind for `collect`.
function field(spec) {
  const name = spec.fullName ?? spec.name;
  const id = inputId(spec);
  const common = html`id="${id}" data-name="${name}" data-kind="${spec.type}" title="${spec.tooltip || ""}" ${spec.required ? raw("required") : ""}`;
  const wrap = (control) => html`<div class="field${spec.hide ? " hidden" : ""}">${label(spec, id)}${control}</div>`;
  switch (spec.type) {
    case "nested":
      return nested(spec);
    case "fixed":
      return wrap(html`<input ${common} value="${spec.default ?? ""}" readonly>`);
    case "textarea":
      return wrap(html`<textarea ${common} cols="${spec.cols || 80}" rows="${spec.rows || 5}">${spec.default ?? ""}</textarea>`);
    case "int":
      return wrap(html`<input ${common} type="number" step="1" value="${spec.default ?? 0}">`);
    case "bool":
      return html`<div class="field check${spec.hide ? " hidden" : ""}"><input ${common} type="checkbox" ${spec.default ? raw("checked") : ""}>${label(spec, id)}</div>`;
    case "list": {
      if (spec.strict === false && !spec.multiple) {
        const listId = `${id}-choices`;
        return wrap(html`<input ${common} list="${listId}" value="${spec.default ?? ""}"><datalist id="${listId}">${choices(spec)}</datalist>`);
      }
      return wrap(html`<select ${common} ${spec.multiple ? raw("multiple") : ""}>${choices(spec)}</select>`);
    }
    case "file":
      return wrap(html`<input ${common} type="file">`);
    default: // text, string, username and anything newer: a line of text
      return wrap(html`<input ${common} type="text" size="${spec.size || 20}" value="${spec.default ?? ""}" ${spec.regex ? html`pattern="${spec.regex}"` : ""}>`);
  }
}

function nested(spec) {
  const fields = spec.fields || [];
  const columns = Math.min(Math.max(Number(spec.columns) || 1, 1), 4);
  const heading = spec.label ? html`<legend>${spec.label}</legend>` : "";
  if (spec.layout === "tabs") {
    const tabs = fields.map((child, i) => html`<button type="button" class="tab${i ? "" : " active"}" data-tab="${i}">${child.tablabel || child.label || child.name}</button>`);
    const panes = fields.map((child, i) => html`<div class="pane${i ? " hidden" : ""}" data-pane="${i}">${field(child)}</div>`);
    return html`<fieldset class="nested tabs">${heading}<div class="tabbar">${tabs}</div>${panes}</fieldset>`;
  }
  return html`<fieldset class="nested layout-${spec.layout || "vertical"}" style="grid-template-columns: repeat(${columns}, minmax(0, 1fr))">${heading}${fields.map(field)}</fieldset>`;
}

async function value(input) {
  switch (input.dataset.kind) {
    case "int":
      return input.value.trim() === "" ? null : Number.parseInt(input.value, 10);
    case "bool":
      return input.checked;
    case "list":
      return input.multiple ? [...input.selectedOptions].map((o) => o.value) : input.value;
    case "file":
      return input.files[0] ? await input.files[0].text() : "";
    default:
      return input.value;
  }
}

/** The parameters of a filled-in form, by fullName. */
export async function collect(form) {
  const params = {};
  for (const input of form.querySelectorAll("[data-name]")) {
    const v = await value(input);
    if (v !== null) params[input.dataset.name] = v;
  }
  return params;
}

/** Opens the dialog of `scheduler` for `builder`; `onForced(brid)` runs after a success. */
export function openForceDialog(scheduler, builder, onForced) {
  const dialog = document.createElement("dialog");
  dialog.className = "force-dialog";
  setHTML(dialog, html`<form method="dialog" class="force-form" novalidate>
      <h2>${scheduler.label || scheduler.name}</h2>
      <p class="muted">Builder <b>${builder.name}</b> · scheduler <code>${scheduler.name}</code></p>
      <div class="fields">${(scheduler.all_fields || []).map(field)}</div>
      <p class="error force-error" role="alert" hidden></p>
      <div class="actions">
        <button type="button" class="cancel">Cancel</button>
        <button type="submit" class="primary start">${scheduler.button_name || "Start build"}</button>
      </div>
    </form>`);
  document.body.append(dialog);
  const form = dialog.querySelector("form");
  const error = dialog.querySelector(".force-error");
  for (const tab of dialog.querySelectorAll(".tab")) {
    tab.onclick = () => {
      const set = tab.closest(".tabs");
      set.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
      set.querySelectorAll(".pane").forEach((p) => p.classList.toggle("hidden", p.dataset.pane !== tab.dataset.tab));
    };
  }
  dialog.querySelector(".cancel").onclick = () => dialog.close();
  dialog.addEventListener("close", () => dialog.remove());
  form.onsubmit = async (event) => {
    event.preventDefault();
    error.hidden = true;
    const params = await collect(form);
    params.builderid = builder.builderid;
    try {
      const [, requests] = await api.rpc(`forceschedulers/${encodeURIComponent(scheduler.name)}`, "force", params);
      dialog.close();
      onForced(Object.values(requests)[0]);
    } catch (failure) {
      error.hidden = false;
      error.innerHTML = esc(failure.refused ? `Refused: ${failure.detail}` : failure.message);
    }
  };
  dialog.showModal();
  return dialog;
}
