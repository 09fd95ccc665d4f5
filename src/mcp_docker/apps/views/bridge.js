// The view's side of MCP Apps (io.modelcontextprotocol/ui, 2026-01-26): JSON-RPC 2.0 over postMessage
// with the host. No SDK, no network: ui/initialize, tool input/result notifications, tools/call
// proxied by the host, theme from the host context. Engine text is only ever set with textContent.
"use strict";
const MCP = (() => {
  let nextId = 1;
  const pending = new Map();
  const handlers = {};
  const post = (msg) => window.parent.postMessage(msg, "*");
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent) return; // only the host talks to us
    const msg = event.data;
    if (!msg || msg.jsonrpc !== "2.0") return;
    if (msg.id !== undefined && msg.method === undefined) {
      const waiter = pending.get(msg.id);
      if (!waiter) return;
      pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(msg.error.message || "host error"));
      else waiter.resolve(msg.result);
      return;
    }
    const handler = handlers[msg.method];
    let out;
    try {
      out = handler ? handler(msg.params || {}) : undefined;
    } catch (err) {
      console.error(err);
    }
    if (msg.id !== undefined) {
      if (handler || msg.method === "ping") post({ jsonrpc: "2.0", id: msg.id, result: out || {} });
      else post({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "Method not found" } });
    }
  });
  function request(method, params) {
    const id = nextId++;
    post({ jsonrpc: "2.0", id, method, params: params || {} });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  function notify(method, params) {
    post({ jsonrpc: "2.0", method, params: params || {} });
  }
  function applyContext(ctx) {
    if (!ctx) return;
    const root = document.documentElement;
    if (ctx.theme === "light" || ctx.theme === "dark") {
      root.dataset.theme = ctx.theme;
      root.style.colorScheme = ctx.theme;
    }
    const vars = (ctx.styles && ctx.styles.variables) || {};
    for (const [key, value] of Object.entries(vars)) {
      if (key.startsWith("--") && typeof value === "string") root.style.setProperty(key, value);
    }
  }
  async function callTool(name, args) {
    // Where several engines are served, the view's calls go to the engine of the call it shows.
    const call = { ...(args || {}) };
    if (state.input && state.input.host && !("host" in call)) call.host = state.input.host;
    const result = await request("tools/call", { name, arguments: call });
    if (result && result.isError) {
      const text = (result.content || []).map((c) => c.text || "").join(" ");
      throw new Error(text || `${name} failed`);
    }
    return result;
  }
  const state = { input: {}, result: null, context: {} };
  async function start(options) {
    handlers["ui/notifications/tool-input"] = (p) => {
      state.input = p.arguments || {};
      if (options.onInput) options.onInput(state.input);
    };
    handlers["ui/notifications/tool-result"] = (p) => {
      state.result = p;
      if (options.onResult) options.onResult(p, state.input);
    };
    handlers["ui/notifications/host-context-changed"] = (p) => {
      Object.assign(state.context, p);
      applyContext(p);
    };
    handlers["ui/resource-teardown"] = () => {
      if (options.onTeardown) options.onTeardown();
      return {};
    };
    handlers["ui/notifications/tool-cancelled"] = () => {};
    const init = await request("ui/initialize", {
      appInfo: { name: `mcp-docker-${options.name}`, version: "1" },
      appCapabilities: {},
      protocolVersion: "2026-01-26",
    });
    state.context = (init && init.hostContext) || {};
    applyContext(state.context);
    notify("ui/notifications/initialized", {});
    if (window.ResizeObserver) {
      new ResizeObserver(() => {
        const r = document.documentElement.getBoundingClientRect();
        notify("ui/notifications/size-changed", { width: Math.ceil(r.width), height: Math.ceil(r.height) });
      }).observe(document.documentElement);
    }
    return init;
  }
  function say(text) {
    return request("ui/message", { role: "user", content: [{ type: "text", text }] });
  }
  return { request, notify, callTool, start, say, state };
})();

// Build DOM without ever parsing data as HTML.
function el(tag, props, children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children || []) if (child) node.appendChild(child);
  return node;
}

function showError(target, err) {
  target.textContent = err ? String(err.message || err) : "";
  target.hidden = !err;
}

function bytes(n) {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// The confirmation card: the server's own question and a secret only this view holds (in the result's
// _meta, which the host keeps from the model). Its button sends the secret back through an app-only
// tool; the answer may be a fresh card (what the call would do changed since), which replaces it.
const CONFIRM_META = "io.github.mcp-docker/confirmation";
function cardOf(result) {
  const card = ((result && result._meta) || {})[CONFIRM_META];
  return card && typeof card.token === "string" ? card : null;
}
function confirmCard(slot, card, options) {
  const press = async (yes) => {
    for (const b of slot.querySelectorAll("button")) b.disabled = true;
    const name = yes ? "docker_app_confirm_removal" : "docker_app_dismiss_removal";
    try {
      const result = await MCP.request("tools/call", { name, arguments: { token: card.token } });
      const next = yes ? cardOf(result) : null;
      if (next) return confirmCard(slot, next, options);
      slot.replaceChildren();
      await options.onDone(yes, result || {});
    } catch (err) {
      slot.replaceChildren();
      options.onError(err);
    }
  };
  slot.replaceChildren(el("div", { class: "card", id: "confirm-card", role: "alertdialog", "aria-label": "Confirm" }, [
    el("h2", { text: "Confirm: this cannot be undone" }),
    el("pre", { id: "confirm-question", text: card.question }),
    el("div", { class: "actions" }, [
      el("button", { class: "primary-danger", id: "confirm-yes", text: options.label || card.title || "Confirm", onclick: () => press(true) }),
      el("button", { id: "confirm-no", text: "Cancel", onclick: () => press(false) }),
    ]),
  ]));
}
function resultText(result) {
  return ((result && result.content) || []).map((c) => c.text || "").join(" ");
}
