// Shared by every page: the page's data (words, language, time zone), the CSRF token, the
// socket, small DOM builders, errors and spoken announcements. Data from the server is always
// put on the page as text (textContent, never HTML), so a caller's name is only text.
"use strict";
const PAGE = JSON.parse(document.getElementById("page-data").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const T = PAGE.t;
const W = makeWords(T, PAGE.lang, PAGE.tz, PAGE.currency);

function $(id) { return document.getElementById(id); }
function setText(id, value) {
  const node = typeof id === "string" ? $(id) : id;
  node.textContent = value === null || value === undefined ? "" : String(value);
}
function tr(key, params) { return W.word(key, params); }
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

// el("li", {class: "x", text: "...", data: {state: "ready"}, attrs: {...}}, [children])
function el(tag, options = {}, children = []) {
  const node = document.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.text !== undefined && options.text !== null) node.textContent = String(options.text);
  for (const [k, v] of Object.entries(options.data || {})) node.dataset[k] = v;
  for (const [k, v] of Object.entries(options.attrs || {})) node.setAttribute(k, v);
  for (const child of children) if (child) node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  return node;
}
const SVG = "http://www.w3.org/2000/svg";
function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", "#i-" + name);
  svg.appendChild(use);
  return svg;
}
// a state as a badge: icon + words, the colour from data-state (never the only sign)
function stateBadge(state, reason) {
  const badge = el("span", {class: "badge", data: {state}}, [icon(state), el("span", {text: W.code("state", state)})]);
  if (reason && state === "not_ready") badge.appendChild(el("span", {class: "reason", text: "· " + W.code("reason", reason)}));
  return badge;
}
function item(list, text) { const li = el("li", {text}); list.appendChild(li); return li; }

// Errors, from the HTTP API and the socket alike, are {code, message}: the message is already in
// the user's language; the stable code rides along on the element for tests and support.
function showMessage(reply) {
  const failed = reply && reply.ok === false;
  setText("message", failed ? (reply.message || W.word("error.SERVER_ERROR")) : "");
  $("message").dataset.code = failed ? (reply.code || "") : "";
}
function showError(error) { showMessage({ok: false, code: error.code || "", message: error.message}); }
// something a screen reader should say now (a call offered): the page's polite live region
function announce(text) {
  const region = $("announce");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);  // a change, even for the same words twice
}

async function api(path, options = {}) {
  const headers = Object.assign({"X-CSRF-Token": CSRF}, options.body ? {"Content-Type": "application/json"} : {});
  const response = await fetch(path, Object.assign({credentials: "same-origin", headers}, options));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(body.message || W.word("error.SERVER_ERROR")), {status: response.status, code: body.code});
  }
  return body;
}

// Websocket only: no long-polling, so several workers need no sticky sessions.
const socket = typeof io === "function" ? io({transports: ["websocket"], auth: {csrf: CSRF}}) : null;
// logged out elsewhere, deactivated or changed by an admin (issue 15): the session is gone server-side
if (socket) socket.on("session_ended", () => { socket.disconnect(); location.assign("/login"); });
function send(event, payload) {
  return new Promise(resolve => socket.emit(event, payload, reply => { showMessage(reply); resolve(reply); }));
}

// the center's clock in the bar of pages that have one
(function centerClock() {
  const node = $("center-clock");
  if (!node) return;
  const tick = () => { node.textContent = W.clock(Date.now() / 1000); node.dateTime = new Date().toISOString(); };
  tick();
  setInterval(tick, 10_000);
})();
