/* What the task desk and the manager's console share: the page's strings, safe DOM building, the API called
   with the session, and signing in — with a one-time login link (`#code=…`, taken out of the address bar at
   once) or a typed staff token, either exchanged for a session that ends with inactivity or revocation.
   Plain JavaScript: no build step, no third-party code. */
window.ClinicFlow = (() => {
  "use strict";
  const T = JSON.parse(document.getElementById("strings").textContent);
  const LANG = document.documentElement.lang || "ru";
  const KEY = "cf_session";
  const session = { token: null, me: null };
  let hooks = { signedIn: async () => {}, signedOut: () => {} };

  const t = (key, params = {}) => (T[key] || key).replace(/%\((\w+)\)s/g, (_, k) => (k in params ? params[k] : ""));
  const $ = (id) => document.getElementById(id);

  /* Every piece of data reaches the page as text nodes, never as HTML. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "value") node.value = value;
      else if (key === "checked") node.checked = Boolean(value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function api(path, options = {}) {
    const response = await fetch(path, {
      ...options,
      headers: { "Authorization": `Bearer ${session.token}`, "Content-Type": "application/json",
                 ...(options.headers || {}) },
    });
    if (response.status === 401) { ended(t("Your session has ended. Sign in again.")); throw new Error("unauthorized"); }
    if (options.raw) return response;
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    return { status: response.status, body };
  }

  const clinicPath = (suffix) => `/v1/clinics/${encodeURIComponent(session.me.clinic_id)}${suffix}`;

  /* A login link carries a one-time code (`#code=…`), never the staff token: the page takes it out of the address
     bar at once and exchanges it for a session. Links of the old kind (`#token=…`) are refused, and forgotten. */
  function takeLoginLink() {
    const params = new URLSearchParams(location.hash.slice(1));
    const found = { code: params.get("code"), legacy: params.has("token") };
    if (found.code || found.legacy) history.replaceState(null, "", location.pathname + location.search);
    return found;
  }

  const LINK_REFUSED = {
    used: "This login link has already been used. Ask your manager for a new one, or sign in with your key.",
    expired: "This login link has expired. Ask your manager for a new one, or sign in with your key.",
    unknown: "This login link is not valid. Ask your manager for a new one, or sign in with your key.",
    revoked: "The access this link was for has been revoked.",
  };

  async function exchange(body) {
    const response = await fetch("/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify(body) });
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  /* A code or a typed token becomes a session; only the session is kept, and only in this tab. */
  async function signInWith(body) {
    const { status, body: answer } = await exchange(body);
    if (status !== 201 || !answer || !answer.session_token) {
      const refused = answer && LINK_REFUSED[answer.reason];
      showLogin(refused ? t(refused) : t("The token was not accepted"));
      return;
    }
    sessionStorage.setItem(KEY, answer.session_token);
    await resume(answer.session_token);
  }

  async function resume(token) {
    session.token = token;
    const { status, body } = await fetch("/v1/me", { headers: { "Authorization": `Bearer ${token}` } })
      .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    if (status !== 200 || !body || !body.clinic_id) {
      ended(status === 401 ? t("Your session has ended. Sign in again.") : t("The token was not accepted"));
      return;
    }
    session.me = body;
    $("clinic-name").textContent = body.clinic_name || "";
    $("login").hidden = true;
    $("signout").hidden = false;
    await hooks.signedIn(body);
  }

  function forget() {
    sessionStorage.removeItem(KEY);
    session.token = null;
    session.me = null;
  }

  function ended(message) {
    forget();
    showLogin(message);
  }

  async function signOut() {
    const token = session.token;
    forget();
    showLogin();
    if (token) await fetch("/v1/sessions/current", { method: "DELETE", headers: { "Authorization": `Bearer ${token}` } })
      .catch(() => null);
  }

  function showLogin(message = "") {
    hooks.signedOut();
    $("signout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message;
    $("token").value = "";
    $("token").focus();
  }

  /* The page says what signing in and out mean for it; the sign-in itself is the same everywhere. */
  function start(pageHooks) {
    hooks = { ...hooks, ...pageHooks };
    sessionStorage.removeItem("cf_token");  // what older pages kept: the staff token itself
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      $("login-error").textContent = "";
      signInWith({ token: $("token").value.trim() });
    });
    $("signout").addEventListener("click", signOut);
    const link = takeLoginLink();
    const saved = sessionStorage.getItem(KEY);
    if (link.code) signInWith({ code: link.code });
    else if (link.legacy) showLogin(t("A link with the key inside is no longer accepted. Ask your manager for a new login link, or type your key below."));
    else if (saved) resume(saved);
    else showLogin();
  }

  return { T, LANG, session, t, $, el, api, clinicPath, signOut, start };
})();
