// Quality inspection's pages (issue 13): the inspector's work list, scoring a call beside its
// recording and journey, the scores list, one score with its appeal and decision, the quality
// report. Everything from the server is put on the page as text; codes become words (words.js).
"use strict";
(function () {
  const NA = () => T["not_available"];
  const enc = encodeURIComponent;
  const post = (path, body) => api(path, {method: "POST", body: JSON.stringify(body)});
  const pct = value => value === null || value === undefined ? NA() : W.percent(value * 100);  // ratios are fractions

  function reasonsText(codes) { return codes.map(c => W.code("qreason", c)).join(", "); }
  function gradeBadge(score) {
    const text = score.grade ? W.code("grade", score.grade) : "";
    return el("span", {class: "badge", data: {grade: score.grade || ""}}, [
      icon(score.fatal ? "alert" : "ok"), el("span", {text: [W.number(score.total), text].join(" · ")}),
      score.fatal ? el("span", {class: "reason", text: "· " + T["quality.fatal"]}) : null]);
  }
  function statusText(score) {
    return W.code("qstatus", score.status) + (score.locked ? " · " + T["quality.locked"] : "");
  }
  function cell(text) { return el("td", {text}); }
  function atText(seconds) { return seconds === null || seconds === undefined ? "" : W.duration(seconds); }

  // ---- the recording player, when the call has one (issue 11's endpoint); else the call's page.
  // `reason`: why it is heard (audited with the playback); none: the reader's role's own
  async function player(uid, holder, reason) {
    clear(holder);
    try {
      const rec = await api("/api/calls/" + enc(uid) + "/recording");
      const audio = el("audio", {attrs: {controls: "", preload: "metadata", id: "player",
                                         src: "/api/recordings/" + enc(rec.id) + "/audio"
                                              + (reason ? "?reason=" + enc(reason) : ""),
                                         "aria-label": T["quality.recording"]}});
      holder.appendChild(audio);
      return audio;
    } catch (error) {
      holder.appendChild(el("p", {class: "muted", text: T["quality.no_recording"]}));
      holder.appendChild(el("a", {class: "btn btn-quiet", text: T["quality.open_call"],
                                  attrs: {href: "/calls/" + enc(uid)}}));
      return null;
    }
  }

  // ---- a scorecard as a form: one fieldset per item (yes/no radios, or a 0..max scale)
  function cardForm(card, holder, answers) {
    clear(holder);
    for (const section of card.sections) {
      const box = el("fieldset", {class: "panel quality-section"}, [el("legend", {text: W.code("qsection", section.code)})]);
      for (const item of section.items) {
        const name = "item-" + item.code;
        const label = W.code("qitem", item.code) + (item.fatal ? " (" + T["quality.fatal_item"] + ")" : "")
                      + " · " + W.word("quality.weight", {weight: item.weight});
        const field = el("fieldset", {class: "field quality-item", data: {item: item.code}}, [el("legend", {text: label})]);
        const choices = item.kind === "yesno" ? [[1, T["quality.yes"]], [0, T["quality.no"]]]
          : Array.from({length: item.scale_max + 1}, (_, i) => [item.scale_max - i, String(item.scale_max - i)]);
        for (const [value, text] of choices) {
          const input = el("input", {attrs: {type: "radio", name, value: String(value), required: ""}});
          if (answers && answers[item.code] === value) input.checked = true;
          field.appendChild(el("label", {class: "choice"}, [input, " " + text]));
        }
        box.appendChild(field);
      }
      holder.appendChild(box);
    }
  }
  function readAnswers(card, holder) {
    const out = {};
    for (const section of card.sections) for (const item of section.items) {
      const checked = holder.querySelector('input[name="item-' + item.code + '"]:checked');
      if (checked) out[item.code] = Number(checked.value);
    }
    return out;
  }

  // ---- answers, comments and appeal of one score, as text
  function showScore(score, holder) {
    clear(holder);
    holder.appendChild(el("p", {}, [gradeBadge(score), " ", el("span", {attrs: {id: "score-status"}, text: statusText(score),
                                                                      data: {status: score.status, locked: String(score.locked)}})]));
    holder.appendChild(el("p", {class: "muted", text: W.word("quality.card_version", {
      card: W.code("qcat", score.category), version: score.version}) + " · " + W.dateTime(score.scored_at)}));
    const list = el("ul", {class: "kv quality-answers"});
    for (const section of score.card.sections) for (const item of section.items) {
      const value = score.answers[item.code];
      const text = item.kind === "yesno" ? (value ? T["quality.yes"] : T["quality.no"]) : value + " / " + item.scale_max;
      list.appendChild(el("li", {data: {item: item.code}}, [el("span", {text: W.code("qitem", item.code) + ": "}),
                                                             el("strong", {text})]));
    }
    holder.appendChild(list);
    const comments = el("ol", {class: "timeline", attrs: {id: "comments"}});
    for (const c of score.comments) {
      // a comment's time is a button that takes the player there, when the page has one
      const when = c.at_s === null || c.at_s === undefined ? el("span", {class: "timer", text: ""})
        : el("button", {class: "btn btn-quiet timer", text: atText(c.at_s), data: {at: String(c.at_s)},
                        attrs: {type: "button", "aria-label": W.word("quality.play_at", {time: atText(c.at_s)})}});
      if (when.tagName === "BUTTON") when.addEventListener("click", () => {
        const audio = $("player");
        if (audio) { audio.currentTime = c.at_s; audio.play().catch(() => {}); }
      });
      comments.appendChild(el("li", {}, [when, " ", el("span", {text: c.text})]));
    }
    holder.appendChild(el("h3", {text: T["quality.comments"]}));
    holder.appendChild(score.comments.length ? comments : el("p", {class: "muted", text: T["quality.no_comments"]}));
    if (score.appeal) {
      const a = score.appeal;
      holder.appendChild(el("h3", {text: T["quality.appeal"]}));
      holder.appendChild(el("p", {attrs: {id: "appeal-text"}, text: a.reason}));
      holder.appendChild(el("p", {attrs: {id: "appeal-outcome"}, data: {outcome: a.outcome || ""},
        text: a.outcome ? W.word("quality.decided", {outcome: W.code("qoutcome", a.outcome), before: W.number(a.total_before)})
                          + (a.note ? " — " + a.note : "") : T["quality.appeal_open"]}));
    }
  }

  // ---- pages
  async function workListPage() {
    const body = $("worklist").querySelector("tbody");
    async function refresh() {
      const data = await api("/api/quality/worklist");
      clear(body);
      $("worklist").setAttribute("aria-busy", "false");
      $("worklist-empty").hidden = data.items.length > 0;
      for (const item of data.items) {
        const open = el("a", {class: "btn btn-quiet", text: item.score_id ? T["quality.view_score"] : T["quality.score_it"],
                              attrs: {href: item.score_id ? "/quality/scores/" + item.score_id : "/quality/calls/" + enc(item.call)}});
        body.appendChild(el("tr", {data: {call: item.call}}, [
          cell(W.dateTime(item.started_at)), cell(item.agent), cell(W.code("skill", item.queue)),
          cell(reasonsText(item.reasons)), cell(W.code("qitem_status", item.status)),
          cell(item.score_id ? W.number(item.total) + " · " + W.code("grade", item.grade) : ""), el("td", {}, [open])]));
      }
    }
    $("sample-form").addEventListener("submit", async event => {
      event.preventDefault();
      try {
        const week = $("f-week").value.trim();
        const reply = await post("/api/quality/sample", week ? {week} : {});
        announce(W.word("quality.sampled", {listed: reply.listed, mine: reply.mine, week: reply.week}));
        setText("sample-result", W.word("quality.sampled", {listed: reply.listed, mine: reply.mine, week: reply.week}));
        showMessage({ok: true});
        await refresh();
      } catch (error) { showError(error); }
    });
    refresh().catch(showError);
  }

  async function scoringPage() {
    const uid = PAGE.call;
    const data = await api("/api/quality/calls/" + enc(uid)).catch(showError);
    if (!data) return;
    setText("call-reasons", reasonsText(data.reasons));
    setText("call-agent", data.agent);
    const audio = await player(uid, $("player-box"), "quality_inspection");
    if (data.score) {
      location.href = "/quality/scores/" + data.score.id;
      return;
    }
    const select = $("f-category");
    for (const code of Object.keys(data.cards)) {
      select.appendChild(el("option", {text: W.code("qcat", code), attrs: {value: code}}));
    }
    select.value = data.suggested;
    const draw = () => cardForm(data.cards[select.value], $("card-items"));
    select.addEventListener("change", draw);
    draw();
    $("f-use-time").addEventListener("click", () => {
      if (audio) $("f-comment-at").value = String(Math.floor(audio.currentTime));
    });
    $("score-form").addEventListener("submit", async event => {
      event.preventDefault();
      const card = data.cards[select.value];
      try {
        const score = await post("/api/quality/calls/" + enc(uid) + "/score",
                                 {category: select.value, answers: readAnswers(card, $("card-items"))});
        const text = $("f-comment").value.trim();
        if (text) {
          const at = $("f-comment-at").value.trim();
          await post("/api/quality/scores/" + score.id + "/comments", {text, at_s: at === "" ? null : Number(at)});
        }
        location.href = "/quality/scores/" + score.id;
      } catch (error) { showError(error); }
    });
  }

  async function scoresPage() {
    const body = $("scores").querySelector("tbody");
    // the form's fields (status, sort, dir, per_page, page) go to the API as they are: it checks them
    const asked = new URLSearchParams(location.search);
    const params = new URLSearchParams();
    for (const name of ["status", "sort", "dir", "per_page", "page"]) if (asked.get(name)) params.set(name, asked.get(name));
    $("f-status").value = asked.get("status") || "";  // appealed: what a lead decides
    if (asked.get("sort")) $("f-sort").value = asked.get("sort");
    if (asked.get("dir")) $("f-dir").value = asked.get("dir");
    if (asked.get("per_page")) $("f-per-page").value = asked.get("per_page");
    const data = await api("/api/quality/scores" + (params.toString() ? "?" + params : "")).catch(showError);
    if (!data) return;
    $("scores").setAttribute("aria-busy", "false");
    $("scores-empty").hidden = data.scores.length > 0;
    for (const s of data.scores) {
      body.appendChild(el("tr", {data: {score: String(s.id)}}, [
        cell(W.dateTime(s.scored_at)), cell(s.agent), cell(W.code("qcat", s.category)), el("td", {}, [gradeBadge(s)]),
        cell(statusText(s)), el("td", {}, [el("a", {class: "btn btn-quiet", text: T["quality.view_score"],
                                                  attrs: {href: "/quality/scores/" + s.id}})])]));
    }
    const pages = Math.max(1, Math.ceil(data.total / data.per_page));
    $("scores-page").textContent = W.word("rec.page", {page: data.page, pages});
    const go = page => { params.set("page", page); location.search = params.toString(); };
    $("scores-prev").disabled = data.page <= 1;
    $("scores-next").disabled = data.page >= pages;
    $("scores-prev").addEventListener("click", () => go(data.page - 1));
    $("scores-next").addEventListener("click", () => go(data.page + 1));
  }

  async function scorePage() {
    const path = "/api/quality/scores/" + PAGE.score;
    let score = await api(path).catch(showError);
    if (!score) return;
    // deciding an appeal is hearing a dispute; otherwise the reader's own reason (own call, team review ...)
    await player(score.call, $("player-box"), score.status === "appealed" && PAGE.role !== "agent" ? "dispute" : "");
    const role = PAGE.role, me = PAGE.me, ext = PAGE.ext;
    function render() {
      showScore(score, $("score-box"));
      const canAppeal = role === "agent" && ext === score.agent && score.status === "scored" && !score.locked && !score.appeal;
      const canDecide = score.status === "appealed" && (role === "supervisor" || role === "admin"
                        || (role === "quality" && me !== score.inspector));
      $("appeal-panel").hidden = !canAppeal;
      $("decide-panel").hidden = !canDecide;
      if (canDecide) cardForm(score.card, $("decide-items"), score.answers);
    }
    render();
    $("appeal-form").addEventListener("submit", async event => {
      event.preventDefault();
      try { score = await post(path + "/appeal", {reason: $("f-appeal-reason").value}); showMessage({ok: true}); render(); }
      catch (error) { showError(error); }
    });
    $("decide-form").addEventListener("submit", async event => {
      event.preventDefault();
      const outcome = $("decide-form").querySelector('input[name="outcome"]:checked');
      try {
        score = await post(path + "/decision", {outcome: outcome ? outcome.value : "", note: $("f-decide-note").value,
                                                answers: readAnswers(score.card, $("decide-items"))});
        showMessage({ok: true});
        render();
      } catch (error) { showError(error); }
    });
  }

  async function reportPage() {
    const form = $("quality-report-form");
    const query = new URLSearchParams(location.search);
    for (const name of ["from", "to", "dim"]) if (query.get(name)) form.elements[name].value = query.get(name);
    const body = $("quality-report").querySelector("tbody");
    const params = new URLSearchParams(new FormData(form));
    const data = await api("/api/quality/kpis?" + params.toString()).catch(showError);
    if (!data) return;
    $("quality-report").setAttribute("aria-busy", "false");
    $("quality-report-empty").hidden = data.rows.length > 0;
    for (const r of data.rows) {
      const grades = Object.entries(r.grades).map(([g, n]) => W.code("grade", g) + " " + W.number(n)).join(", ");
      const outcomes = Object.entries(r.appeal_outcomes).map(([o, n]) => W.code("qoutcome", o) + " " + W.number(n)).join(", ");
      body.appendChild(el("tr", {data: {key: r.key}}, [
        cell(data.dim === "queue" ? W.code("skill", r.key) : data.dim === "center" ? T["quality.center"] : r.key),
        cell(W.number(r.scored)), cell(W.number(r.average)), cell(grades),
        el("td", {text: pct(r.query_accuracy), data: {value: String(r.query_accuracy)}}),
        el("td", {text: pct(r.answer_overtime_rate), data: {value: String(r.answer_overtime_rate)}}),
        cell(pct(r.satisfaction)), cell(pct(r.survey_response)),
        cell(W.number(r.appeals) + (r.appeals ? " (" + outcomes + ")" : ""))]));
    }
  }

  // ---- calibration: start one on a call; score it blind; compare; close to a reference
  async function calibrationsPage() {
    const select = $("f-cal-category");
    for (const code of PAGE.categories) select.appendChild(el("option", {text: W.code("qcat", code), attrs: {value: code}}));
    $("cal-form").addEventListener("submit", async event => {
      event.preventDefault();
      try {
        const cal = await post("/api/quality/calibrations", {call: $("f-cal-call").value.trim(), category: select.value});
        location.href = "/quality/calibrations/" + cal.id;
      } catch (error) { showError(error); }
    });
    const data = await api("/api/quality/calibrations");
    const body = $("cals").querySelector("tbody");
    $("cals").setAttribute("aria-busy", "false");
    $("cals-empty").hidden = data.calibrations.length > 0;
    for (const c of data.calibrations) {
      body.appendChild(el("tr", {data: {calibration: String(c.id)}}, [
        cell(c.call), cell(W.code("qcal_status", c.status)),
        cell(c.reference_total === null ? "" : W.number(c.reference_total)),
        el("td", {}, [el("a", {class: "btn btn-quiet", text: T["quality.open"], attrs: {href: "/quality/calibrations/" + c.id}})])]));
    }
  }

  async function calibrationPage() {
    const path = "/api/quality/calibrations/" + PAGE.calibration;
    let cal = await api(path);
    await player(cal.call, $("player-box"), "quality_inspection");
    function render() {
      setText("cal-call", cal.call);
      setText("cal-status", W.code("qcal_status", cal.status) + " · " + W.word("quality.cal_scored_by", {n: cal.scored_by}));
      $("cal-status").dataset.status = cal.status;
      $("cal-status").dataset.scored = String(cal.scored_by);
      const open = cal.status === "open";
      $("cal-score-panel").hidden = !open;
      $("cal-close-panel").hidden = !open;
      if (open) cardForm(cal.card, $("cal-items"), cal.mine);
      $("cal-blind").hidden = cal.spread.length > 0 || cal.status !== "open";
      const table = $("cal-spread");
      table.hidden = cal.spread.length === 0;
      const body = table.querySelector("tbody");
      clear(body);
      const items = Object.fromEntries(cal.card.sections.flatMap(s => s.items).map(i => [i.code, i]));
      for (const r of cal.spread) {
        const total = r.item === "total";
        const ref = total ? cal.reference_total : (cal.reference ? cal.reference[r.item] : null);
        body.appendChild(el("tr", {data: {item: r.item}}, [
          cell(total ? T["quality.cal_total"] : W.code("qitem", r.item)), cell(W.number(r.low)), cell(W.number(r.high)),
          el("td", {text: total ? W.number(r.spread) : W.percent(r.spread * 100), data: {value: String(r.spread)}}),
          cell(ref === null || ref === undefined ? "" : W.number(ref) + (total ? "" : " / " + items[r.item].scale_max))]));
      }
      const totals = $("cal-totals");
      clear(totals);
      for (const s of cal.scores) totals.appendChild(el("li", {}, [el("span", {text: s.inspector + ": "}), el("strong", {text: W.number(s.total)})]));
    }
    render();
    $("cal-score-form").addEventListener("submit", async event => {
      event.preventDefault();
      try { cal = await post(path + "/score", {answers: readAnswers(cal.card, $("cal-items"))}); showMessage({ok: true}); render(); }
      catch (error) { showError(error); }
    });
    $("cal-close").addEventListener("click", async () => {
      try { cal = await post(path + "/close", {}); showMessage({ok: true}); render(); }
      catch (error) { showError(error); }
    });
  }

  const pages = {"page-quality-calibrations": calibrationsPage, "page-quality-calibration": calibrationPage,
                 "page-quality-worklist": workListPage, "page-quality-call": scoringPage,
                 "page-quality-scores": scoresPage, "page-quality-score": scorePage, "page-quality-report": reportPage};
  for (const [name, run] of Object.entries(pages)) {
    if (document.body.classList.contains(name)) run().catch(showError);
  }
})();
