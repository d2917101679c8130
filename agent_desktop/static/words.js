// Codes in, words out: everything a person reads about a code (a state, a reason, a queue, a
// category, a menu step, an end reason) and every date, time, duration, amount and count, in
// the user's language and the center's time zone. Pure: no DOM, so the unit tests run it in
// Node over every code the sources define (tests/unit/test_desktop_i18n.py).
//
// The words are agent_desktop/i18n.py's (PAGE.t); a code without words falls back to the code
// with its underscores turned into spaces and is remembered in `missing`, which the tests read.
"use strict";
(function (root) {
  function makeWords(T, lang, timeZone, currency) {
    const locale = lang === "zh" ? "zh-CN" : "en";
    const missing = [];

    function has(key) { return Object.prototype.hasOwnProperty.call(T, key); }
    function fill(text, params) {
      return text.replace(/\{(\w+)\}/g, (all, name) => (params && name in params ? String(params[name]) : all));
    }
    function word(key, params) {
      if (!has(key)) { missing.push(key); return humanize(key.split(".").pop()); }
      return fill(T[key], params);
    }
    function humanize(code) { return String(code).replace(/_+/g, " ").trim(); }
    // one code of one kind: "state", "reason", "skill", "category", "priority", "order_status",
    // "disposition", "lang", "role", "account_status", "node", "outcome", "hangup", "handoff"
    function code(kind, value) {
      if (value === null || value === undefined || value === "") return "";
      return word(kind + "." + value);
    }
    function systemText(text) { return has("system_text." + text) ? T["system_text." + text] : text; }

    // ---- how a call ended (cdr/end_reason.py codes)
    function endWords(reason, detail) {
      if (!reason) return word("in_progress");
      const words = code("end", reason);
      if (!detail) return words;
      const d = code("end_detail", detail);
      return lang === "zh" ? words + "（" + d + "）" : words + " (" + d + ")";
    }

    // ---- the call's journey through the voice menu (ivr/engine.py writes node, input, outcome)
    const RETRY = /^(no_input|invalid_key|invalid_input)_x(\d+)_at_(.+)$/;
    function handoffReason(reason) {
      if (has("handoff." + reason)) return T["handoff." + reason];
      const m = RETRY.exec(reason);
      if (m) return word("retry." + m[1], {count: number(Number(m[2])), node: code("node", m[3])});
      return word("handoff." + reason);
    }
    function outcomeWords(outcome) {
      let m = /^language=(\w+)$/.exec(outcome);
      if (m) return word("outcome.language", {language: code("lang", m[1])});
      m = /^handoff skill=(\S*) reason=(\S*)$/.exec(outcome);
      if (m) return word("outcome.handoff", {skill: code("skill", m[1]), reason: handoffReason(m[2])});
      m = /^hangup(?: (\S+))?$/.exec(outcome);
      if (m) return word("outcome.hangup", {reason: m[1] ? code("hangup", m[1]) : word("none")});
      return code("outcome", outcome.replace(/ /g, "_"));
    }
    function inputWords(input) {
      if (input.length === 1) return word("input.key", {keys: input});
      if (/^\*+$/.test(input)) return word("input.secret");
      return word("input.digits", {keys: input});
    }
    function step(s) {
      const detail = [];
      if (s.input) detail.push(inputWords(String(s.input)));
      if (s.outcome) detail.push(outcomeWords(String(s.outcome)));
      return {node: code("node", s.node), detail: detail.join(" · ")};
    }

    // ---- numbers, money, dates and durations
    const numbers = new Intl.NumberFormat(locale);
    const moneyFormat = new Intl.NumberFormat(locale, {style: "currency", currency: currency || "CNY"});
    const percentFormat = new Intl.NumberFormat(locale, {style: "percent", maximumFractionDigits: 1});
    const zone = timeZone || "Asia/Shanghai";
    const dateTimeFormat = new Intl.DateTimeFormat(locale, {timeZone: zone, dateStyle: "medium", timeStyle: "short"});
    const dateFormat = new Intl.DateTimeFormat(locale, {timeZone: zone, dateStyle: "medium"});
    const clockFormat = new Intl.DateTimeFormat(locale, {timeZone: zone, hour: "2-digit", minute: "2-digit",
                                                         timeZoneName: "short"});
    const monthFormat = new Intl.DateTimeFormat(locale, {timeZone: "UTC", year: "numeric", month: "long"});

    function number(n) { return n === null || n === undefined ? "" : numbers.format(n); }
    function money(cents) { return moneyFormat.format((Number(cents) || 0) / 100); }
    function percent(value) { return value === null || value === undefined ? "" : percentFormat.format(value / 100); }
    // the server's times: POSIX seconds, or ISO text (naive ones are UTC: the database stores UTC)
    function toDate(value) {
      if (value === null || value === undefined || value === "") return null;
      if (typeof value === "number") return new Date(value * 1000);
      const text = String(value);
      const zoned = /(Z|[+-]\d\d:?\d\d)$/.test(text) ? text : text + "Z";
      const date = new Date(zoned);
      return isNaN(date.getTime()) ? null : date;
    }
    function dateTime(value) { const d = toDate(value); return d ? dateTimeFormat.format(d) : ""; }
    function date(value) { const d = toDate(value); return d ? dateFormat.format(d) : ""; }
    function clock(value) { const d = toDate(value); return d ? clockFormat.format(d) : ""; }
    function month(period) {  // a bill's "2026-10"
      const m = /^(\d{4})-(\d{2})$/.exec(String(period || ""));
      return m ? monthFormat.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1))) : String(period || "");
    }
    // a duration as a timer reads: 0:42, 12:05, 1:02:03
    function duration(seconds) {
      const s = Math.max(0, Math.round(Number(seconds) || 0));
      const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
      const two = n => String(n).padStart(2, "0");
      return h ? h + ":" + two(m) + ":" + two(r) : m + ":" + two(r);
    }

    return {T, lang, locale, timeZone: zone, missing, has, word, code, humanize, systemText, endWords, step,
            number, money, percent, dateTime, date, clock, month, duration, toDate};
  }
  if (typeof module !== "undefined" && module.exports) module.exports = {makeWords};
  else root.makeWords = makeWords;
})(this);
