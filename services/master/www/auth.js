// The account corner: nothing to do with NoAuth; otherwise a login form (Buildbot's
// `GET auth/login` with an `Authorization: Basic` header) or the user's name and a logout.

import { reloadConfig, toast } from "./app.js";
import { html, setHTML } from "./util.js";

function userName(user) {
  return user.full_name || user.username || user.email || "user";
}

/** Fills `element` from the frontend configuration's `auth` and `user`. */
export function showAccount(element, config) {
  const auth = config.auth?.name || "NoAuth";
  const user = config.user || { anonymous: true };
  if (auth === "NoAuth") {
    element.replaceChildren();
    return;
  }
  if (!user.anonymous) {
    setHTML(element, html`<span class="user" title="${(user.groups || []).join(", ")}">${userName(user)}</span>
      <button type="button" id="logout">Logout</button>`);
    element.querySelector("#logout").onclick = () => logout();
    return;
  }
  setHTML(element, html`<form id="login" class="login">
      <input name="username" placeholder="username" autocomplete="username" required>
      <input name="password" type="password" placeholder="password" autocomplete="current-password" required>
      <button type="submit">Login</button>
    </form>`);
  element.querySelector("#login").onsubmit = (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    login(String(form.get("username")), String(form.get("password")));
  };
}

function basic(username, password) {
  // btoa takes Latin-1 only; encode UTF-8 first so any name can log in.
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

async function login(username, password) {
  const response = await fetch("auth/login", {
    headers: { Authorization: basic(username, password) },
    credentials: "same-origin",
  });
  if (!response.ok) {
    toast(`Login failed: ${response.status === 401 || response.status === 403 ? "wrong username or password" : `HTTP ${response.status}`}`);
    return;
  }
  await reloadConfig();
}

async function logout() {
  await fetch("auth/logout", { credentials: "same-origin" });
  await reloadConfig();
}
