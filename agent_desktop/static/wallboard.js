// The supervisor's wallboard: queue figures and the agents of their teams, live.
"use strict";
const agents = new Map();  // ext -> row from the server (with `since` for a live timer)

function cell(row, text) { const td = document.createElement("td"); td.textContent = text; row.appendChild(td); return td; }

function renderQueues(queues) {
  const body = document.querySelector("#queues tbody"); clear(body);
  for (const q of queues) {
    const row = document.createElement("tr"); row.dataset.skill = q.skill;
    cell(row, q.skill); cell(row, q.waiting).className = "waiting"; cell(row, q.longest_wait_s + " s");
    cell(row, q.service_level === null ? "-" : q.service_level + "%"); cell(row, q.answered).className = "answered";
    cell(row, q.abandoned).className = "abandoned";
    body.appendChild(row);
  }
}

function renderAgents() {
  const body = document.querySelector("#agents tbody"); clear(body);
  const now = Date.now() / 1000;
  for (const a of [...agents.values()].sort((x, y) => x.ext.localeCompare(y.ext))) {
    const row = document.createElement("tr"); row.dataset.ext = a.ext; row.dataset.state = a.state;
    cell(row, a.ext); cell(row, a.name); cell(row, tr(a.state)).className = "state";
    cell(row, a.reason ? tr(a.reason) : ""); cell(row, Math.max(0, Math.round(now - a.since)) + " s");
    const actions = cell(row, "");
    for (const [label, to] of [["ready", "ready"], ["not_ready", "not_ready"], ["logged_out", "logged_out"]]) {
      const b = document.createElement("button"); b.textContent = tr(label); b.className = "set-" + to;
      b.onclick = () => send("supervise_state", {ext: a.ext, to});
      actions.appendChild(b);
    }
    if (a.state === "wrapup") {
      const b = document.createElement("button"); b.textContent = tr("extend_wrapup"); b.className = "extend";
      b.onclick = () => send("supervise_extend_wrapup", {ext: a.ext, seconds: 60});
      actions.appendChild(b);
    }
    body.appendChild(row);
  }
}

function mergeAgents(rows) { for (const a of rows) agents.set(a.ext, a); renderAgents(); }

async function load() {
  const snap = await api("/api/wallboard");
  renderQueues(snap.queues);
  agents.clear(); mergeAgents(snap.agents);
}
socket.on("connect", load);
socket.on("wallboard_queues", renderQueues);
socket.on("wallboard_agents", msg => mergeAgents(msg.agents));
setInterval(renderAgents, 1000);
