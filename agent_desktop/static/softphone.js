// The desktop's softphone and where calls ring (agent_desktop/phone.py). JsSIP (npm, pinned and
// integrity-checked by scripts/setup.sh) speaks SIP over Asterisk's websocket; the media is
// WebRTC (DTLS-SRTP, ICE), the microphone the browser's. The agent chooses where calls ring: the
// desk phone, or this browser, which then registers as their web<ext> endpoint. Hold is the
// desktop's own (the caller hears music), answer, hang-up and mute are the softphone's.
// The wallboard has it too (issue 11): a supervisor's or inspector's monitoring leg rings their
// extension, so they choose where it rings the same way; their page has no hold (a monitor holds
// no call) and its account comes from /api/monitor/phone (the template's data-api).
"use strict";
const Softphone = (() => {
  const STATUS_STATE = {none: "logged_out", desk: "ready", connecting: "logged_out", registered: "ready",
                        unregistered: "not_ready", no_microphone: "not_ready", ringing: "ringing", talking: "on_call"};
  let account = null;  // GET /api/agent/phone
  let ua = null;
  let session = null;
  let status = "none";
  const remote = $("sp-remote");
  const API = $("softphone").dataset.api || "/api/agent/phone";
  const holds = !!$("sp-hold");  // the agent's page: the call bar's hold, mirrored here

  function show(id, visible) { $(id).hidden = !visible; }
  function render() {
    const badge = $("sp-status");
    badge.dataset.sp = status;
    badge.dataset.state = STATUS_STATE[status] || "logged_out";
    setText("sp-status-text", W.word("sp_status." + status, {user: account ? account.sip.user : ""}));
    const ringing = status === "ringing", talking = status === "talking";
    show("sp-answer", ringing); show("sp-ringing", ringing);
    if ($("sp-answer-pop")) show("sp-answer-pop", ringing);
    show("sp-hangup", ringing || talking); show("sp-mute", talking);
    const muted = !!(session && session.isMuted().audio);
    $("sp-mute").setAttribute("aria-pressed", String(muted));
    setText("sp-mute", W.word(muted ? "sp_unmute" : "sp_mute"));
    if (!holds) return;
    show("sp-hold", talking);
    setText("sp-hold-text", W.word($("btn-resume") && !$("btn-resume").hidden ? "resume" : "hold"));
  }
  function set(next) { status = next; render(); }

  // ---- registering this browser as the agent's web<ext> endpoint
  function start() {
    if (ua || typeof JsSIP === "undefined" || !account.webrtc) return;
    set("connecting");
    ua = new JsSIP.UA({sockets: [new JsSIP.WebSocketInterface(account.webrtc.ws_url)], uri: account.webrtc.uri,
                       password: account.webrtc.password, register: true, register_expires: 120,
                       session_timers: false, user_agent: "callcenter-desktop"});
    ua.on("registered", () => { if (!session) set("registered"); });
    ua.on("unregistered", () => { if (!session) set("unregistered"); });
    ua.on("registrationFailed", () => set("unregistered"));
    ua.on("disconnected", () => { if (!session) set("unregistered"); });
    ua.on("newRTCSession", event => {
      if (event.originator !== "remote") return;
      if (session) { event.session.terminate({status_code: 486}); return; }  // one call at a time
      take(event.session);
    });
    ua.start();
  }
  function stop() {
    if (!ua) return;
    if (session) session.terminate();
    ua.stop();  // unregisters: the SIP service takes the agent off if they were ready
    ua = null;
    session = null;
  }

  // ---- a call
  function take(s) {
    session = s;
    s.on("peerconnection", e => attach(e.peerconnection));
    s.on("accepted", () => set("talking"));
    s.on("confirmed", () => set("talking"));
    s.on("ended", done);
    s.on("failed", done);
    s.on("muted", render);
    s.on("unmuted", render);
    set("ringing");
    announce(W.word("sp_status.ringing"));
  }
  function attach(pc) {
    pc.addEventListener("track", e => { remote.srcObject = e.streams[0] || new MediaStream([e.track]); });
  }
  function done() {
    session = null;
    remote.srcObject = null;
    set(ua && ua.isRegistered() ? "registered" : "unregistered");
  }
  function answer() {
    if (!session || status !== "ringing") return;
    try {
      session.answer({mediaConstraints: {audio: true, video: false}, pcConfig: {iceServers: []}});
    } catch (error) {
      set("no_microphone");
    }
  }

  // ---- the agent's choice
  async function load() {
    try {
      account = await api(API);
    } catch (error) { showError(error); return; }
    $("sp-device").value = account.device || "";
    apply(account.device);
  }
  function apply(device) {
    if (device === "webrtc") start(); else stop();
    if (device === "sip") set("desk");
    else if (!device) set("none");
  }
  async function choose(device) {
    try {
      account = await api(API, {method: "POST", body: JSON.stringify({device})});
      apply(account.device);
    } catch (error) {
      showError(error);
      $("sp-device").value = account.device || "";
    }
  }

  $("sp-device").onchange = e => { if (e.target.value) choose(e.target.value); };
  $("sp-answer").onclick = answer;
  if ($("sp-answer-pop")) $("sp-answer-pop").onclick = answer;
  $("sp-hangup").onclick = () => { if (session) session.terminate(); };
  $("sp-mute").onclick = () => {
    if (!session) return;
    if (session.isMuted().audio) session.unmute({audio: true}); else session.mute({audio: true});
  };
  // the desktop's hold (the router moves the caller to music): the call bar's own button
  if (holds) {
    $("sp-hold").onclick = () => { const resume = $("btn-resume"); (resume && !resume.hidden ? resume : $("btn-hold")).click(); };
    new MutationObserver(render).observe($("btn-resume"), {attributes: true, attributeFilter: ["hidden"]});
  }
  window.addEventListener("pagehide", stop);
  load();

  // what a test (or a support engineer in the console) may look at
  return {get status() { return status; }, get session() { return session; }, get ua() { return ua; },
          get remoteStream() { return remote.srcObject; }, answer};
})();
