// The REST API v2 and JSON-RPC control, relative to the page so the dashboard works behind
// any proxy path that ends in "/".

/** A failed REST or JSON-RPC call: `status` is the HTTP status, `message` the server's words. */
export class ApiError extends Error {
  constructor(status, message, detail = message) {
    super(message);
    this.status = status;
    /** The server's own words, without what was being done. */
    this.detail = detail;
  }

  /** Whether the server refused the action (authorization). */
  get refused() {
    return this.status === 401 || this.status === 403;
  }
}

async function failure(response, what) {
  let message = `${what}: HTTP ${response.status}`;
  try {
    const body = await response.json();
    const text = body?.error?.message ?? body?.error;
    if (text) message = `${what}: ${text}`;
  } catch {
    // Not JSON: the status says enough.
  }
  return new ApiError(response.status, message);
}

/** GET `api/v2/<path>` with query `params` (arrays repeat the key); returns the JSON body. */
export async function get(path, params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined && one !== null) query.append(key, String(one));
    }
  }
  const qs = query.toString();
  const url = `api/v2/${path}${qs ? "?" + qs : ""}`;
  const response = await fetch(url, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw await failure(response, `GET ${path}`);
  return response.json();
}

/** The list of a collection reply, e.g. `list(await get("builds"), "builds")`. */
export function list(body, key) {
  return body?.[key] ?? [];
}

/** The one entity of a single-resource reply, or null. */
export async function one(path, key, params) {
  return list(await get(path, params), key)[0] ?? null;
}

let nextId = 1;

/** A JSON-RPC 2.0 call on a REST path; returns `result` or throws an `ApiError`. */
export async function rpc(path, method, params = {}) {
  const response = await fetch(`api/v2/${path}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method, params, id: nextId++ }),
  });
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Handled below with the status.
  }
  if (!response.ok || body?.error) {
    const text = body?.error?.message ?? body?.error ?? `HTTP ${response.status}`;
    const status = response.ok ? 400 : response.status;
    const verdict = status === 401 || status === 403 ? "refused" : "failed";
    throw new ApiError(status, `${method} ${verdict}: ${text}`, text);
  }
  return body.result;
}

/** The frontend configuration (`/config`): title, auth, user, ... */
export async function config() {
  const response = await fetch("config", { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw await failure(response, "GET config");
  return response.json();
}
