// One build: result, Stop / Rebuild, steps with durations and result colours (each step's
// logs open inline and follow live; running and failed steps open by themselves), the
// properties and the changes.

import * as api from "../api.js";
import { toast } from "../app.js";
import { openLog } from "./log.js";
import { badge, duration, elapsed, html, resultClass, setHTML, utc } from "../util.js";

function stepHeader(step) {
  return html`<span class="step-number">${step.number + 1}</span>
    <span class="step-name">${step.name}</span>
    <span class="step-state">${step.state_string}</span>
    ${step.urls.map((u) => html`<a class="step-url" href="${u.url}" target="_blank">${u.name}</a>`)}
    <span class="step-time">${step.started_at ? duration(elapsed(step)) : ""}</span>
    ${badge(step.started_at ? step.results : -1, step.started_at ? undefined : "pending")}`;
}

export async function render(view) {
  const { builderid, number } = view.params;
  let build = await api.one(`builders/${builderid}/builds/${number}`, "builds");
  if (!build) throw new Error(`build #${number} of builder ${builderid} not found`);
  const buildid = build.buildid;
  const builder = await api.one(`builders/${builderid}`, "builders");
  setHTML(view.el, html`<h1><a href="#/builders/${builderid}">${builder?.name ?? builderid}</a> #${number}</h1>
    <div class="build-head"></div>
    <div class="columns"><section class="wide"><h2>Steps</h2><ol class="steps"></ol></section>
    <aside><h2>Properties</h2><div class="properties"></div><h2>Changes</h2><div class="changes"></div></aside></div>`);
  const head = view.el.querySelector(".build-head");
  const stepList = view.el.querySelector(".steps");
  const opened = new Set(); // stepids whose logs the user or the page opened
  const followed = new Set(); // stepids whose log events are consumed
  let worker = null;

  const drawHead = () => {
    setHTML(head, html`<div class="result-bar ${resultClass(build.results)}">${badge(build.results)} <span class="state">${build.state_string}</span></div>
      <table class="facts"><tr><th>Started</th><td>${utc(build.started_at)}</td><th>Duration</th><td class="build-duration">${duration(elapsed(build))}</td></tr>
      <tr><th>Finished</th><td>${build.complete_at ? utc(build.complete_at) : "running"}</td><th>Worker</th><td>${worker?.name ?? ""}</td></tr></table>
      <div class="toolbar">${build.complete
        ? html`<button type="button" class="rebuild primary">Rebuild</button>`
        : html`<button type="button" class="stop danger">Stop</button>`}</div>`);
    const stop = head.querySelector(".stop");
    if (stop) {
      stop.onclick = () => api.rpc(`builds/${buildid}`, "stop", { reason: "stopped from the dashboard" })
        .then(() => toast("Stop requested", "info"))
        .catch((error) => view.fail(error));
    }
    const rebuild = head.querySelector(".rebuild");
    if (rebuild) {
      rebuild.onclick = () => api.rpc(`builds/${buildid}`, "rebuild", {})
        .then(([, requests]) => { location.hash = `#/buildrequests/${Object.values(requests)[0]}`; })
        .catch((error) => view.fail(error));
    }
  };

  const showLogs = async (step, item) => {
    const box = item.querySelector(".step-logs");
    const logs = api.list(await api.get(`steps/${step.stepid}/logs`), "logs");
    const missing = logs.filter((log) => !box.querySelector(`[data-log="${log.logid}"]`));
    if (missing.length) box.querySelector(".no-logs")?.remove();
    // Placeholders first, synchronously, so a concurrent call never opens a log twice.
    const holders = missing.map((log) => {
      const holder = document.createElement("div");
      holder.dataset.log = log.logid;
      box.append(holder);
      return holder;
    });
    await Promise.all(missing.map((log, i) => openLog(view, holders[i], log)));
    if (!logs.length && !box.children.length) box.innerHTML = '<p class="muted no-logs">No logs.</p>';
  };

  const follow = async (step, item) => {
    if (followed.has(step.stepid)) return;
    followed.add(step.stepid);
    // A log created later (e.g. a logfile) shows up as it starts.
    await view.subscribe(`steps/${step.stepid}/logs/*/new`, () => showLogs(step, item).catch((e) => view.fail(e)));
    await showLogs(step, item);
  };

  const drawSteps = async () => {
    const steps = api.list(await api.get(`builds/${buildid}/steps`), "steps").filter((s) => !s.hidden);
    for (const step of steps) {
      let item = stepList.querySelector(`li[data-stepid="${step.stepid}"]`);
      if (!item) {
        item = document.createElement("li");
        item.dataset.stepid = step.stepid;
        item.innerHTML = '<button type="button" class="step-head"></button><div class="step-logs" hidden></div>';
        stepList.append(item);
        item.querySelector(".step-head").onclick = () => {
          const box = item.querySelector(".step-logs");
          box.hidden = !box.hidden;
          if (!box.hidden) follow(step, item).catch((e) => view.fail(e));
        };
      }
      item.className = `step ${resultClass(step.started_at ? step.results : -1)}`;
      setHTML(item.querySelector(".step-head"), stepHeader(step));
      const failed = step.complete && step.results !== 0 && step.results !== 3;
      const running = step.started_at && !step.complete;
      if ((running || failed) && !opened.has(step.stepid)) {
        opened.add(step.stepid);
        item.querySelector(".step-logs").hidden = false;
        await follow(step, item);
      }
    }
  };

  const drawProperties = async () => {
    const body = await api.get(`builds/${buildid}/properties`);
    const properties = api.list(body, "properties")[0] || {};
    const rows = Object.keys(properties).sort().map((name) => {
      const [value, source] = properties[name];
      return html`<tr><th>${name}</th><td><code>${typeof value === "string" ? value : JSON.stringify(value)}</code></td><td class="muted">${source}</td></tr>`;
    });
    setHTML(view.el.querySelector(".properties"), html`<table class="props">${rows}</table>`);
  };

  const drawChanges = async () => {
    const changes = api.list(await api.get(`builds/${buildid}/changes`), "changes");
    setHTML(view.el.querySelector(".changes"), changes.length
      ? html`<ul class="plain">${changes.map((c) => html`<li class="change"><b>${c.author}</b> <code>${(c.revision || "").slice(0, 12)}</code>
          <div>${c.comments}</div><div class="muted">${c.files.join(", ")}</div></li>`)}</ul>`
      : html`<p class="muted">No changes (a forced build).</p>`);
  };

  const reloadBuild = async () => {
    build = (await api.one(`builds/${buildid}`, "builds")) ?? build;
    drawHead();
    if (build.complete) await drawProperties();
  };

  const builds = view.refresher(reloadBuild, 300);
  const steps = view.refresher(drawSteps, 200);
  await view.subscribe(`builds/${buildid}/*`, builds);
  await view.subscribe(`builds/${buildid}/steps/*/*`, steps);
  if (build.workerid) worker = await api.one(`workers/${build.workerid}`, "workers");
  build = (await api.one(`builds/${buildid}`, "builds")) ?? build;
  drawHead();
  view.every(1000, () => {
    const cell = head.querySelector(".build-duration");
    if (cell && !build.complete) cell.textContent = duration(elapsed(build));
  });
  await Promise.all([steps(), drawProperties(), drawChanges()]);
}
