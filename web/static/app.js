// doctagger playground. Plain JS, no dependencies, no network but this origin.
// All text from the user or the server goes into the page through
// textContent / createTextNode, never innerHTML.
"use strict";

(function () {
  // Uncaught errors and Content-Security-Policy violations, kept for the
  // browser test (and for anyone looking in the console).
  const problems = (window.__playgroundProblems = []);
  window.addEventListener("error", (e) => problems.push("error: " + e.message));
  window.addEventListener("unhandledrejection", (e) => problems.push("rejection: " + String(e.reason)));
  document.addEventListener("securitypolicyviolation", (e) => problems.push("CSP: " + e.violatedDirective + " " + e.blockedURI));

  // ---------------------------------------------------------------- i18n
  const STRINGS = {
    vi: {
      skip: "Bỏ qua tới kết quả", playground: "playground", uiLanguage: "Ngôn ngữ",
      textLabel: "Văn bản", example: "Ví dụ", exampleNfd: "Ví dụ (NFD)", clear: "Xoá",
      textHelp: "Dán một bài báo rồi bấm “Gắn thẻ” (Ctrl+Enter).",
      themesLegend: "Chủ đề", all: "Tất cả", none: "Bỏ chọn", loadingThemes: "Đang tải chủ đề…",
      options: "Tuỳ chọn", optUntagged: "Hiện cả chủ đề dưới ngưỡng", optEvidence: "Lấy bằng chứng",
      docLanguage: "Ngôn ngữ nhãn", docId: "Mã văn bản", token: "Token (Bearer)",
      docTitle: "Tiêu đề", titleHelp: "Tuỳ chọn: thuật ngữ trong tiêu đề được tính theo title_weight của bộ quy tắc.",
      tokenHelp: "Chỉ cần khi máy chủ bật xác thực; chỉ giữ trong thẻ trình duyệt này.",
      tag: "Gắn thẻ", results: "Kết quả", highlighted: "Văn bản và bằng chứng",
      legendHelp: "Di chuột hoặc Tab tới một đoạn tô màu để xem thuật ngữ, mẫu và trọng số. Gạch ngang: khớp bị loại.",
      evidenceTable: "Danh sách bằng chứng", footer: "Gọi REST",
      bytes: "byte", chars: "ký tự", limit: "giới hạn", nfd: "NFD (dấu tách rời)", nfc: "NFC",
      tagging: "Đang gắn thẻ…", taggedIn: "Xong trong {ms} ms", cancelled: "Đã huỷ",
      rulesetLine: "Bộ luật {name} · {version} · {themes} chủ đề, {terms} thuật ngữ, {excl} loại trừ · nạp lúc {time}",
      resultMeta: "Văn bản “{id}” · {words} từ · bộ luật {version}",
      rulesetChanged: "Bộ luật đã đổi từ khi tải trang ({old} → {new}); danh sách chủ đề đã được tải lại.",
      noThemes: "Không có chủ đề nào đạt ngưỡng.", noThemesSelected: "Chọn ít nhất một chủ đề.",
      emptyText: "Hãy nhập văn bản.",
      score: "Điểm", threshold: "Ngưỡng", tagged: "đạt", untagged: "dưới ngưỡng",
      matches: "{n} khớp", droppedN: "{n} bị loại", showHl: "Tô màu",
      term: "Thuật ngữ", pattern: "Mẫu", weight: "Trọng số", text: "Trong văn bản", offsets: "Vị trí",
      folded: "khớp không dấu", reason: "Lý do", excluded: "do loại trừ", unsupported: "thuật ngữ yếu (hoặc từ viết tắt trong đoạn viết hoa) không có thuật ngữ mạnh hỗ trợ", needsUnmet: "không có từ ngữ cảnh mà thuật ngữ cần (needs) ở gần",
      exclusion: "Loại trừ", exclusionOf: "loại trừ {id}", counted: "tính điểm", dropped: "bị loại",
      theme: "Chủ đề", kind: "Loại", go: "Xem", noEvidence: "Không có bằng chứng.",
      mismatch: "Cảnh báo: {n} vị trí bằng chứng không khớp với văn bản gửi đi.",
      errTitle: "Lỗi", errTooLarge: "Văn bản quá dài: {bytes} byte, giới hạn của máy chủ là {limit} byte.",
      errTooLargeGeneric: "Văn bản quá dài cho máy chủ.",
      errInvalid: "Dữ liệu không hợp lệ", errAuth: "Cần xác thực: nhập token ở phần Tuỳ chọn rồi thử lại.",
      errForbidden: "Không có quyền.", errNetwork: "Không kết nối được tới máy chủ.",
      errTimeout: "Máy chủ không trả lời kịp (hết {s} giây).", errServer: "Lỗi máy chủ",
      errQuota: "Bạn đã vượt hạn mức của mình: thử lại sau {s} giây.", errOverloaded: "Máy chủ đang quá tải: thử lại sau {s} giây.",
      errThemes: "Không tải được danh sách chủ đề.", httpStatus: "HTTP {code}",
    },
    en: {
      skip: "Skip to results", playground: "playground", uiLanguage: "Language",
      textLabel: "Text", example: "Example", exampleNfd: "Example (NFD)", clear: "Clear",
      textHelp: "Paste an article and press “Tag” (Ctrl+Enter).",
      themesLegend: "Themes", all: "All", none: "None", loadingThemes: "Loading themes…",
      options: "Options", optUntagged: "Also show themes under their threshold", optEvidence: "Ask for evidence",
      docLanguage: "Label language", docId: "Document id", token: "Token (Bearer)",
      docTitle: "Title", titleHelp: "Optional: a term in the title counts by the ruleset's title_weight.",
      tokenHelp: "Only needed when the server requires authentication; kept in this browser tab only.",
      tag: "Tag", results: "Results", highlighted: "Text and evidence",
      legendHelp: "Hover or Tab to a highlight to see its term, pattern and weight. Struck through: dropped match.",
      evidenceTable: "Evidence list", footer: "Calls REST",
      bytes: "bytes", chars: "characters", limit: "limit", nfd: "NFD (decomposed marks)", nfc: "NFC",
      tagging: "Tagging…", taggedIn: "Done in {ms} ms", cancelled: "Cancelled",
      rulesetLine: "Ruleset {name} · {version} · {themes} themes, {terms} terms, {excl} exclusions · loaded {time}",
      resultMeta: "Document “{id}” · {words} words · ruleset {version}",
      rulesetChanged: "The ruleset changed since the page loaded ({old} → {new}); the theme list was reloaded.",
      noThemes: "No theme reached its threshold.", noThemesSelected: "Select at least one theme.",
      emptyText: "Enter a text first.",
      score: "Score", threshold: "Threshold", tagged: "tagged", untagged: "under threshold",
      matches: "{n} matches", droppedN: "{n} dropped", showHl: "Highlight",
      term: "Term", pattern: "Pattern", weight: "Weight", text: "In the text", offsets: "Offsets",
      folded: "matched without diacritics", reason: "Reason", excluded: "excluded by", unsupported: "weak term (or an acronym in capitals) without a strong term to support it", needsUnmet: "none of the words it needs (its setting) nearby",
      exclusion: "Exclusion", exclusionOf: "exclusion {id}", counted: "counted", dropped: "dropped",
      theme: "Theme", kind: "Kind", go: "Show", noEvidence: "No evidence.",
      mismatch: "Warning: {n} evidence offsets do not match the text sent.",
      errTitle: "Error", errTooLarge: "The text is too large: {bytes} bytes, the server's limit is {limit} bytes.",
      errTooLargeGeneric: "The text is too large for the server.",
      errInvalid: "Invalid input", errAuth: "Authentication required: enter a token under Options and try again.",
      errForbidden: "Permission denied.", errNetwork: "Cannot reach the server.",
      errTimeout: "The server did not answer in time ({s} s).", errServer: "Server error",
      errQuota: "You are over your quota: try again in {s} s.", errOverloaded: "The server is overloaded: try again in {s} s.",
      errThemes: "Could not load the themes.", httpStatus: "HTTP {code}",
    },
  };
  let lang = "vi";
  function t(key, args) {
    let s = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
    if (args) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in args ? String(args[k]) : m));
    return s;
  }

  // ---------------------------------------------------------------- samples
  const SAMPLE = [
    "Hà Nội – Bộ Y tế cho biết hơn 400 bệnh viện đã triển khai bệnh án điện tử và khám bệnh từ xa, " +
      "một bước quan trọng của chuyển đổi số y tế.",
    "Tập đoàn FPT công bố nhà máy chip đầu tiên tại Bắc Ninh; các kỹ sư dùng trí tuệ nhân tạo để kiểm tra tấm wafer. " +
      "Trong khi đó, thẻ căn cước gắn chip mới đã được cấp cho 70 triệu người.",
    "Sinh viên năm nhất đi học máy tính buổi tối. Nông dân Đồng Tháp dùng máy bay không người lái (drone) để phun thuốc, " +
      "góp phần giảm phát thải theo mục tiêu net zero năm 2050.",
  ].join("\n\n");

  // ---------------------------------------------------------------- helpers
  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }
  const fmtScore = (x) => (Math.round((x || 0) * 1000) / 1000).toFixed(3);
  const fmtWeight = (x) => String(Math.round((x || 0) * 1000) / 1000);
  const utf8 = new TextEncoder();

  // A hue per theme, by its position in the ruleset, stable across runs.
  const HUES = [210, 30, 140, 290, 0, 55, 180, 330, 95, 250, 15, 160];
  const themeIndex = new Map(); // theme id -> colour index
  function hueOf(id) {
    if (!themeIndex.has(id)) themeIndex.set(id, themeIndex.size);
    return HUES[themeIndex.get(id) % HUES.length];
  }

  // ---------------------------------------------------------------- state
  let themes = []; // from GET /v1/themes
  const knownThemes = new Set(); // theme ids already offered as checkboxes
  let rulesetVersion = "";
  let knownLimit = 0; // bytes, learned from a DOCUMENT_TOO_LARGE error
  let inflight = null; // AbortController of the running request
  let last = null; // {text, result}
  const hidden = new Set(); // theme ids whose highlights are switched off
  const TIMEOUT_S = 60;

  function token() {
    return $("opt-token").value.trim();
  }
  function headers(json) {
    const h = { Accept: "application/json" };
    if (json) h["Content-Type"] = "application/json";
    const tok = token();
    if (tok) h.Authorization = "Bearer " + tok;
    return h;
  }

  // ApiError carries an HTTP status, a google.rpc.Status body and the
  // Retry-After header (seconds; 0 without one).
  class ApiError extends Error {
    constructor(http, status, network, retryAfter) {
      super((status && status.message) || "HTTP " + http);
      this.http = http;
      this.status = status || {};
      this.network = network || "";
      this.retryAfter = retryAfter || 0;
    }
  }

  async function api(method, path, body, signal) {
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers: headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (e) {
      if (e && e.name === "AbortError") throw e;
      if (e && e.name === "TimeoutError") throw new ApiError(0, null, "timeout");
      throw new ApiError(0, null, "network");
    }
    const raw = await resp.text();
    let data = null;
    try {
      data = raw ? JSON.parse(raw) : null;
    } catch (e) {
      data = null;
    }
    if (!resp.ok) {
      const st = data && typeof data === "object" && "code" in data ? data : { message: raw.trim().slice(0, 500) };
      throw new ApiError(resp.status, st, "", Number(resp.headers.get("Retry-After")) || 0);
    }
    return data;
  }

  // ---------------------------------------------------------------- UI text
  function applyLang() {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    $("ui-lang").value = lang;
    updateCount();
    renderThemeList();
    if (last) renderResult(last.text, last.result, last.ms, last.shift);
  }

  function updateCount() {
    const s = $("text").value;
    const bytes = utf8.encode(s).length;
    let cps = 0;
    for (const _ of s) cps++;
    const parts = [`${bytes.toLocaleString(lang)} ${t("bytes")}`, `${cps.toLocaleString(lang)} ${t("chars")}`];
    if (s && s !== s.normalize("NFC")) parts.push(t("nfd"));
    if (knownLimit) parts[0] = `${bytes.toLocaleString(lang)} / ${knownLimit.toLocaleString(lang)} ${t("bytes")}`;
    const c = $("text-count");
    c.textContent = parts.join(" · ");
    c.classList.toggle("over", knownLimit > 0 && bytes > knownLimit);
  }

  // ---------------------------------------------------------------- themes
  async function loadThemes() {
    try {
      const [th, rs] = await Promise.all([
        api("GET", "/v1/themes", undefined, AbortSignal.timeout(15000)),
        api("GET", "/v1/ruleset", undefined, AbortSignal.timeout(15000)).catch(() => null),
      ]);
      const hadList = document.querySelector("#theme-list input") !== null;
      const checked = selectedThemes();
      themes = (th && th.themes) || [];
      for (const x of themes) hueOf(x.id);
      rulesetVersion = (th && th.rulesetVersion) || "";
      renderThemeList(hadList && checked.length < themes.length ? new Set(checked) : null);
      if (rs && rs.ruleset) {
        const r = rs.ruleset;
        const time = r.loadTime ? new Date(r.loadTime).toLocaleString(lang) : "?";
        $("ruleset").textContent = t("rulesetLine", {
          name: r.name || "?", version: r.version, themes: r.themeCount, terms: r.termCount, excl: r.exclusionCount, time,
        });
        $("ruleset").title = r.source || "";
      }
      return true;
    } catch (e) {
      $("theme-list").replaceChildren(el("span", { class: "muted", text: t("errThemes") }));
      showError(e);
      return false;
    }
  }

  function selectedThemes() {
    return [...document.querySelectorAll("#theme-list input[type=checkbox]")].filter((c) => c.checked).map((c) => c.value);
  }

  function renderThemeList(keep) {
    if (!themes.length) return;
    const prev = keep || (document.querySelector("#theme-list input") ? new Set(selectedThemes()) : null);
    // Themes new to a reloaded ruleset start checked.
    const list = $("theme-list");
    list.replaceChildren();
    for (const th of themes) {
      const id = "theme-" + th.id;
      const label = lang === "en" ? th.labelEn || th.labelVi : th.labelVi || th.labelEn;
      const box = el("input", { type: "checkbox", id, value: th.id, name: "themes" });
      box.checked = prev ? prev.has(th.id) || !knownThemes.has(th.id) : true;
      knownThemes.add(th.id);
      const sw = el("span", { class: "swatch", "aria-hidden": "true" });
      sw.style.setProperty("--h", hueOf(th.id));
      list.append(
        el("label", { class: "theme-choice", for: id, title: th.description || "" },
          box, sw, el("span", { class: "theme-name", text: label }), el("code", { class: "theme-id", text: th.id })),
      );
    }
  }

  // ---------------------------------------------------------------- errors
  function clearError() {
    const box = $("error");
    box.hidden = true;
    box.replaceChildren();
  }

  function detailsOf(st) {
    const out = { violations: [], info: null };
    for (const d of (st && st.details) || []) {
      const type = String(d["@type"] || "");
      if (type.endsWith("google.rpc.BadRequest")) out.violations.push(...(d.fieldViolations || []));
      else if (type.endsWith("google.rpc.ErrorInfo")) out.info = d;
    }
    return out;
  }

  function showError(e) {
    if (e && e.name === "AbortError") return;
    const box = $("error");
    let title = t("errTitle");
    let lead = "";
    const lines = [];
    if (!(e instanceof ApiError)) {
      lead = String((e && e.message) || e);
    } else if (e.network === "timeout") {
      lead = t("errTimeout", { s: TIMEOUT_S });
    } else if (e.network) {
      lead = t("errNetwork");
    } else {
      const st = e.status;
      const { violations, info } = detailsOf(st);
      const reason = info && info.reason;
      title = `${t("errTitle")} · ${t("httpStatus", { code: e.http })}`;
      if (reason === "DOCUMENT_TOO_LARGE" || e.http === 413) {
        const md = (info && info.metadata) || {};
        // Only DOCUMENT_TOO_LARGE's limit is the document's (the counter's):
        // REQUEST_TOO_LARGE and RESULT_TOO_LARGE name message limits.
        if (reason === "DOCUMENT_TOO_LARGE" && md.limit) {
          knownLimit = Number(md.limit) || knownLimit;
          updateCount();
          lead = t("errTooLarge", { bytes: Number(md.bytes).toLocaleString(lang), limit: Number(md.limit).toLocaleString(lang) });
        } else {
          lead = t("errTooLargeGeneric");
        }
      } else if (e.http === 401) {
        lead = t("errAuth");
        const opts = document.querySelector("details.options");
        opts.open = true;
        $("opt-token").focus();
      } else if (reason === "QUOTA_EXCEEDED" || reason === "OVERLOADED") {
        // 429 or 503 with Retry-After: the same text will do, later.
        lead = t(reason === "QUOTA_EXCEEDED" ? "errQuota" : "errOverloaded", { s: e.retryAfter || 1 });
      } else if (e.http === 403) {
        lead = t("errForbidden");
      } else if (e.http === 400) {
        lead = t("errInvalid");
      } else if (e.http >= 500) {
        lead = t("errServer");
      }
      if (st.message && st.message !== lead) lines.push(st.message);
      for (const v of violations) {
        if (v.description && v.description !== st.message) lines.push(`${v.field}: ${v.description}`);
      }
      if (reason) lines.push(`${reason}${st.code !== undefined ? " (gRPC code " + st.code + ")" : ""}`);
    }
    const parts = [
      el("strong", { class: "error-title", text: title }),
      el("p", { class: "error-lead", text: lead || (e && e.message) || "" }),
    ];
    if (lines.length) parts.push(el("ul", { class: "error-lines" }, ...lines.map((l) => el("li", { text: l }))));
    box.replaceChildren(...parts);
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  }

  // ---------------------------------------------------------------- tagging
  // finished counts requests that ended, answered or failed (for tests and scripts).
  function finished() {
    const form = $("tag-form");
    form.dataset.done = String(+(form.dataset.done || 0) + 1);
  }

  async function tag() {
    clearError();
    // A lone surrogate (broken paste) is not valid text: the server would
    // fail the document (INVALID_UTF8); send and show U+FFFD in its place.
    const raw = $("text").value;
    const text = raw.toWellFormed ? raw.toWellFormed() : raw;
    if (!text.trim()) {
      showError(new Error(t("emptyText")));
      $("text").focus();
      finished();
      return;
    }
    let chosen = selectedThemes();
    if (themes.length && chosen.length === 0) {
      showError(new Error(t("noThemesSelected")));
      const first = document.querySelector("#theme-list input");
      if (first) first.focus();
      finished();
      return;
    }
    if (chosen.length === themes.length) chosen = []; // all: let the server use the whole ruleset
    if (inflight) inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    const timer = setTimeout(() => ctl.abort(new DOMException("timeout", "TimeoutError")), TIMEOUT_S * 1000);
    const btn = $("tag");
    btn.disabled = true;
    $("status").textContent = t("tagging");
    $("tag-form").setAttribute("aria-busy", "true");
    // An optional title is sent apart and shown above the text; its
    // evidence (inTitle) has offsets into it, the text's are moved below.
    const title = $("opt-title").value.trim();
    const shown = title ? title + "\n\n" + text : text;
    const shift = title ? title.length + 2 : 0;
    const body = {
      document: { id: $("opt-id").value.trim() || "playground", text, languageCode: $("opt-lang").value, ...(title ? { title } : {}) },
      options: {
        themes: chosen,
        omitEvidence: !$("opt-evidence").checked,
        includeUntagged: $("opt-untagged").checked,
      },
    };
    const t0 = performance.now();
    try {
      const data = await api("POST", "/v1/documents:tag", body, ctl.signal);
      const ms = Math.round(performance.now() - t0);
      const result = (data && data.result) || {};
      $("status").textContent = t("taggedIn", { ms });
      last = { text: shown, result, ms, shift };
      renderResult(shown, result, ms, shift);
      if (rulesetVersion && result.rulesetVersion && result.rulesetVersion !== rulesetVersion) {
        const old = rulesetVersion;
        await loadThemes();
        $("result-meta").append(el("span", { class: "warn", text: " " + t("rulesetChanged", { old, new: result.rulesetVersion }) }));
      }
    } catch (e) {
      if (ctl.signal.aborted && ctl.signal.reason && ctl.signal.reason.name === "TimeoutError") {
        showError(new ApiError(0, null, "timeout"));
      } else if (!(e && e.name === "AbortError")) {
        showError(e);
      }
      $("results").classList.add("stale");
      $("status").textContent = "";
    } finally {
      clearTimeout(timer);
      if (inflight === ctl) {
        inflight = null;
        finished();
        btn.disabled = false;
        $("tag-form").removeAttribute("aria-busy");
      }
    }
  }

  // spansOf lists every highlight: counted evidence, dropped matches and the
  // exclusions that dropped them, at their UTF-16 offsets into text: the
  // server gives them (utf16Start), as JS strings index.
  function spansOf(text, result, shift = 0) {
    const spans = [];
    let mismatches = 0;
    const tags = [...(result.tags || []).map((x) => [x, true]), ...(result.untagged || []).map((x) => [x, false])];
    const seenExcl = new Set();
    for (const [tg, tagged] of tags) {
      const add = (kind, ev, extra) => {
        const base = ev.inTitle ? 0 : shift;
        const s = (ev.utf16Start || 0) + base, e = (ev.utf16End || 0) + base;
        const ok = s >= 0 && e >= s && text.slice(s, e) === ev.text;
        if (!ok) mismatches++;
        if (s < 0 || e <= s) return null;
        const sp = { id: spans.length, kind, theme: tg.theme, tag: tg, tagged, ev, s, e, ok, ...extra };
        spans.push(sp);
        return sp;
      };
      for (const ev of tg.evidence || []) add("counted", ev);
      for (const d of tg.dropped || []) {
        if (!d.evidence) continue;
        add("dropped", d.evidence, { drop: d });
        if (d.reason === "DROP_REASON_EXCLUDED" && d.exclusionText) {
          const key = `${tg.theme}|${d.exclusion}|${d.exclusionStart}|${d.exclusionEnd}`;
          if (seenExcl.has(key)) continue;
          seenExcl.add(key);
          const xb = d.exclusionInTitle ? 0 : shift;
          const s = (d.exclusionUtf16Start || 0) + xb, e = (d.exclusionUtf16End || 0) + xb;
          if (s >= 0 && e > s) {
            spans.push({ id: spans.length, kind: "exclusion", theme: tg.theme, tag: tg, tagged, drop: d, s, e,
              ok: text.slice(s, e) === d.exclusionText, ev: { text: d.exclusionText, start: d.exclusionStart, end: d.exclusionEnd } });
          }
        }
      }
    }
    return { spans, mismatches };
  }

  // ---------------------------------------------------------------- results
  function labelOf(tg) {
    return tg.label || (lang === "en" ? tg.labelEn : tg.labelVi) || tg.theme;
  }

  function renderResult(text, result, ms, shift = 0) {
    const sec = $("results");
    sec.hidden = false;
    sec.classList.remove("stale");
    $("result-meta").textContent = t("resultMeta", {
      id: result.documentId || "", words: result.words || 0, version: result.rulesetVersion || "?",
    });
    renderScores(result);
    renderDoc(text, result, shift);
  }

  function renderScores(result) {
    const ul = $("scores");
    ul.replaceChildren();
    const all = [...(result.tags || []).map((x) => [x, true]), ...(result.untagged || []).map((x) => [x, false])];
    if (!(result.tags || []).length) ul.append(el("li", { class: "none", text: t("noThemes") }));
    for (const [tg, tagged] of all) {
      const pct = Math.max(0, Math.min(100, (tg.score || 0) * 100));
      const thr = Math.max(0, Math.min(100, (tg.threshold || 0) * 100));
      const fill = el("span", { class: "fill" });
      fill.style.width = pct + "%";
      const mark = el("span", { class: "thr", title: `${t("threshold")} ${fmtScore(tg.threshold)}` });
      mark.style.left = thr + "%";
      const bar = el("span", {
        class: "bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": "1", "aria-valuenow": String(tg.score || 0),
        "aria-label": `${labelOf(tg)}: ${t("score")} ${fmtScore(tg.score)}, ${t("threshold")} ${fmtScore(tg.threshold)}`,
      }, fill, mark);
      const nEv = (tg.evidence || []).length, nDr = (tg.dropped || []).length;
      const toggle = el("input", { type: "checkbox", class: "hl-toggle", "aria-label": `${t("showHl")}: ${labelOf(tg)}` });
      toggle.checked = !hidden.has(tg.theme);
      toggle.addEventListener("change", () => {
        if (toggle.checked) hidden.delete(tg.theme);
        else hidden.add(tg.theme);
        if (last) renderDoc(last.text, last.result, last.shift);
      });
      const li = el("li", { class: "score " + (tagged ? "is-tagged" : "is-untagged"), "data-theme": tg.theme },
        el("span", { class: "score-head" },
          el("span", { class: "swatch", "aria-hidden": "true" }),
          el("span", { class: "theme-name", text: labelOf(tg) }),
          el("code", { class: "theme-id", text: tg.theme }),
          el("span", { class: "badge", text: tagged ? t("tagged") : t("untagged") })),
        bar,
        el("span", { class: "score-foot" },
          el("span", { class: "num", text: `${t("score")} ${fmtScore(tg.score)} / ${t("threshold")} ${fmtScore(tg.threshold)}` }),
          el("span", { class: "counts", text: t("matches", { n: nEv }) + (nDr ? " · " + t("droppedN", { n: nDr }) : "") }),
          el("label", { class: "check small" }, toggle, " " + t("showHl"))),
      );
      li.style.setProperty("--h", hueOf(tg.theme));
      ul.append(li);
    }
  }

  function renderDoc(text, result, shift = 0) {
    hideTip();
    const { spans, mismatches } = spansOf(text, result, shift);
    const visible = spans.filter((sp) => !hidden.has(sp.theme));
    // Cut the text at every span boundary; each piece knows which spans cover it.
    const cuts = new Set([0, text.length]);
    for (const sp of visible) {
      cuts.add(sp.s);
      cuts.add(sp.e);
    }
    const points = [...cuts].sort((a, b) => a - b);
    const doc = $("doc");
    const frag = document.createDocumentFragment();
    const firstSeg = new Map();
    // Sweep the cut points, keeping the spans open at each one.
    const byStart = [...visible].sort((x, y) => x.s - y.s);
    const active = new Set();
    let next = 0;
    for (let k = 0; k + 1 < points.length; k++) {
      const a = points[k], b = points[k + 1];
      for (const sp of active) if (sp.e <= a) active.delete(sp);
      while (next < byStart.length && byStart[next].s <= a) active.add(byStart[next++]);
      const piece = text.slice(a, b);
      const cover = [...active].sort((x, y) => x.id - y.id);
      if (!cover.length) {
        frag.append(document.createTextNode(piece));
        continue;
      }
      frag.append(segment(piece, cover, firstSeg));
    }
    doc.replaceChildren(frag);
    const meta = $("result-meta");
    for (const w of meta.querySelectorAll(".mismatch")) w.remove();
    if (mismatches) meta.append(el("span", { class: "warn mismatch", text: " " + t("mismatch", { n: mismatches }) }));
    renderEvidence(spans, firstSeg);
  }

  // segment renders one piece of text covered by one or more spans.
  function segment(piece, cover, firstSeg) {
    const counted = cover.filter((sp) => sp.kind === "counted");
    const dropped = cover.filter((sp) => sp.kind === "dropped");
    const excl = cover.filter((sp) => sp.kind === "exclusion");
    const themesHere = [...new Set((counted.length ? counted : dropped.length ? dropped : excl).map((sp) => sp.theme))];
    const cls = ["hl"];
    if (counted.length) cls.push("counted");
    else if (dropped.length) cls.push("dropped");
    else cls.push("exclusion");
    if (dropped.length) cls.push("struck");
    if (excl.length) cls.push("has-exclusion");
    if (themesHere.length > 1) cls.push("multi");
    if (cover.some((sp) => !sp.tagged)) cls.push("weak");
    const m = el(counted.length ? "mark" : "span", {
      class: cls.join(" "), tabindex: "0", "data-spans": cover.map((sp) => sp.id).join(" "),
      "data-themes": themesHere.join(" "), "aria-describedby": "tip",
    }, piece);
    m.style.setProperty("--h", hueOf(themesHere[0]));
    m.style.setProperty("--h2", hueOf(themesHere[1] || themesHere[0]));
    m.setAttribute("aria-label", `${piece} — ${cover.map(spanSummary).join("; ")}`);
    m._spans = cover;
    for (const sp of cover) if (!firstSeg.has(sp.id)) firstSeg.set(sp.id, m);
    return m;
  }

  function spanSummary(sp) {
    const lbl = labelOf(sp.tag);
    if (sp.kind === "exclusion") return `${lbl}: ${t("exclusionOf", { id: sp.drop.exclusion })}`;
    const base = `${lbl}: ${sp.ev.term}, ${t("weight")} ${fmtWeight(sp.ev.weight)}`;
    if (sp.kind === "dropped") return `${base}, ${t("dropped")} (${reasonText(sp.drop)})`;
    return base;
  }

  function reasonText(d) {
    if (!d) return "";
    if (d.reason === "DROP_REASON_EXCLUDED") return `${t("excluded")} ${d.exclusion}${d.exclusionText ? " “" + d.exclusionText + "”" : ""}`;
    if (d.reason === "DROP_REASON_UNSUPPORTED") return t("unsupported");
    if (d.reason === "DROP_REASON_NEEDS_UNMET") return t("needsUnmet");
    return d.reason || "";
  }

  // ---------------------------------------------------------------- tooltip
  let tipFor = null;
  function showTip(target) {
    const spans = target._spans;
    if (!spans) return;
    const tip = $("tip");
    tip.replaceChildren();
    for (const sp of spans) {
      const card = el("div", { class: "tip-card " + sp.kind });
      card.style.setProperty("--h", hueOf(sp.theme));
      card.append(el("div", { class: "tip-head" },
        el("span", { class: "swatch", "aria-hidden": "true" }),
        el("strong", { text: labelOf(sp.tag) }),
        el("span", { class: "badge", text: sp.kind === "counted" ? t("counted") : sp.kind === "dropped" ? t("dropped") : t("exclusion") })));
      const dl = el("dl");
      const row = (k, v) => dl.append(el("dt", { text: k }), el("dd", { text: v }));
      if (sp.kind === "exclusion") {
        row(t("exclusion"), sp.drop.exclusion || "");
        row(t("text"), sp.ev.text);
        row(t("offsets"), `bytes ${sp.ev.start}–${sp.ev.end}`);
      } else {
        row(t("term"), sp.ev.term || "");
        row(t("pattern"), (sp.ev.pattern || "") + (sp.ev.folded ? ` (${t("folded")})` : ""));
        row(t("text"), sp.ev.text || "");
        row(t("weight"), fmtWeight(sp.ev.weight));
        row(t("offsets"), `bytes ${sp.ev.start}–${sp.ev.end}, runes ${sp.ev.runeStart}–${sp.ev.runeEnd}`);
        if (sp.kind === "dropped") row(t("reason"), reasonText(sp.drop));
      }
      card.append(dl);
      tip.append(card);
    }
    tip.hidden = false;
    tipFor = target;
    // Place below the highlight, kept inside the viewport.
    const r = target.getBoundingClientRect();
    const sec = $("results").getBoundingClientRect();
    const w = Math.min(360, document.documentElement.clientWidth - 16);
    tip.style.width = w + "px";
    let left = r.left - sec.left;
    const maxLeft = document.documentElement.clientWidth - 8 - w - sec.left;
    left = Math.max(8 - sec.left, Math.min(left, maxLeft));
    tip.style.left = left + "px";
    tip.style.top = r.bottom - sec.top + 6 + "px";
  }
  function hideTip() {
    const tip = $("tip");
    tip.hidden = true;
    tipFor = null;
  }

  // ---------------------------------------------------------------- evidence table
  function renderEvidence(spans, firstSeg) {
    const box = $("evidence");
    box.replaceChildren();
    const listed = spans.filter((sp) => sp.kind !== "exclusion");
    if (!listed.length) {
      box.append(el("p", { class: "muted", text: t("noEvidence") }));
      return;
    }
    const table = el("table");
    table.append(el("thead", null, el("tr", null,
      ...[t("theme"), t("kind"), t("term"), t("pattern"), t("text"), t("weight"), t("offsets"), ""].map((h) => el("th", { scope: "col", text: h })))));
    const tb = el("tbody");
    for (const sp of listed.sort((a, b) => a.s - b.s || a.e - b.e)) {
      const go = el("button", { type: "button", class: "link", text: t("go"), "aria-label": `${t("go")}: ${sp.ev.text}` });
      go.addEventListener("click", () => {
        const seg = firstSeg.get(sp.id);
        if (seg) {
          seg.scrollIntoView({ block: "center", behavior: "smooth" });
          seg.focus({ preventScroll: true });
        }
      });
      const kind = sp.kind === "counted" ? t("counted") : `${t("dropped")} (${reasonText(sp.drop)})`;
      const tr = el("tr", {
        class: sp.kind, "data-span": sp.id, "data-theme": sp.theme, "data-kind": sp.kind, "data-term": sp.ev.term || "",
        "data-rune-start": sp.ev.runeStart, "data-rune-end": sp.ev.runeEnd,
      },
        el("td", { class: "c-theme", "data-label": t("theme") }, el("span", { class: "swatch", "aria-hidden": "true" }), " " + labelOf(sp.tag)),
        el("td", { class: "c-kind", "data-label": t("kind"), text: kind }),
        el("td", { class: "c-term", "data-label": t("term") }, el("code", { text: sp.ev.term || "" })),
        el("td", { class: "c-pattern", "data-label": t("pattern"), text: (sp.ev.pattern || "") + (sp.ev.folded ? " *" : "") }),
        el("td", { class: "ev-text", "data-label": t("text"), text: sp.ev.text || "" }),
        el("td", { class: "num c-weight", "data-label": t("weight"), text: fmtWeight(sp.ev.weight) }),
        el("td", { class: "num c-off", "data-label": t("offsets"), text: `${sp.ev.runeStart}–${sp.ev.runeEnd}` }),
        el("td", { class: "c-go" }, go));
      tr.style.setProperty("--h", hueOf(sp.theme));
      tb.append(tr);
    }
    table.append(tb);
    box.append(el("div", { class: "table-wrap" }, table));
  }

  // ---------------------------------------------------------------- wiring
  function init() {
    const saved = sessionStorage.getItem("doctagger.lang");
    lang = saved || ((navigator.language || "vi").toLowerCase().startsWith("vi") ? "vi" : "en");
    const tok = sessionStorage.getItem("doctagger.token");
    if (tok) $("opt-token").value = tok;
    $("ui-lang").addEventListener("change", (e) => {
      lang = e.target.value;
      sessionStorage.setItem("doctagger.lang", lang);
      $("opt-lang").value = lang;
      applyLang();
    });
    $("opt-lang").value = lang;
    $("opt-token").addEventListener("change", () => {
      const v = token();
      if (v) sessionStorage.setItem("doctagger.token", v);
      else sessionStorage.removeItem("doctagger.token");
      if (!themes.length) loadThemes();
    });
    $("text").addEventListener("input", updateCount);
    $("text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        tag();
      }
    });
    $("tag-form").addEventListener("submit", (e) => {
      e.preventDefault();
      tag();
    });
    $("example").addEventListener("click", () => setText(SAMPLE));
    $("example-nfd").addEventListener("click", () => setText(SAMPLE.normalize("NFD")));
    $("clear").addEventListener("click", () => setText(""));
    $("themes-all").addEventListener("click", () => setAll(true));
    $("themes-none").addEventListener("click", () => setAll(false));

    const doc = $("doc");
    const hlOf = (n) => (n && n.closest ? n.closest(".hl") : null);
    doc.addEventListener("mouseover", (e) => {
      const h = hlOf(e.target);
      if (h && h !== tipFor) showTip(h);
    });
    doc.addEventListener("mouseleave", () => {
      if (!doc.contains(document.activeElement)) hideTip();
    });
    doc.addEventListener("focusin", (e) => {
      const h = hlOf(e.target);
      if (h) showTip(h);
    });
    doc.addEventListener("focusout", (e) => {
      if (!doc.contains(e.relatedTarget)) hideTip();
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && tipFor) hideTip();
    });
    window.addEventListener("resize", () => {
      if (tipFor) showTip(tipFor);
    });

    applyLang();
    loadThemes();
  }

  function setText(s) {
    const ta = $("text");
    ta.value = s;
    updateCount();
    ta.focus();
  }
  function setAll(on) {
    for (const c of document.querySelectorAll("#theme-list input[type=checkbox]")) c.checked = on;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
