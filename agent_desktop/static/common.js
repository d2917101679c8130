// Shared by every page: the CSRF token, the socket, small DOM helpers. Data from the server is
// always put on the page with textContent, never as HTML, so a caller's name is only text.
"use strict";
const PAGE = JSON.parse(document.getElementById("page-data").textContent);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const T = PAGE.t;

function $(id) { return document.getElementById(id); }
function setText(id, value) { $(id).textContent = value === null || value === undefined ? "" : String(value); }
function tr(key) { return T[key] || key; }
// a call's end reason and detail are codes (cdr/end_reason.py); the words come from i18n.py
function endWords(code, detail) {
  if (!code) return tr("in_progress");
  const words = T["end." + code] || code;
  if (!detail) return words;
  const d = T["end_detail." + detail] || detail;
  return document.documentElement.lang === "zh" ? words + "（" + d + "）" : words + " (" + d + ")";
}
function money(cents) { return (cents / 100).toFixed(2); }
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function item(list, text) { const li = document.createElement("li"); li.textContent = text; list.appendChild(li); return li; }
// Errors, from the HTTP API and the socket alike, are {code, message}: the message is already in the
// user's language; the stable code rides along on the element for tests and support.
function showMessage(reply) {
  const failed = reply && reply.ok === false;
  setText("message", failed ? (reply.message || reply.code) : "");
  $("message").dataset.code = failed ? reply.code : "";
}

async function api(path, options = {}) {
  const headers = Object.assign({"X-CSRF-Token": CSRF}, options.body ? {"Content-Type": "application/json"} : {});
  const response = await fetch(path, Object.assign({credentials: "same-origin", headers}, options));
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(body.message || response.statusText), {status: response.status, code: body.code});
  }
  return body;
}

// Websocket only: no long-polling, so several workers need no sticky sessions.
const socket = io({transports: ["websocket"], auth: {csrf: CSRF}});
function send(event, payload) {
  return new Promise(resolve => socket.emit(event, payload, reply => { showMessage(reply); resolve(reply); }));
}
