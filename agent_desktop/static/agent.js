// The agent's desktop: state bar, screen-pop while the phone rings, call controls, wrap-up.
"use strict";
let current = {state: "logged_out", call: "", since: 0, wrapupUntil: 0};
let popCall = "";
let popCustomer = null;

function renderState(s) {
  current = {state: s.state, reason: s.reason || "", call: s.call || "", since: Number(s.since || 0),
             wrapupUntil: Number(s.wrapup_until || current.wrapupUntil || 0)};
  const stateNode = $("state");
  stateNode.dataset.state = s.state;
  setText("state", tr(s.state));
  setText("state-reason", s.state === "not_ready" && s.reason ? "(" + tr(s.reason) + ")" : "");
  const live = ["reserved", "ringing", "on_call"].includes(s.state);
  $("controls").hidden = s.state !== "on_call";
  if (s.state !== "on_call") showHeld(false);
  $("wrapup").hidden = s.state !== "wrapup" && !(s.state === "ready" && $("wrapup").dataset.pending === "1");
  if (s.state === "wrapup") $("wrapup").dataset.pending = "1";
  if (live && s.call && s.call !== popCall) loadPop(s.call);
  if (s.state === "ready" || s.state === "not_ready" || s.state === "logged_out") refreshToday();
}

function tick() {
  const now = Date.now() / 1000;
  setText("state-timer", current.since ? Math.max(0, Math.round(now - current.since)) + " s" : "");
  setText("wrapup-left", current.state === "wrapup" && current.wrapupUntil
    ? Math.max(0, Math.round(current.wrapupUntil - now)) + " s" : "");
}
setInterval(tick, 1000);

function renderPop(pop) {
  popCall = pop.call;
  $("pop").hidden = false;
  $("pop").dataset.call = pop.call;
  setText("pop-number", pop.caller_number || "");
  setText("pop-queue", pop.queue || "");
  setText("pop-waited", pop.waited_s);
  setText("pop-password", pop.password_verified ? tr("password_verified") : tr("password_not_verified"));
  const notes = $("pop-notes"); clear(notes);
  for (const n of pop.transfer_notes) item(notes, n.from + ": " + n.note);
  const journey = $("pop-journey"); clear(journey);
  for (const j of pop.journey) item(journey, j.node + (j.input ? " [" + j.input + "]" : "") + (j.outcome ? " → " + j.outcome : ""));
  renderCustomer(pop.customer, pop.caller_name);
}

function renderCustomer(c, callerName) {
  popCustomer = c;
  $("pop-unknown").hidden = !!c;
  $("pop-customer").hidden = !c;
  setText("pop-name", c ? c.name : (callerName || "?"));
  for (const id of ["pop-bills", "pop-orders", "pop-calls"]) clear($(id));
  if (!c) return;
  setText("pop-vip", c.vip_level);
  setText("pop-language", c.language);
  setText("pop-plan", c.plan);
  setText("pop-balance", c.accounts.map(a => a.number + " " + money(a.balance_cents)).join(", "));
  for (const b of c.bills) item($("pop-bills"), b.period + " " + money(b.amount_cents) + (b.paid ? " ✓" : ""));
  for (const o of c.open_orders) item($("pop-orders"), o.number + " " + o.category + " " + o.status + " " + o.description);
  for (const k of c.recent_calls) item($("pop-calls"), (k.started_at || "") + " " + (k.skill || "") + " " + endWords(k.end_reason, k.end_detail));
}

async function loadPop(call) {
  try { renderPop(await api("/api/calls/" + encodeURIComponent(call) + "/pop")); } catch (e) { setText("message", e.message); }
}

async function refreshToday() {
  try {
    const today = await api("/api/agent/today");
    setText("today-calls", today.calls_answered);
    setText("today-talk", today.talk_time_s);
  } catch (e) { /* figures are a nicety; the state bar matters */ }
}

socket.on("agent_state", renderState);
socket.on("screen_pop", renderPop);
socket.on("connect", async () => renderState(await api("/api/agent/state")));

$("btn-ready").onclick = () => send("agent_state", {to: "ready"});
$("btn-not-ready").onclick = () => send("agent_state", {to: "not_ready", reason: $("reason").value});
$("btn-logout-seat").onclick = () => send("agent_state", {to: "logged_out"});
$("btn-hangup").onclick = () => send("call_hangup", {call: current.call});
function showHeld(held) { $("held").hidden = !held; $("btn-resume").hidden = !held; $("btn-hold").hidden = held; }
$("btn-hold").onclick = async () => { if ((await send("call_hold", {call: current.call})).ok) showHeld(true); };
$("btn-resume").onclick = async () => { if ((await send("call_resume", {call: current.call})).ok) showHeld(false); };
$("btn-transfer").onclick = () => {
  const agent = $("transfer-agent").value.trim();
  send("call_transfer", {call: current.call, note: $("transfer-note").value,
                         skill: agent ? null : $("transfer-skill").value, to_agent: agent || null});
};
$("btn-work-order").onclick = async () => {
  try {
    const order = await api("/api/work-orders", {method: "POST", body: JSON.stringify({
      call: popCall, customer_id: popCustomer ? popCustomer.id : null, category: $("wo-category").value,
      priority: $("wo-priority").value, description: $("wo-description").value})});
    setText("wo-result", order.number);
    if (popCustomer) renderCustomer(await api("/api/customers/" + popCustomer.id));
  } catch (e) { setText("wo-result", e.message); }
};
async function saveWrapup(ready) {
  const reply = await send("wrapup", {call: popCall, disposition: $("disposition").value,
                                      notes: $("wrapup-notes").value, ready});
  if (reply.ok) { setText("wrapup-result", "✓"); $("wrapup").dataset.pending = ""; if (ready) $("wrapup").hidden = true; }
}
$("btn-wrapup").onclick = () => saveWrapup(false);
$("btn-wrapup-ready").onclick = () => saveWrapup(true);
$("btn-search").onclick = async () => {
  const results = $("search-results"); clear(results);
  try {
    for (const c of await api("/api/customers?q=" + encodeURIComponent($("search-q").value))) {
      const li = item(results, c.name + " (VIP " + c.vip_level + ")");
      li.onclick = async () => renderCustomer(await api("/api/customers/" + c.id));
    }
  } catch (e) { setText("message", e.message); }
};
