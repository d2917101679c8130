// Call recordings: the player beside a call's journey and the recordings search. Audio is asked
// for by recording id only (/api/recordings/<id>/audio, served with Range answers); the server
// audits each playback and download. Every value is put on the page as text.
"use strict";
(function () {
  const audioPath = id => "/api/recordings/" + encodeURIComponent(id) + "/audio";
  const downloadPath = id => "/api/recordings/" + encodeURIComponent(id) + "/download";
  const seconds = ms => (ms === null || ms === undefined) ? "" : W.duration(Math.round(ms / 1000));

  // ---- the call's recording beside its journey
  async function journeyRecording() {
    let rec;
    try {
      rec = await api("/api/calls/" + encodeURIComponent(PAGE.call) + "/recording");
    } catch (error) {
      $("recording-none").hidden = false;
      return;
    }
    if (rec.purged || rec.problem === "missing") {
      setText("recording-none", rec.problem ? W.word("rec.problem." + rec.problem) : T["rec.none"]);
      $("recording-none").hidden = false;
      return;
    }
    const player = $("recording-player");
    player.dataset.recording = rec.id;
    player.src = audioPath(rec.id);
    $("recording-download").href = downloadPath(rec.id);
    setText("recording-facts", [seconds(rec.duration_ms), rec.problem ? W.word("rec.problem." + rec.problem) : "",
                                rec.legal_hold ? T["rec.legal_hold"] : ""].filter(Boolean).join(" · "));
    $("recording-panel").hidden = false;
    const form = $("hold-form");  // supervisors, inspectors and admins: a legal hold, with a reason (audited)
    if (!form) return;
    let held = rec.legal_hold;
    const label = () => setText("hold-button", held ? $("hold-button").dataset.off : $("hold-button").dataset.on);
    label();
    form.addEventListener("submit", async event => {
      event.preventDefault();
      try {
        const reply = await api("/api/recordings/" + encodeURIComponent(rec.id) + "/hold",
                                {method: "POST", body: JSON.stringify({hold: !held, reason: $("hold-reason").value})});
        held = reply.legal_hold;
        label();
        form.reset();
        showMessage({ok: true});
      } catch (error) {
        showError(error);
      }
    });
  }

  // ---- the search
  const query = new URLSearchParams(location.search);
  function fillForm(form) {
    for (const field of form.elements) {
      if (field.name && query.has(field.name)) field.value = query.get(field.name);
    }
  }
  function formQuery(form) {
    const params = new URLSearchParams();
    for (const field of form.elements) {
      if (field.name && field.value !== "") params.set(field.name, field.value);
    }
    return params;
  }
  async function searchPage() {
    const form = $("rec-form");
    fillForm(form);
    const table = $("rec-table");
    let data;
    try {
      data = await api("/api/recordings?" + formQuery(form).toString());
    } catch (error) {
      showError(error);
      return;
    } finally {
      table.setAttribute("aria-busy", "false");
    }
    const body = table.tBodies[0];
    clear(body);
    const player = $("recording-player");
    for (const r of data.recordings) {
      const play = el("button", {class: "btn btn-quiet", text: T["rec.play"], data: {recording: r.id}, attrs: {type: "button"}});
      play.addEventListener("click", () => { player.dataset.recording = r.id; player.src = audioPath(r.id); player.play(); });
      const link = el("a", {text: T["rec.download"], attrs: {href: downloadPath(r.id)}});
      body.appendChild(el("tr", {data: {recording: r.id}}, [
        el("td", {text: W.dateTime(r.started_at)}), el("td", {text: r.caller_number}),
        el("td", {text: r.queue ? W.code("skill", r.queue) : ""}), el("td", {text: r.agent}),
        el("td", {text: seconds(r.duration_ms)}),
        el("td", {text: W.dateTime(r.retain_until) + (r.legal_hold ? " · " + T["rec.legal_hold"] : "")}),
        el("td", {}, [play, " ", link])]));
    }
    $("rec-empty").hidden = data.recordings.length > 0;
    const pages = Math.max(1, Math.ceil(data.total / data.page_size));
    setText("rec-page", W.word("rec.page", {page: data.page, pages}));
    const go = page => { const params = formQuery(form); params.set("page", page); location.search = params.toString(); };
    $("rec-prev").disabled = data.page <= 1;
    $("rec-next").disabled = data.page >= pages;
    $("rec-prev").addEventListener("click", () => go(data.page - 1));
    $("rec-next").addEventListener("click", () => go(data.page + 1));
  }

  if (document.body.classList.contains("page-journey")) journeyRecording();
  if (document.body.classList.contains("page-recordings")) searchPage();
})();
