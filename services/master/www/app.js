// The dashboard: hash routes to pages, each page rendered into a fresh element with its own
// live subscriptions and timers, all dropped when the route changes.

import * as api from "./api.js";
import { Live } from "./live.js";
import { showAccount } from "./auth.js";
import { esc, throttle } from "./util.js";

const ROUTES = [
  [/^\/?$/, "home"],
  [/^\/builders$/, "builders"],
  [/^\/builders\/(\d+)$/, "builder", ["builderid"]],
  [/^\/builders\/(\d+)\/builds\/(\d+)$/, "build", ["builderid", "number"]],
  [/^\/buildrequests\/(\d+)$/, "buildrequest", ["buildrequestid"]],
  [/^\/waterfall$/, "waterfall"],
  [/^\/console$/, "console"],
  [/^\/grid$/, "grid"],
  [/^\/workers$/, "workers"],
  [/^\/changes$/, "changes"],
  [/^\/masters$/, "masters"],
];

const app = {
  config: null,
  live: null,
  view: null,
};

/** Shows a message for a few seconds; `kind` is "error" or "info". */
export function toast(message, kind = "error") {
  const box = document.createElement("div");
  box.className = `toast toast-${kind}`;
  box.textContent = message;
  document.getElementById("toasts").append(box);
  setTimeout(() => box.remove(), kind === "error" ? 10000 : 4000);
}

/** Everything a page may use; all it subscribes or schedules ends with the page. */
class View {
  constructor(element, params, query) {
    this.el = element;
    this.params = params;
    this.query = query;
    this.config = app.config;
    this.cleanups = [];
    this.alive = true;
  }

  /** Live events on `path`; resolves once the server consumes it. */
  async subscribe(path, handler) {
    const unsubscribe = app.live.subscribe(path, (key, message) => {
      if (this.alive) handler(key, message);
    });
    this.cleanups.push(unsubscribe);
    await unsubscribe.ready;
  }

  /** `fn` as an event handler: never two runs at once, calls during a run coalesce into one
   * more run `ms` later, errors are shown. The returned function's promise ends with its run. */
  refresher(fn, ms = 300) {
    let running = null;
    let again = false;
    const run = async () => {
      if (!this.alive) return;
      if (running) {
        again = true;
        return running;
      }
      running = fn().catch((error) => this.fail(error));
      await running;
      running = null;
      if (again && this.alive) {
        again = false;
        setTimeout(run, ms);
      }
    };
    return run;
  }

  /** Runs `fn` every `ms` while the page is shown. */
  every(ms, fn) {
    const timer = setInterval(() => this.alive && fn(), ms);
    this.cleanups.push(() => clearInterval(timer));
  }

  /** Runs `fn` when the page goes away. */
  onLeave(fn) {
    this.cleanups.push(fn);
  }

  /** Reports an error of this page. */
  fail(error) {
    console.error(error);
    toast(error.message || String(error));
  }

  leave() {
    this.alive = false;
    for (const cleanup of this.cleanups) cleanup();
  }
}

function parseHash() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, "")) || "/";
  const [path, search = ""] = hash.split("?");
  return { path, query: new URLSearchParams(search) };
}

async function route() {
  const { path, query } = parseHash();
  app.view?.leave();
  // A dialog (e.g. Force) belongs to the page it was opened on.
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  const page = document.getElementById("page");
  const element = document.createElement("div");
  element.className = "view";
  page.replaceChildren(element);
  const found = ROUTES.map(([pattern, name, keys = []]) => [path.match(pattern), name, keys]).find(([m]) => m);
  for (const link of document.querySelectorAll("#nav a")) {
    const target = link.getAttribute("href").slice(1);
    link.classList.toggle("active", target === "/" ? path === "/" : path.startsWith(target));
  }
  if (!found) {
    element.innerHTML = `<h1>Not found</h1><p>No page at <code>${esc(path)}</code>.</p>`;
    return;
  }
  const [match, name, keys] = found;
  const params = Object.fromEntries(keys.map((key, i) => [key, Number(match[i + 1])]));
  const view = new View(element, params, query);
  app.view = view;
  document.body.dataset.page = name;
  try {
    const module = await import(`./pages/${name}.js`);
    await module.render(view);
    if (view.alive) element.dataset.ready = "true";
  } catch (error) {
    if (view.alive) {
      element.innerHTML = `<h1>Error</h1><p class="error">${esc(error.message || error)}</p>`;
      element.dataset.ready = "true";
    }
  }
}

/** Re-reads `/config` (after a login or logout) and re-renders the header and the page. */
export async function reloadConfig() {
  app.config = await api.config();
  document.title = app.config.title || "Ferrobot";
  document.getElementById("title").textContent = app.config.title || "Ferrobot";
  showAccount(document.getElementById("account"), app.config);
  await route();
}

function showLiveState(state) {
  const element = document.getElementById("live");
  element.textContent = state;
  element.className = `live live-${state}`;
}

async function start() {
  app.live = new Live(showLiveState);
  // Pages subscribe before they load, so wait (bounded) for the socket to accept them.
  await Promise.race([app.live.opened, new Promise((resolve) => setTimeout(resolve, 3000))]);
  window.addEventListener("hashchange", () => route());
  try {
    await reloadConfig();
  } catch (error) {
    document.getElementById("page").innerHTML = `<h1>Cannot reach the master</h1><p class="error">${esc(error.message)}</p>`;
  }
}

// Re-render the current page on demand (used after actions that change what it shows).
export const rerender = throttle(() => route(), 200);

start();
