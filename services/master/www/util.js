// Shared helpers: escaping, Buildbot's result names and colours, times and durations.

/** Buildbot's result codes, by number. */
export const RESULTS = ["success", "warnings", "failure", "skipped", "exception", "retry", "cancelled"];

/** The CSS class of a result; `null` is a build or step still running, `-1` a pending request. */
export function resultClass(results) {
  if (results === null || results === undefined) return "r-running";
  if (results < 0) return "r-pending";
  return "r-" + (RESULTS[results] || "unknown");
}

/** The name of a result, as Buildbot writes it. */
export function resultName(results) {
  if (results === null || results === undefined) return "running";
  if (results < 0) return "pending";
  return RESULTS[results] || `result ${results}`;
}

/** Escapes text for HTML content and attributes. */
export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Markup that `html` inserts as is. */
class Raw {
  constructor(text) {
    this.text = text;
  }
}

/** Marks trusted markup so `html` does not escape it. */
export const raw = (text) => new Raw(text);

/** A template tag: interpolated values are escaped unless `raw`; arrays are joined. */
export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1];
  });
  return raw(out);
}

function render(value) {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false) return "";
  return esc(value);
}

/** Sets an element's content from an `html` result. */
export function setHTML(element, markup) {
  element.innerHTML = render(markup);
}

/** Seconds since the epoch, now. */
export const now = () => Date.now() / 1000;

/** Epoch seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC). */
export function utc(epoch) {
  if (!epoch) return "";
  return new Date(epoch * 1000).toISOString().slice(0, 19).replace("T", " ") + "Z";
}

/** A duration in seconds as `1h 02m 03s`, `2m 03s` or `3s`. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  if (h) return `${h}h ${pad(m)}m ${pad(s % 60)}s`;
  if (m) return `${m}m ${pad(s % 60)}s`;
  return `${s}s`;
}

/** How long ago an epoch time was, roughly ("5 minutes ago"). */
export function ago(epoch) {
  if (!epoch) return "";
  const s = Math.max(0, now() - epoch);
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [name, size] of units) {
    const n = Math.floor(s / size);
    if (n >= 1) return `${n} ${name}${n > 1 ? "s" : ""} ago`;
  }
  return "just now";
}

/** The time a build or step took, or has taken so far. */
export function elapsed(thing) {
  if (!thing || !thing.started_at) return null;
  return (thing.complete_at || now()) - thing.started_at;
}

/** A link to a build's page. */
export function buildHref(build) {
  return `#/builders/${build.builderid}/builds/${build.number}`;
}

/** A coloured box linking to a build, labelled with its number. */
export function buildBox(build, builderName) {
  const title = `${builderName || ""} #${build.number}: ${resultName(build.results)} — ${build.state_string || ""}`;
  return html`<a class="box ${resultClass(build.results)}" href="${buildHref(build)}" title="${title}">${build.number}</a>`;
}

/** A result badge. */
export function badge(results, text) {
  return html`<span class="badge ${resultClass(results)}">${text ?? resultName(results)}</span>`;
}

/** Calls `fn` at most once per `ms`, and once more after the last call of a burst. */
export function throttle(fn, ms) {
  let timer = null;
  let again = false;
  return function throttled() {
    if (timer) {
      again = true;
      return;
    }
    fn();
    timer = setTimeout(() => {
      timer = null;
      if (again) {
        again = false;
        throttled();
      }
    }, ms);
  };
}

/** `{id: item}` of a list. */
export function byId(list, key) {
  const map = new Map();
  for (const item of list) map.set(item[key], item);
  return map;
}

/** Prev/next links for a paged list. */
export function pager(route, offset, limit, total) {
  const prev = Math.max(0, offset - limit);
  const next = offset + limit;
  const last = total === undefined ? "" : ` of ${total}`;
  return html`<div class="pager">
    ${offset > 0 ? html`<a class="prev" href="${route}?offset=${prev}">← newer</a>` : ""}
    <span>${offset + 1}–${total === undefined ? next : Math.min(next, total)}${last}</span>
    ${total === undefined || next < total ? html`<a class="next" href="${route}?offset=${next}">older →</a>` : ""}
  </div>`;
}
