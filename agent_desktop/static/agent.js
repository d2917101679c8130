// The agent's desk: the state-and-call bar, the screen-pop, the call's actions and wrap-up.
// Only actions the agent's state allows are on screen (ACTIONS); a refusal the router still
// sends back shows its message, in the user's language, in the page's alert region.
"use strict";

// ---------------------------------------------------------------- what each state allows
// (acd/agent_state.py's transitions, seen from the desk; "held" is on_call with the caller on hold)
const ACTIONS = {
  logged_out: ["ready", "not_ready"],
  not_ready: ["ready", "not_ready", "logout"],
  ready: ["not_ready", "logout"],
  reserved: [],
  ringing: [],
  on_call: ["hold", "verify", "hangup", "transfer", "work_order"],
  held: ["resume", "hangup", "work_order"],
  wrapup: ["wrapup_ready", "wrapup_save", "not_ready", "logout", "work_order"],
};
const OFFERED = ["reserved", "ringing"];
const WITH_CALL = ["reserved", "ringing", "on_call", "wrapup"];

let current = {state: "logged_out", reason: "", call: "", since: 0, wrapupUntil: 0, held: false};
let popCall = "";
let popActive = false;  // a pop for the call being offered, talked on or wrapped up
let popCustomer = null;
let pendingWrapup = "";  // a call whose disposition is not saved yet (wrap-up time ran out first)
const offered = new Set();
let today = {calls: 0, talk: 0, at: 0, onCall: false};

function phase() { return current.state === "on_call" && current.held ? "held" : current.state; }
function allowed() {
  const list = [...(ACTIONS[phase()] || [])];
  if (pendingWrapup && !list.includes("wrapup_save") && ["ready", "not_ready"].includes(current.state)) list.push("wrapup_save");
  return list;
}
function can(action) { return allowed().includes(action); }

// ---------------------------------------------------------------- rendering
function renderState(s) {
  const previous = current;
  current = {state: s.state, reason: s.reason || "", call: s.call || "", since: Number(s.since || 0),
             wrapupUntil: Number(s.wrapup_until || 0),
             held: s.state === "on_call" ? (s.held !== undefined ? !!s.held : previous.held && previous.call === s.call) : false};
  if (current.state === "wrapup" && current.call) pendingWrapup = current.call;
  if (!current.held) sessionStorage.removeItem("hold:" + current.call);
  if (current.held && !sessionStorage.getItem("hold:" + current.call)) holdStarted(current.call);

  const badge = $("state");
  badge.dataset.state = s.state;
  $("state-icon").setAttribute("href", "#i-" + s.state);
  setText("state-text", W.code("state", s.state));
  setText("state-reason", s.state === "not_ready" && current.reason ? "· " + W.code("reason", current.reason) : "");
  document.title = (OFFERED.includes(s.state) ? "☎ " + T.tab_ringing : W.code("state", s.state)) + " · " + T.title;
  setText("idle-text", s.state === "ready" ? T.waiting_for_call : T.not_taking_calls);

  if (!OFFERED.includes(s.state)) Ring.stop();
  if (s.state === "on_call" || !OFFERED.includes(s.state)) closeOfferNote();
  if (WITH_CALL.includes(s.state) && current.call && current.call !== popCall) loadPop(current.call);
  if (OFFERED.includes(s.state) && current.call === popCall && popCall) offer(lastPop);
  if (!WITH_CALL.includes(s.state) && WITH_CALL.includes(previous.state)) popActive = false;
  if (s.state === "wrapup" && previous.state !== "wrapup") { setText("wrapup-result", ""); $("wrapup-form").reset(); }
  renderActions();
  refreshToday();
  tick();
}

function renderActions() {
  const ok = new Set(allowed());
  for (const node of document.querySelectorAll("[data-action]")) node.hidden = !ok.has(node.dataset.action);
  $("controls").hidden = !(ok.has("hold") || ok.has("resume") || ok.has("hangup"));
  $("held").hidden = !current.held;
  $("ringing-hint").hidden = !OFFERED.includes(current.state);
  $("wrapup").hidden = !(ok.has("wrapup_save") || ok.has("wrapup_ready"));
  $("wrapup-time").hidden = current.state !== "wrapup";
  setText("wrapup-title", current.state === "wrapup" ? W.code("state", "wrapup") : T.last_call_disposition);
  const showPop = !!popCall && (popActive || !!pendingWrapup);
  $("pop").hidden = !showPop;
  $("idle").hidden = showPop;
}

function tick() {
  const now = Date.now() / 1000;
  setText("state-timer", current.since ? W.duration(now - current.since) : "");
  // the call: ringing, talking (since the answer) or on hold (since the hold)
  const bar = $("call-bar");
  let ph = "none", timer = "", total = "";
  if (OFFERED.includes(current.state)) { ph = "ringing"; timer = W.duration(now - current.since); }
  else if (current.state === "on_call" && current.held) {
    ph = "held";
    timer = W.duration(now - Number(sessionStorage.getItem("hold:" + current.call) || now));
    total = tr("call_total", {time: W.duration(now - current.since)});
  } else if (current.state === "on_call") { ph = "talking"; timer = W.duration(now - current.since); }
  bar.dataset.phase = ph;
  $("call-phase-badge").dataset.state = {ringing: "ringing", talking: "on_call", held: "not_ready", none: "logged_out"}[ph];
  $("call-icon").setAttribute("href", "#i-" + {ringing: "ringing", talking: "on_call", held: "hold", none: "on_call"}[ph]);
  setText("call-phase", {ringing: T.call_ringing, talking: T.talking, held: T.call_held, none: T.no_call}[ph]);
  setText("call-timer", timer);
  setText("call-total", total);
  // wrap-up time left, counting down
  if (current.state === "wrapup" && current.wrapupUntil) {
    const left = Math.max(0, current.wrapupUntil - now);
    const span = Math.max(1, current.wrapupUntil - (current.since || now));
    $("wrapup-progress").max = span;
    $("wrapup-progress").value = left;
    setText("wrapup-left", left > 0 ? W.duration(left) : T.wrapup_over);
    $("wrapup").dataset.over = left > 0 ? "" : "1";
  }
  // today's figures: the talk time goes on while the agent talks
  const talk = today.talk + (today.onCall && current.state === "on_call" ? now - today.at : 0);
  setText("today-calls", W.number(today.calls));
  setText("today-talk", W.duration(talk));
  setText("today-avg", W.duration(today.calls ? talk / today.calls : 0));
}
setInterval(tick, 1000);

let lastPop = null;
function renderPop(pop) {
  if (pop.verified_back && current.call === pop.call) { current.held = false; renderActions(); }
  lastPop = pop;
  popCall = pop.call;
  popActive = true;
  $("pop").dataset.call = pop.call;
  setText("pop-number", pop.caller_number || T.unknown_number);
  setText("pop-queue", W.code("skill", pop.queue));
  $("pop-queue").dataset.skill = pop.queue || "";
  setText("pop-waited", W.duration(pop.waited_s));
  $("pop-transferred").hidden = !pop.transferred;
  $("pop-password").className = "badge " + (pop.password_verified ? "badge-verified" : "badge-unverified");
  $("pop-password-icon").setAttribute("href", pop.password_verified ? "#i-unlock" : "#i-lock");
  setText("pop-password-text", pop.password_verified ? T.password_verified : T.password_not_verified);
  const notes = $("pop-notes"); clear(notes);
  for (const n of pop.transfer_notes || []) item(notes, n.from + ": " + n.note);
  $("pop-notes-section").hidden = !(pop.transfer_notes || []).length;
  const journey = $("pop-journey"); clear(journey);
  for (const j of pop.journey || []) {
    const words = W.step(j);
    journey.appendChild(el("li", {data: {node: j.node}}, [
      el("span", {class: "step-node", text: words.node}), words.detail ? " " : null,
      words.detail ? el("span", {class: "step-detail", text: words.detail}) : null]));
  }
  if (!(pop.journey || []).length) journey.appendChild(el("li", {class: "muted", text: T.nothing_yet}));
  renderCustomer(pop.customer, pop.caller_name);
  renderActions();
  // offered now (not a page reloaded during the call or its wrap-up)
  if (!(["on_call", "wrapup"].includes(current.state) && current.call === pop.call)) offer(pop);
}

function listOrNone(list, rows) {
  clear(list);
  for (const row of rows) list.appendChild(row);
  if (!rows.length) list.appendChild(el("li", {class: "muted", text: T.nothing_yet}));
}

// the parts of the pop only a full (verified) profile fills
const PROFILE_ONLY = ["pop-accounts-wrap", "pop-bills-section", "pop-orders-section", "pop-calls-section"];

function renderCustomer(c, callerName) {
  popCustomer = c;
  $("pop-unknown").hidden = !!c;
  $("pop-customer").hidden = !c;
  setText("pop-name", c ? c.name : (callerName || T.unknown_customer));
  const vip = c ? Number(c.vip_level || 0) : 0;
  $("pop-vip-badge").hidden = !vip;
  setText("pop-vip-text", tr("vip_badge", {level: W.number(vip)}));
  // The server's minimum before the caller keyed the service password (verified: false; the pop
  // comes again in full once they have): a marker and "after verification", not empty sections.
  const minimum = !!c && c.verified === false;
  $("pop-unverified").hidden = !minimum;
  for (const id of PROFILE_ONLY) $(id).hidden = !c || minimum;
  if (!c) { for (const id of ["pop-bills", "pop-orders", "pop-calls"]) clear($(id)); return; }
  setText("pop-language", W.code("lang", c.language));
  if (minimum) {
    for (const id of ["pop-vip", "pop-plan", "pop-balance"]) setText(id, T.shown_when_verified);
    $("pop-balance").classList.remove("negative");
    clear(document.querySelector("#pop-accounts tbody"));
    for (const id of ["pop-bills", "pop-orders", "pop-calls"]) clear($(id));
    return;
  }
  setText("pop-vip", vip ? String(vip) : T.vip_none);
  setText("pop-plan", c.plan || T.nothing_yet);
  const total = c.accounts.reduce((sum, a) => sum + Number(a.balance_cents || 0), 0);
  setText("pop-balance", W.money(total));
  $("pop-balance").classList.toggle("negative", total < 0);
  const body = document.querySelector("#pop-accounts tbody"); clear(body);
  for (const a of c.accounts) {
    body.appendChild(el("tr", {}, [el("td", {class: "num", text: a.number}), el("td", {text: W.code("account_status", a.status)}),
      el("td", {class: "num money" + (a.balance_cents < 0 ? " negative" : ""), text: W.money(a.balance_cents)})]));
  }
  listOrNone($("pop-bills"), c.bills.map(b => el("li", {text: [W.month(b.period), W.money(b.amount_cents),
    b.paid ? T.paid : T.unpaid].join(" · ")})));
  listOrNone($("pop-orders"), c.open_orders.map(o => el("li", {data: {number: o.number}, text: [o.number,
    W.code("category", o.category), W.code("order_status", o.status), W.code("priority", o.priority),
    W.systemText(o.description), W.dateTime(o.created_at)].filter(Boolean).join(" · ")})));
  listOrNone($("pop-calls"), c.recent_calls.map(k => el("li", {text: [W.dateTime(k.started_at),
    k.skill ? W.code("skill", k.skill) : "", W.endWords(k.end_reason, k.end_detail)].filter(Boolean).join(" · ")})));
}

async function loadPop(call) {
  try { renderPop(await api("/api/calls/" + encodeURIComponent(call) + "/pop")); } catch (e) { showError(e); }
}

async function refreshToday() {
  try {
    const figures = await api("/api/agent/today");
    today = {calls: figures.calls_answered, talk: figures.talk_time_s, at: Date.now() / 1000,
             onCall: current.state === "on_call"};
    tick();
  } catch (e) { /* the figures are a nicety; the state bar matters */ }
}

// ---------------------------------------------------------------- a call offered: sound, notification, words
// The ring is made here (Web Audio: two sine tones, 1 s on, 2 s off, for at most 30 s): no sound file.
const Ring = {
  ctx: null, timer: null, stopAt: 0,
  unlock() {  // an AudioContext may only start on a user gesture: the first click makes it
    if (!this.ctx) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      this.ctx = new Context();
    }
    if (this.ctx.state === "suspended") this.ctx.resume().catch(() => {});
  },
  burst() {
    const ctx = this.ctx, t0 = ctx.currentTime;
    const gain = ctx.createGain();
    gain.gain.setValueAtTime(0, t0);
    gain.gain.linearRampToValueAtTime(0.18, t0 + 0.03);
    gain.gain.setValueAtTime(0.18, t0 + 0.97);
    gain.gain.linearRampToValueAtTime(0, t0 + 1.0);
    gain.connect(ctx.destination);
    for (const frequency of [440, 480]) {
      const osc = ctx.createOscillator();
      osc.type = "sine";
      osc.frequency.value = frequency;
      osc.connect(gain);
      osc.start(t0);
      osc.stop(t0 + 1.0);
    }
    if (Date.now() > this.stopAt) this.stop();
  },
  start() {
    this.unlock();
    if (!this.ctx) return;
    this.stop();
    this.stopAt = Date.now() + 30_000;
    this.burst();
    this.timer = setInterval(() => this.burst(), 3000);
  },
  stop() { clearInterval(this.timer); this.timer = null; },
};

let offerNote = null;
function closeOfferNote() { if (offerNote) { offerNote.close(); offerNote = null; } }
function offer(pop) {
  if (!pop || offered.has(pop.call)) return;
  offered.add(pop.call);
  const who = (pop.customer && pop.customer.name) || pop.caller_name || pop.caller_number || T.unknown_number;
  const words = tr("incoming_from", {who, queue: W.code("skill", pop.queue)});
  announce(words);
  Ring.start();
  if ("Notification" in window && Notification.permission === "granted") {
    try {
      offerNote = new Notification(T.incoming_call, {body: words, tag: "call-offer", lang: PAGE.lang});
      offerNote.onclick = () => { window.focus(); $("pop").focus(); closeOfferNote(); };
    } catch (e) { /* a browser without page notifications: the sound and the title still tell */ }
  }
}
function renderAlerts() {
  const supported = "Notification" in window;
  const permission = supported ? Notification.permission : "denied";
  setText("alerts-text", permission === "granted" ? T.alerts_on : permission === "denied" ? T.alerts_blocked : T.alerts_off);
  $("btn-alerts").dataset.permission = permission;
}
// asked on a click only: browsers refuse (and remember) a request made without a gesture
async function enableAlerts() {
  Ring.unlock();
  if ("Notification" in window && Notification.permission === "default") {
    try { await Notification.requestPermission(); } catch (e) { /* older callback form: nothing to wait for */ }
  }
  renderAlerts();
}

// ---------------------------------------------------------------- actions
function holdStarted(call) { if (call) sessionStorage.setItem("hold:" + call, String(Date.now() / 1000)); }
async function act(event, payload, after) {
  const reply = await send(event, payload);
  if (reply.ok && after) after(reply);
  return reply;
}
const DO = {
  ready: () => { enableAlerts(); return act("agent_state", {to: "ready"}); },
  not_ready: () => { enableAlerts(); return act("agent_state", {to: "not_ready", reason: $("reason").value}); },
  logout: () => act("agent_state", {to: "logged_out"}),
  hangup: () => act("call_hangup", {call: current.call}),
  hold: () => act("call_hold", {call: current.call}, () => { current.held = true; holdStarted(current.call); renderActions(); tick(); }),
  verify: () => act("call_verify", {call: current.call}, () => { current.held = true; renderActions(); tick(); }),
  resume: () => act("call_resume", {call: current.call}, () => {
    current.held = false; sessionStorage.removeItem("hold:" + current.call); renderActions(); tick(); }),
  transfer: () => {
    const agent = $("transfer-agent").value.trim();
    return act("call_transfer", {call: current.call, note: $("transfer-note").value,
                                 skill: agent ? null : $("transfer-skill").value, to_agent: agent || null},
               () => $("transfer-form").reset());
  },
  wrapup_save: () => saveWrapup(false),
  wrapup_ready: () => saveWrapup(true),
};
async function saveWrapup(ready) {
  const call = current.state === "wrapup" ? current.call || popCall : pendingWrapup || popCall;
  const reply = await send("wrapup", {call, disposition: $("disposition").value, notes: $("wrapup-notes").value, ready});
  if (reply.ok) {
    setText("wrapup-result", T.saved);
    pendingWrapup = "";
    renderActions();
  }
}

$("btn-ready").onclick = DO.ready;
$("btn-not-ready").onclick = DO.not_ready;
$("btn-logout-seat").onclick = DO.logout;
$("btn-hangup").onclick = DO.hangup;
$("btn-hold").onclick = DO.hold;
$("btn-resume").onclick = DO.resume;
$("btn-verify").onclick = DO.verify;
$("transfer-form").onsubmit = e => { e.preventDefault(); DO.transfer(); };
$("btn-wrapup").onclick = DO.wrapup_save;
$("btn-wrapup-ready").onclick = DO.wrapup_ready;
$("wrapup-form").onsubmit = e => { e.preventDefault(); DO.wrapup_save(); };
$("btn-alerts").onclick = async () => {
  await enableAlerts();
  if ("Notification" in window && Notification.permission === "granted" && Ring.ctx) Ring.burst();  // hear the ring
};
renderAlerts();

$("order-form").onsubmit = async e => {
  e.preventDefault();
  try {
    const order = await api("/api/work-orders", {method: "POST", body: JSON.stringify({
      call: popCall, customer_id: popCustomer ? popCustomer.id : null, category: $("wo-category").value,
      priority: $("wo-priority").value, description: $("wo-description").value,
      fields: typeof orderFields === "function" ? orderFields() : undefined})});
    $("wo-result-label").hidden = false;
    setText("wo-result", order.number);
    showMessage(null);
    announce(tr("order_created", {number: order.number}));
    $("wo-description").value = "";
    // the call's own customer: the call's pop again (what the agent saw, by the pop's rule); another
    // customer looked up for a reason: that look-up again
    if (popCall && lastPop && lastPop.customer && popCustomer && lastPop.customer.id === popCustomer.id) await loadPop(popCall);
    else if (popCustomer) renderCustomer(await api("/api/customers/" + popCustomer.id + "?" + lookupParams()));
  } catch (e) { showError(e); }
};
// Why this look-up (agent_desktop/customer_lookup.py): the caller on this call, or a reason with a note.
function lookupParams() {
  const reason = $("lookup-reason").value;
  if (!reason) return "call=" + encodeURIComponent(popCall || "");
  return "reason=" + encodeURIComponent(reason) + "&note=" + encodeURIComponent($("lookup-note").value);
}
$("search-form").onsubmit = async e => {
  e.preventDefault();
  const results = $("search-results"); clear(results);
  try {
    const why = lookupParams();
    for (const c of await api("/api/customers?q=" + encodeURIComponent($("search-q").value) + "&" + why)) {
      const label = c.name + (c.vip_level ? " · " + tr("vip_badge", {level: W.number(c.vip_level)}) : "");
      const button = el("button", {class: "btn btn-small", text: label, attrs: {type: "button"}});
      button.onclick = async () => { try { renderCustomer(await api("/api/customers/" + c.id + "?" + why)); } catch (err) { showError(err); } };
      results.appendChild(el("li", {}, [button]));
    }
  } catch (err) { showError(err); }
};

// ---------------------------------------------------------------- keyboard shortcuts (documented in #help)
// Alt + a letter (by the key's position, so any keyboard layout and an IME both work); a
// shortcut does nothing unless its action is on screen now.
const KEYS = {
  KeyR: () => (can("wrapup_ready") ? DO.wrapup_ready() : can("ready") ? DO.ready() : null),
  KeyN: () => (can("not_ready") ? DO.not_ready() : null),
  KeyH: () => (can("resume") ? DO.resume() : can("hold") ? DO.hold() : null),
  KeyX: () => (can("hangup") ? DO.hangup() : null),
  KeyT: () => (can("transfer") ? $("transfer-skill").focus() : null),
  KeyO: () => (can("work_order") ? $("wo-description").focus() : null),
  KeyP: () => (!$("pop").hidden ? $("pop").focus() : null),
};
document.addEventListener("keydown", e => {
  if (e.altKey && !e.ctrlKey && !e.metaKey && KEYS[e.code]) {
    e.preventDefault();
    KEYS[e.code]();
    return;
  }
  const typing = e.target.closest && e.target.closest("input, textarea, select, [contenteditable]");
  if (e.key === "?" && !typing && !e.altKey && !e.ctrlKey) { e.preventDefault(); $("help").togglePopover(); }
});

// ---------------------------------------------------------------- live
socket.on("agent_state", renderState);
// "being coached" (agent_desktop/monitor_events.py): shown while a supervisor whispers or barges
// (or listens, where the center says so); gone with the call
function renderCoaching(msg) {
  const on = !!(msg && msg.active) && current.state === "on_call";
  $("coached").hidden = !on;
  if (on) setText("coached-text", T.coached + " · " + (T["coached." + msg.mode] || ""));
}
socket.on("coaching", renderCoaching);
socket.on("agent_state", s => { if (s.state !== "on_call") renderCoaching(null); });
socket.on("screen_pop", renderPop);
socket.on("connect", async () => { try { renderState(await api("/api/agent/state")); } catch (e) { showError(e); } });
// a supervisor may extend a wrap-up: its end is read again while it lasts
setInterval(async () => {
  if (current.state !== "wrapup") return;
  try {
    const s = await api("/api/agent/state");
    if (s.state === "wrapup") { current.wrapupUntil = Number(s.wrapup_until || current.wrapupUntil); tick(); }
  } catch (e) { /* the next state event corrects it */ }
}, 10_000);
renderActions();
tick();
