// The report pages (reports, KPIs, staffing) and the call history with its journeys. Each page
// is a GET form: the query in the address is read back into the form, sent to the page's JSON
// API, and drawn as a chart (Chart.js, when scripts/setup.sh installed it) and tables. Codes
// become words through words.js; a figure the server says is not available (null) reads "n/a",
// never 0. Raw values ride on each cell (data-value) exactly as the CSV export writes them.
"use strict";
(function () {
  const NA = () => T["not_available"];
  const query = new URLSearchParams(location.search);
  const timeFormat = new Intl.DateTimeFormat(W.locale, {timeZone: W.timeZone, hour: "2-digit", minute: "2-digit",
                                                        second: "2-digit", hourCycle: "h23"});

  // ---- reading the form back from the address
  function fillForm(form) {
    if (!form) return;
    for (const field of form.elements) {
      if (field.name && query.has(field.name)) field.value = query.get(field.name);
    }
  }
  function formQuery(form) {
    const params = new URLSearchParams();
    for (const field of form.elements) {
      if (field.name && field.value !== "") params.set(field.name, field.value);
    }
    return params.toString();
  }
  async function load(path, table) {
    try {
      return await api(path);
    } catch (error) {
      showError(error);
      return null;
    } finally {
      if (table) table.setAttribute("aria-busy", "false");
    }
  }

  // ---- figures
  function figureName(code) {
    const [head, rest] = code.split(".", 2);
    if (head === "state" && rest) return W.word("figure.state", {state: W.code("state", rest)});
    if (head === "not_ready" && rest) return W.word("figure.not_ready", {reason: W.code("reason", rest)});
    return W.word("figure." + code);
  }
  function figureDefinition(code) {
    const head = code.split(".")[0];
    if (head === "state" || head === "not_ready") return W.word("figure." + head + ".def");
    return W.word("figure." + code + ".def");
  }
  function show(value, unit) {
    if (value === null || value === undefined) return NA();
    if (unit === "ratio") return W.percent(value * 100);
    if (unit === "seconds") return W.duration(value);
    return W.number(value);
  }
  function keyName(dim, key, names) {
    if (dim === "all") return T["all_center"];
    if (dim === "queue") return W.code("skill", key);
    if (dim === "access") return key || T["no_access_number"];
    if (dim === "team") return key || T["no_team"];
    return names && names[key] ? key + " · " + names[key] : key;
  }
  function cell(tag, text, options = {}) {
    const node = el(tag, Object.assign({text}, options));
    return node;
  }
  // a raw figure as the CSV export writes it (agent_desktop/reports.py number_text)
  function valueText(value) {
    if (value === null || value === undefined) return "n/a";
    if (typeof value !== "number") return String(value);
    return Number.isInteger(value) ? String(value) : value.toFixed(6).replace(/0+$/, "").replace(/\.$/, "");
  }
  function valueCell(value, unit, code) {
    return cell("td", show(value, unit), {class: "num", data: {code, value: valueText(value)}});
  }

  // ---- Chart.js, if installed
  function chartReady() {
    const ok = typeof Chart === "function";
    $("no-chart").hidden = ok;
    return ok;
  }
  function drawChart(config, summary) {
    const canvas = $("report-chart");
    setText("chart-summary", summary);
    if (!chartReady()) return;
    const old = Chart.getChart(canvas);
    if (old) old.destroy();
    config.options = Object.assign({animation: false, responsive: true, maintainAspectRatio: false,
                                    plugins: {legend: {position: "bottom"}}}, config.options || {});
    new Chart(canvas, config);
    canvas.dataset.drawn = String(config.data.datasets.length);
  }
  const PALETTE = ["#1f6feb", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#e67700", "#0b7285", "#5f3dc4"];

  // ---- the reports page
  async function reportsPage() {
    const form = $("report-form");
    fillForm(form);
    const params = formQuery(form);
    const data = await load("/api/reports?" + params, $("report-table"));
    if (!data) return;
    $("export-csv").href = "/api/reports.csv?" + params + "&as_of=" + data.as_of;  // the same moment's figures
    setText("tz-note", W.word("report.tz_note", {tz: data.tz}));
    const units = Object.fromEntries(data.columns.map(c => [c.code, c.unit]));
    for (const [id, rows] of [["report-table", data.rows], ["report-totals", data.totals]]) {
      const table = $(id);
      clear(table.tHead);
      clear(table.tBodies[0]);
      table.tHead.appendChild(el("tr", {}, [cell("th", T["report.interval"], {attrs: {scope: "col"}}),
        cell("th", W.word("dim." + data.dim), {attrs: {scope: "col"}}),
        ...data.columns.map(c => cell("th", figureName(c.code), {class: "num",
          attrs: {scope: "col", title: figureDefinition(c.code)}, data: {code: c.code}}))]));
      for (const row of rows) {
        table.tBodies[0].appendChild(el("tr", {data: {interval: row.interval, key: row.key}}, [
          cell("th", row.interval, {attrs: {scope: "row"}}), cell("td", keyName(data.dim, row.key, data.names)),
          ...data.columns.map(c => valueCell(row[c.code], c.unit, c.code))]));
      }
    }
    $("report-empty").hidden = data.rows.length > 0;
    const defs = $("definitions");
    clear(defs);
    const seen = new Set();
    for (const c of data.columns) {
      const head = c.code.split(".")[0];
      const name = head === "state" || head === "not_ready" ? head : c.code;
      if (seen.has(name)) continue;
      seen.add(name);
      // one entry for all the state times, one for all the not-ready reasons
      defs.appendChild(el("dt", {text: name === c.code ? figureName(c.code) : T[name === "state" ? "state" : "not_ready"]}));
      defs.appendChild(el("dd", {text: figureDefinition(c.code)}));
    }
    const select = $("chart-figure");
    const wanted = query.get("chart") || (data.dim === "agent" || data.dim === "team" ? "answered" : "offered");
    clear(select);
    for (const c of data.columns) select.appendChild(el("option", {text: figureName(c.code), attrs: {value: c.code}}));
    select.value = data.columns.some(c => c.code === wanted) ? wanted : data.columns[0].code;
    const redraw = () => reportChart(data, select.value, units[select.value]);
    select.addEventListener("change", redraw);
    redraw();
  }
  function reportChart(data, code, unit) {
    const keys = [...new Set(data.rows.map(r => r.key))];
    const datasets = keys.map((key, i) => {
      const byInterval = Object.fromEntries(data.rows.filter(r => r.key === key).map(r => [r.interval, r[code]]));
      return {label: keyName(data.dim, key, data.names), backgroundColor: PALETTE[i % PALETTE.length],
              borderColor: PALETTE[i % PALETTE.length],
              data: data.intervals.map(at => at in byInterval ? (unit === "ratio" && byInterval[at] !== null ? byInterval[at] * 100 : byInterval[at])
                                                              : (unit === "count" ? 0 : null))};
    });
    // one day: the intervals by their time alone
    const labels = data.from === data.to ? data.intervals.map(at => at.slice(11) || at) : data.intervals;
    drawChart({type: unit === "count" ? "bar" : "line", data: {labels, datasets},
               options: {scales: {y: {beginAtZero: true, title: {display: true, text: figureName(code)},
                                      ticks: {callback: v => unit === "seconds" ? W.duration(v) : unit === "ratio" ? W.percent(v) : W.number(v)}}}}},
              W.word("report.chart_summary", {figure: figureName(code), n: W.number(datasets.length)}));
  }

  // ---- the KPI page
  async function kpiPage() {
    const form = $("kpi-form");
    fillForm(form);
    const data = await load("/api/kpi?" + formQuery(form), $("kpis"));
    if (!data) return;
    setText("tz-note", W.word("report.tz_note", {tz: data.tz}));
    const body = $("kpis").tBodies[0];
    clear(body);
    for (const k of data.kpis) {
      let counts = "";
      if (k.bottom) {
        counts = k.unit === "seconds"
          ? W.word("kpi.hours_of", {top: W.number(Math.round(k.top / 36) / 100), bottom: W.number(Math.round(k.bottom / 36) / 100)})
          : W.word("kpi.of", {top: W.number(k.top), bottom: W.number(k.bottom)});
      }
      if (k.extra && k.extra.over_limit !== undefined) counts += " · " + W.word("kpi.over_limit", {n: W.number(k.extra.over_limit)});
      body.appendChild(el("tr", {data: {code: k.code}}, [
        cell("th", W.word("kpi." + k.code), {attrs: {scope: "row"}}),
        cell("td", k.value === null ? T["not_available_long"] : W.percent(k.value * 100),
             {class: "num", data: {value: k.value === null ? "n/a" : String(k.value)}}),
        cell("td", counts, {class: "num"}),
        cell("td", W.word("kpi." + k.code + ".def", {limit: W.number(data.limit_s)}))]));
    }
  }

  // ---- the staffing page
  async function staffingPage() {
    const form = $("staffing-form");
    fillForm(form);
    const data = await load("/api/staffing?" + formQuery(form), $("staffing-table"));
    if (!data) return;
    setText("tz-note", W.word("report.tz_note", {tz: data.tz}));
    const body = $("staffing-table").tBodies[0];
    clear(body);
    for (const r of data.rows) {
      body.appendChild(el("tr", {data: {interval: r.label}}, [
        cell("th", r.label, {attrs: {scope: "row"}}), valueCell(r.calls, "count", "calls"),
        valueCell(r.aht_s, "seconds", "aht"), valueCell(r.agents, "count", "agents"),
        valueCell(r.service_level, "ratio", "service_level"), valueCell(r.asa_s, "seconds", "asa"),
        valueCell(r.occupancy, "ratio", "occupancy"), valueCell(r.abandon_rate, "ratio", "abandon")]));
    }
    const peak = data.rows.reduce((best, r) => (best === null || r.agents > best.agents ? r : best), null);
    drawChart({type: "bar", data: {labels: data.rows.map(r => r.label), datasets: [
      {label: T["staffing.agents"], data: data.rows.map(r => r.agents), backgroundColor: PALETTE[0], yAxisID: "y"},
      {label: T["staffing.calls"], data: data.rows.map(r => r.calls), type: "line", borderColor: PALETTE[1],
       backgroundColor: PALETTE[1], yAxisID: "calls"}]},
      options: {scales: {y: {beginAtZero: true, title: {display: true, text: T["staffing.agents"]}},
                         calls: {beginAtZero: true, position: "right", grid: {drawOnChartArea: false},
                                 title: {display: true, text: T["staffing.calls"]}}}}},
      peak ? W.word("staffing.peak", {agents: W.number(peak.agents), at: peak.label}) : "");
  }

  // ---- call history and one call's journey
  async function callsPage() {
    const form = $("calls-form");
    fillForm(form);
    const data = await load("/api/calls?" + formQuery(form), $("calls"));
    if (!data) return;
    const body = $("calls").tBodies[0];
    clear(body);
    for (const c of data.calls) {
      const link = el("a", {text: T["calls.open"], attrs: {href: "/calls/" + encodeURIComponent(c.uniqueid)}});
      body.appendChild(el("tr", {data: {call: c.uniqueid}}, [
        cell("td", W.dateTime(c.started_at)), cell("td", c.caller_number || T["unknown_number"]),
        cell("td", c.access_number), cell("td", W.code("skill", c.skill)), cell("td", c.agent),
        cell("td", W.endWords(c.end_reason, c.end_detail)), el("td", {}, [link])]));
    }
    $("calls-empty").hidden = data.calls.length > 0;
  }

  function stepWords(step) {
    const d = step.detail || {};
    const agent = step.agent || "";
    switch (step.kind) {
      case "entered": return [W.word("journey.entered", {access: d.access_number || "—"}),
                              d.caller_number ? W.word("journey.caller", {number: d.caller_number}) : ""];
      case "menu": { const s = W.step(d); return [s.node, s.detail]; }
      case "queued": return [W.word("journey.queued", {skill: W.code("skill", d.skill)}), ""];
      case "routed": return [W.word("journey.routed", {agent}),
                             [W.code("journey.class", d.service_class), d.callback ? T["journey.callback"] : "",
                              d.reason ? T["journey.reason"] + ": " + d.reason : ""].filter(Boolean).join(" · ")];
      case "transfer": return [W.word("journey.transfer", {agent}),
                               [d.to_skill ? W.word("journey.to_skill", {skill: W.code("skill", d.to_skill)}) : "",
                                d.to_agent ? W.word("journey.to_agent", {agent: d.to_agent}) : "", d.note].filter(Boolean).join(" · ")];
      case "work_order": return [W.word("journey.work_order", {number: d.number}),
                                 [W.code("category", d.category), W.code("order_status", d.status),
                                  W.code("journey.link", d.link)].filter(Boolean).join(" · ")];
      case "disposition": return [W.word("journey.disposition", {agent}),
                                  [W.code("disposition", d.disposition), d.notes].filter(Boolean).join(" · ")];
      case "callback": return [T["journey.callback"], W.code("journey.callback_status", d.status)];
      case "ended": return [T["journey.ended"], W.endWords(d.end_reason, d.end_detail)];
      case "survey": return [T["journey.survey"], W.code("journey.survey_answer", d.answer)];
      case "quality_score": return [W.word("journey.quality_score", {agent}),
                                    [W.number(d.total), W.code("grade", d.grade), d.fatal ? T["quality.fatal"] : "",
                                     W.code("qstatus", d.status)].filter(Boolean).join(" · ")];
      case "recording": return [T["journey.recording"], d.file];
      default: return [W.word("journey." + step.kind, {agent}), ""];
    }
  }
  async function journeyPage() {
    const uid = PAGE.call;
    const list = $("timeline");
    const data = await load("/api/calls/" + encodeURIComponent(uid) + "/journey", list);
    if (!data) return;
    setText("journey-caller", data.caller_number + " · " + W.dateTime(data.started_at));
    clear(list);
    for (const step of data.steps) {
      const [title, detail] = stepWords(step);
      const when = W.toDate(step.at);
      list.appendChild(el("li", {data: {kind: step.kind}}, [
        el("time", {class: "timer", text: when ? timeFormat.format(when) : "", attrs: {datetime: step.at}}), " ",
        el("span", {class: "step-node", text: title}),
        detail ? el("span", {class: "step-detail", text: " — " + detail}) : null]));
    }
  }

  const pages = {"page-reports": reportsPage, "page-kpi": kpiPage, "page-staffing": staffingPage,
                 "page-calls": callsPage, "page-journey": journeyPage};
  for (const [name, run] of Object.entries(pages)) {
    if (document.body.classList.contains(name)) run();
  }
})();
