/* What the task desk and the manager's console share: the page's strings, safe DOM building, the API
   called with the staff token, and signing in with a token or a login link (`#token=…`, taken out of the
   address bar at once). Plain JavaScript: no build step, no third-party code. */
window.ClinicFlow = (() => {
  "use strict";
  const T = JSON.parse(document.getElementById("strings").textContent);
  const LANG = document.documentElement.lang || "ru";
  const KEY = "cf_token";
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
    if (response.status === 401) { signOut(); throw new Error("unauthorized"); }
    if (options.raw) return response;
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    return { status: response.status, body };
  }

  const clinicPath = (suffix) => `/v1/clinics/${encodeURIComponent(session.me.clinic_id)}${suffix}`;

  function takeLoginLink() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.get("token")) {
      sessionStorage.setItem(KEY, params.get("token"));
      history.replaceState(null, "", location.pathname + location.search);
    }
  }

  async function signIn(token) {
    session.token = token;
    const { status, body } = await fetch("/v1/me", { headers: { "Authorization": `Bearer ${token}` } })
      .then(async (r) => ({ status: r.status, body: await r.json().catch(() => null) }));
    if (status !== 200 || !body || !body.clinic_id) {
      forget();
      $("login-error").textContent = t("The token was not accepted");
      showLogin();
      return;
    }
    sessionStorage.setItem(KEY, token);
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

  function signOut() {
    forget();
    showLogin();
  }

  function showLogin() {
    hooks.signedOut();
    $("signout").hidden = true;
    $("login").hidden = false;
    $("token").value = "";
    $("token").focus();
  }

  /* The page says what signing in and out mean for it; the sign-in itself is the same everywhere. */
  function start(pageHooks) {
    hooks = { ...hooks, ...pageHooks };
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      $("login-error").textContent = "";
      signIn($("token").value.trim());
    });
    $("signout").addEventListener("click", signOut);
    takeLoginLink();
    const saved = sessionStorage.getItem(KEY);
    if (saved) signIn(saved); else showLogin();
  }

  return { T, LANG, session, t, $, el, api, clinicPath, signOut, start };
})();
