// The supervisor's wallboard: queue figures against their thresholds, the agents of their
// teams as tiles by state (time in state counting), and the last hour of waiting callers.
"use strict";

// ---------------------------------------------------------------- thresholds (README: "The wallboard")
// A figure is "ok", "warning" (watch it) or "alert" (act now); a queue shows its worst figure.
// Longest wait is judged against the queue's own answer target (queues.service_level_s): a caller
// waiting half of it is a warning, one past it is already outside the service level.
const THRESHOLDS = {
  waiting: {warning: 3, alert: 6},             // callers waiting in one queue
  serviceLevel: {goal: 80, warning: 80, alert: 70},  // % answered within the target, today
  defaultTarget: 20,                           // s, for a queue with no configuration yet
};
const RANK = {none: 0, ok: 1, warning: 2, alert: 3};
const STATE_ORDER = ["ringing", "reserved", "on_call", "wrapup", "not_ready", "ready", "logged_out"];
const HISTORY_KEY = "wallboard:waiting";
const HOUR_S = 3600, SAMPLE_S = 10;

function waitingStatus(n) { return n >= THRESHOLDS.waiting.alert ? "alert" : n >= THRESHOLDS.waiting.warning ? "warning" : "ok"; }
function longestStatus(seconds, target) {
  if (!seconds) return "ok";
  return seconds > target ? "alert" : seconds >= target / 2 ? "warning" : "ok";
}
function serviceStatus(level) {
  if (level === null || level === undefined) return "none";
  return level < THRESHOLDS.serviceLevel.alert ? "alert" : level < THRESHOLDS.serviceLevel.warning ? "warning" : "ok";
}
function worst(...statuses) { return statuses.reduce((a, b) => (RANK[b] > RANK[a] ? b : a), "none"); }
const STATUS_WORDS = {ok: T.status_ok, warning: T.status_warning, alert: T.status_alert, none: T.status_none};
const STATUS_ICON = {ok: "ok", warning: "warning", alert: "alert", none: "none"};

function flagged(cell, status, text) {
  cell.dataset.status = status;
  cell.appendChild(icon(STATUS_ICON[status]));
  cell.appendChild(document.createTextNode(text));
  if (status === "warning" || status === "alert") cell.appendChild(el("span", {class: "sr-only", text: " (" + STATUS_WORDS[status] + ")"}));
  return cell;
}

// ---------------------------------------------------------------- queues
let queues = [];
function renderQueues(rows) {
  queues = rows;
  const body = document.querySelector("#queues tbody"); clear(body);
  let waiting = 0, longest = 0;
  for (const q of rows) {
    const target = (PAGE.targets || {})[q.skill] || THRESHOLDS.defaultTarget;
    waiting += q.waiting; longest = Math.max(longest, q.longest_wait_s);
    const ws = waitingStatus(q.waiting), ls = longestStatus(q.longest_wait_s, target), ss = serviceStatus(q.service_level);
    const status = worst(ws, ls, ss === "none" ? "ok" : ss);
    const row = el("tr", {data: {skill: q.skill, status}});
    row.appendChild(el("th", {attrs: {scope: "row"}, text: W.code("skill", q.skill)}));
    row.appendChild(el("td", {}, [el("span", {class: "badge", data: {status}}, [icon(STATUS_ICON[status]), STATUS_WORDS[status]])]));
    row.appendChild(flagged(el("td", {class: "num big waiting"}), ws, W.number(q.waiting)));
    row.appendChild(flagged(el("td", {class: "num longest timer"}), ls, W.duration(q.longest_wait_s)));
    const sl = el("td", {class: "num service-level"});
    flagged(sl, ss, q.service_level === null ? "—" : W.percent(q.service_level));
    sl.appendChild(el("div", {class: "muted", text: tr("sl_target", {percent: W.percent(THRESHOLDS.serviceLevel.goal),
                                                                        seconds: W.duration(target)})}));
    row.appendChild(sl);
    row.appendChild(el("td", {class: "num answered", text: W.number(q.answered)}));
    row.appendChild(el("td", {class: "num abandoned", text: W.number(q.abandoned)}));
    body.appendChild(row);
  }
  setText("total-waiting", W.number(waiting));
  setText("total-longest", W.duration(longest));
}

// ---------------------------------------------------------------- agents, as tiles by state
const agents = new Map();  // ext -> row from the server (with `since` for a live timer)
const MOVES = {  // what a supervisor may set from each state (acd/agent_state.py)
  ready: ["not_ready", "logged_out"], not_ready: ["ready", "logged_out"], wrapup: ["ready", "not_ready", "logged_out"],
};
const MOVE_WORDS = {ready: T.set_ready, not_ready: T.set_not_ready, logged_out: T.set_logged_out};

function tile(a, now) {
  const li = el("li", {class: "tile", data: {ext: a.ext, state: a.state}});
  li.appendChild(el("span", {class: "name", text: a.name || a.ext}));
  li.appendChild(el("span", {}, [stateBadge(a.state, a.reason)]));
  li.appendChild(el("span", {class: "meta"}, [el("span", {text: T.seat + " " + a.ext}),
    el("span", {class: "timer", attrs: {title: T.time_in_state}, text: W.duration(now - a.since)})]));
  const moves = (PAGE.controls || {}).supervise ? MOVES[a.state] || [] : [];
  if (moves.length || (a.state === "wrapup" && (PAGE.controls || {}).supervise)) {
    const row = el("div", {class: "btn-row", attrs: {role: "group", "aria-label": tr("agent_actions", {name: a.name || a.ext})}});
    for (const to of moves) {
      const b = el("button", {class: "btn btn-small set-" + to, text: MOVE_WORDS[to], attrs: {type: "button"}});
      b.onclick = () => send("supervise_state", {ext: a.ext, to});
      row.appendChild(b);
    }
    if (a.state === "wrapup") {
      const b = el("button", {class: "btn btn-small extend", text: T.extend_wrapup, attrs: {type: "button"}});
      b.onclick = () => send("supervise_extend_wrapup", {ext: a.ext, seconds: 60});
      row.appendChild(b);
    }
    li.appendChild(row);
  }
  const monitorRow = monitorControls(a);
  if (monitorRow) li.appendChild(monitorRow);
  return li;
}

// ---------------------------------------------------------------- listen, whisper, barge (acd/monitor.py)
// Offered on an agent on a call, in the modes this user's role allows (PAGE.controls.monitor: a
// quality inspector listens only); the socket events check the same rules. Starting rings the
// user's own phone; a mode button then switches in place (the phone stays up); Stop hangs it up.
let monitoring = null;  // {monitor, call, agent, mode, answered} from the router's answer
function monitorControls(a) {
  const modes = (PAGE.controls || {}).monitor || [];
  if (!modes.length || a.state !== "on_call" || !a.call) return null;
  const mine = monitoring && monitoring.call === a.call ? monitoring : null;
  const row = el("div", {class: "btn-row monitor-controls", attrs: {role: "group", "aria-label": tr("monitor_actions", {name: a.name || a.ext})}});
  for (const mode of modes) {
    const b = el("button", {class: "btn btn-small monitor-" + mode, text: T["monitor." + mode],
                            attrs: {type: "button", title: T["monitor_help." + mode], "aria-pressed": String(!!mine && mine.mode === mode)}});
    b.onclick = () => (mine ? switchMonitor(mode) : startMonitor(a, mode));
    if (monitoring && !mine) b.disabled = true;  // one call at a time
    row.appendChild(b);
  }
  if (mine) {
    const stop = el("button", {class: "btn btn-small monitor-stop", text: T.monitor_stop, attrs: {type: "button"}});
    stop.onclick = stopMonitor;
    row.appendChild(stop);
  }
  return row;
}
function monitorStatus(text) { setText("monitor-status", text); $("monitor-status").hidden = !text; }
function monitoredName() { const ag = monitoring && agents.get(monitoring.agent); return ag ? ag.name || ag.ext : ""; }
function monitorChanged(reply, words) {
  if (reply && reply.ok) {
    monitoring = reply.monitor ? {monitor: reply.monitor, call: reply.call, agent: reply.agent, mode: reply.mode} : null;
    monitorStatus(monitoring ? tr(words, {name: monitoredName(), mode: T["monitor." + monitoring.mode]}) : T.monitor_ended);
  }
  renderAgents(true);
}
async function startMonitor(a, mode) { monitorChanged(await send("monitor_start", {call: a.call, mode}), "monitor_ringing"); }
async function switchMonitor(mode) { monitorChanged(await send("monitor_mode", {monitor: monitoring.monitor, mode}), "monitor_active"); }
async function stopMonitor() {
  const reply = await send("monitor_stop", {monitor: monitoring.monitor});
  if (reply.ok || reply.code === "NO_SUCH_MONITOR") { monitoring = null; monitorStatus(T.monitor_ended); }
  renderAgents(true);
}
// a mode keyed on the monitor's own phone (4/5/6): the router audited it; shown here as it is now
function keyedOnPhone(msg) {
  if (!monitoring || msg.monitor !== monitoring.monitor) return;
  monitoring.mode = msg.mode;
  monitorStatus(tr("monitor_keyed", {name: monitoredName(), mode: T["monitor." + msg.mode]}));
  renderAgents(true);
}
// the session ended without our Stop (the monitor hung up their phone, it did not answer, the call ended)
function endedElsewhere(msg) {
  if (!monitoring || msg.monitor !== monitoring.monitor) return;
  monitoring = null;
  monitorStatus(T.monitor_ended);
  renderAgents(true);
}
function dropEndedMonitor() {  // the call ended or moved on: ChanSpy ended the phone's leg
  const ag = monitoring && agents.get(monitoring.agent);
  if (monitoring && (!ag || ag.call !== monitoring.call || ag.state !== "on_call")) { monitoring = null; monitorStatus(T.monitor_ended); }
}

let shownKey = "";
function renderAgents(force) {
  const now = Date.now() / 1000;
  const list = [...agents.values()].sort((x, y) => (x.name || x.ext).localeCompare(y.name || y.ext) || x.ext.localeCompare(y.ext));
  const key = JSON.stringify([list.map(a => [a.ext, a.state, a.reason, a.since, a.name, a.call]), monitoring]);
  if (!force && key === shownKey) {  // only the timers moved: keep the buttons (and the focus) in place
    for (const a of list) {
      const timer = document.querySelector('#agents .tile[data-ext="' + a.ext + '"] .timer');
      if (timer) timer.textContent = W.duration(now - a.since);
    }
  } else {
    shownKey = key;
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".tile");
    const focusExt = focused ? focused.dataset.ext : null;
    const box = $("agents"); clear(box);
    for (const state of STATE_ORDER) {
      const group = list.filter(a => a.state === state);
      if (!group.length) continue;
      const id = "group-" + state;
      const section = el("section", {class: "state-group", data: {state}, attrs: {"aria-labelledby": id}});
      section.appendChild(el("h3", {attrs: {id}}, [stateBadge(state), el("span", {class: "muted", text: W.number(group.length)})]));
      const ul = el("ul", {class: "tiles"});
      for (const a of group) ul.appendChild(tile(a, now));
      section.appendChild(ul);
      box.appendChild(section);
    }
    if (focusExt) { const t = document.querySelector('#agents .tile[data-ext="' + focusExt + '"] button'); if (t) t.focus(); }
  }
  $("agents-empty").hidden = list.length > 0;
  setText("total-ready", W.number(list.filter(a => a.state === "ready").length));
  setText("total-busy", W.number(list.filter(a => ["on_call", "ringing", "reserved"].includes(a.state)).length));
}
function mergeAgents(rows) { for (const a of rows) agents.set(a.ext, a); dropEndedMonitor(); renderAgents(); }

// ---------------------------------------------------------------- alerts (agent_desktop.wallboard.alerts)
// Per-queue thresholds, judged on the server; pushed per team when an alert starts or ends, so the
// values count on here. A new alert is read out once through #alerts-announce (a status region).
const alertSources = new Map();  // "snapshot" or a team -> its alerts
let announced = new Set();
const ALERT_STATE = {not_ready_long: "not_ready", on_call_long: "on_call"};
function alertKey(a) { return a.code + ":" + (a.queue || a.ext); }
function alertValue(a, now) {
  if (a.ext) { const ag = agents.get(a.ext); return ag ? now - ag.since : a.value; }
  if (a.code === "caller_waiting_long") { const q = queues.find(r => r.skill === a.queue); return q ? q.longest_wait_s : a.value; }
  return a.value;
}
function alertText(a, now) {
  const pct = a.code === "service_level_low", v = alertValue(a, now), ag = agents.get(a.ext) || {};
  return tr("alert." + a.code, {queue: a.queue ? W.code("skill", a.queue) : "",
    agent: a.ext ? (ag.name || a.ext) + " (" + T.seat + " " + a.ext + ")" : "",
    value: pct ? W.percent(v) : W.duration(v), threshold: pct ? W.percent(a.threshold) : W.duration(a.threshold)});
}
function currentAlerts() {
  const found = new Map();
  for (const list of alertSources.values()) {
    for (const a of list) {
      const ag = a.ext ? agents.get(a.ext) : null;
      if (a.ext && (!ag || ag.state !== ALERT_STATE[a.code])) continue;  // the agent has moved on since
      found.set(alertKey(a), a);
    }
  }
  return [...found.values()];
}
function renderAlerts() {
  const now = Date.now() / 1000, list = currentAlerts(), box = $("alerts");
  clear(box);
  for (const a of list) {
    box.appendChild(el("li", {class: "alert-item badge", data: {code: a.code, status: "alert", key: alertKey(a)}},
                       [icon("alert"), el("span", {class: "sr-only", text: T.status_alert + ": "}),
                        el("span", {class: "alert-text", text: alertText(a, now)})]));
  }
  $("alerts-empty").hidden = list.length > 0;
  const fresh = list.filter(a => !announced.has(alertKey(a)));
  announced = new Set(list.map(alertKey));
  if (fresh.length) setText("alerts-announce", fresh.map(a => T.status_alert + ": " + alertText(a, now)).join(". "));
}
function takeAlerts(msg) { alertSources.delete("snapshot"); alertSources.set(msg.team, msg.alerts); renderAlerts(); }

// ---------------------------------------------------------------- waiting callers, the last hour
// Sampled here every 10 s from the pushed figures and kept in this browser (localStorage), so a
// reload keeps the hour; nothing more is stored on the server.
let samples = [];
try { samples = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]").filter(p => Array.isArray(p) && p.length === 2); } catch (e) { samples = []; }
function sample() {
  const now = Date.now() / 1000;
  samples.push([Math.round(now), queues.reduce((sum, q) => sum + q.waiting, 0)]);
  samples = samples.filter(p => p[0] >= now - HOUR_S);
  try { localStorage.setItem(HISTORY_KEY, JSON.stringify(samples)); } catch (e) { /* full or private: kept in memory */ }
  drawChart();
}
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
function drawChart() {
  const chart = $("chart"); clear(chart);
  const now = Date.now() / 1000, left = 28, right = 392, top = 8, bottom = 150;
  const peak = samples.reduce((m, p) => Math.max(m, p[1]), 0);
  const max = Math.max(4, Math.ceil(peak / 2) * 2);
  const x = t => left + (right - left) * (1 - (now - t) / HOUR_S);
  const y = n => bottom - (bottom - top) * (n / max);
  for (const n of [0, max / 2, max]) {
    chart.appendChild(svg("line", {class: "grid-line", x1: left, x2: right, y1: y(n), y2: y(n)}));
    chart.appendChild(svg("text", {x: left - 6, y: y(n) + 4, "text-anchor": "end"}, W.number(n)));
  }
  for (const [minutes, anchor] of [[60, "start"], [30, "middle"], [0, "end"]]) {
    chart.appendChild(svg("text", {x: x(now - minutes * 60), y: 172, "text-anchor": anchor},
                          minutes ? tr("minutes_ago", {n: W.number(minutes)}) : T.now));
  }
  if (samples.length) {
    let line = "";
    samples.forEach((p, i) => {  // a step line: the count holds until the next sample
      line += (i ? "H" + x(p[0]).toFixed(1) + "V" : "M" + x(p[0]).toFixed(1) + ",") + y(p[1]).toFixed(1);
    });
    line += "H" + x(now).toFixed(1);
    const first = x(samples[0][0]).toFixed(1);
    chart.appendChild(svg("path", {class: "area", d: line + "V" + bottom + "H" + first + "Z"}));
    chart.appendChild(svg("path", {class: "line", d: line}));
  }
  const current = samples.length ? samples[samples.length - 1][1] : 0;
  setText("chart-summary", tr("chart_summary", {now: W.number(current), peak: W.number(peak)}));
}

function renderLegend() {
  const legend = $("legend"); clear(legend);
  item(legend, tr("threshold_waiting", {warn: W.number(THRESHOLDS.waiting.warning), alert: W.number(THRESHOLDS.waiting.alert)}));
  item(legend, T.threshold_wait);
  item(legend, tr("threshold_sl", {warn: W.percent(THRESHOLDS.serviceLevel.warning),
                                   alert: W.percent(THRESHOLDS.serviceLevel.alert),
                                   goal: W.percent(THRESHOLDS.serviceLevel.goal)}));
}

async function load() {
  try {
    const snap = await api("/api/wallboard");
    renderQueues(snap.queues);
    agents.clear(); mergeAgents(snap.agents); renderAgents(true);
    alertSources.clear(); alertSources.set("snapshot", snap.alerts || []); renderAlerts();
    sample();
  } catch (e) { showError(e); }
}
socket.on("connect", load);
socket.on("wallboard_queues", renderQueues);
socket.on("wallboard_agents", msg => mergeAgents(msg.agents));
socket.on("wallboard_alerts", takeAlerts);
socket.on("monitor_mode", keyedOnPhone);
socket.on("monitor_ended", endedElsewhere);
renderLegend();
drawChart();
setInterval(renderAgents, 1000);
setInterval(renderAlerts, 1000);
setInterval(sample, SAMPLE_S * 1000);
