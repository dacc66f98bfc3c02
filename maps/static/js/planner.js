// Planner page: a year's classification map and review table (search, sort, table ↔ map selection), running the
// classification, overrides (a chosen class and a reason), approval by a second planner (four eyes) or discarding the
// draft, downloads (the classification, the KPI report in Excel), the comparison with the previous approved year and the
// history of the year's versions (discarded and replaced drafts too, with their overrides).
"use strict";

diabanPages.planner = async function startPlanner(map, cfg) {
  const { names, features: units } = await communesLayer(map);
  // The classes are painted on the shapes the communes layer has downloaded (the classification comes without them,
  // current_geometry=false: nation-wide the page downloaded the 3,321 units' shapes twice), the finer ones too once
  // zoomed in (common.js SHAPES); a unit no longer current, of a year classified on its period's units, comes with its
  // own.
  const unitByCode = Object.fromEntries(units.map((f) => [f.properties.code, f]));
  // A row's commune, with its province where several are loaded (common.js communeTitle).
  const nameOf = (item) => names[item.commune_code] || item.full_name || item.commune_code;
  searchControl(map);
  mapButtons(map, cfg);
  // The printed sheet names the version shown once its year is loaded: a draft's map passed for the approved result.
  cfg.printSubtitle = () => {
    const what = `Phân loại xã, phường, đặc khu năm ${select.value}`;
    if (!shown || String(shown.year) !== select.value) return what;
    return shown.status === "approved" ? `${what} — đã phê duyệt, phiên bản ${shown.version}`
      : `${what} — bản nháp phiên bản ${shown.version}, chưa phê duyệt`;
  };
  const layer = L.layerGroup().addTo(map);
  let onUnitShapes = new Set();  // the codes painted on the communes layer's shapes (not those with their own)
  map.on("communesrefined", (e) => reshape(layer, Object.fromEntries([...onUnitShapes].map((c) => [c, e.shapes[c]]))));
  const select = document.getElementById("year");
  const status = document.getElementById("run-status");
  const approve = document.getElementById("approve");
  const discard = document.getElementById("discard");
  const runForm = document.getElementById("run-form");
  // A planner of one province in a database of several runs and approves no year (a run classifies every unit; the
  // server refuses both): neither is offered, and the page says who does it.
  const noRun = "Chỉ cán bộ tham mưu cấp toàn quốc được chạy hoặc phê duyệt phân loại: kết quả gồm cả các đơn vị ngoài " +
    "tỉnh, thành phố của bạn. Bạn xem xét và điều chỉnh được các xã, phường của tỉnh mình.";
  if (!cfg.coversAll) {
    runForm.hidden = true;
    approve.hidden = true;
    const note = document.createElement("p");
    note.className = "note";
    note.id = "no-run";
    note.textContent = noRun;
    runForm.after(note);
  }
  // The same words as the map's legend and tooltips (maps/styles.py CLASS_LABELS).
  const classLabel = (category, level) => (category
    ? cfg.classLabels[`${category}|${level || ""}`] || cfg.categoryLabels[category] || category : "—");
  // Rank of a class, least to most serious (the order of the override choices); the model's "trọng điểm" has no level:
  // it ranks as the least serious level, above "có tệ nạn ma túy".
  const rank = (category, level) => {
    const exact = cfg.classChoices.findIndex(([c, l]) => c === category && (l || null) === (level || null));
    return exact >= 0 ? exact : cfg.classChoices.findIndex(([c]) => c === category);
  };
  const classKey = (category, level) => `${category}|${level || ""}`;
  let areas = {};  // commune code → its polygon on the map
  let year = null;

  // Every criterion of the legal rules, what it asks (its label; a run made before criteria kept theirs has none) and
  // the commune's figure against its threshold, met ones ticked: «Loại I (a): 0,718 % ≥ 0,5 %» did not say of what.
  // A yes/no criterion's figure names what it asks («nằm trên tuyến …: có»): said once, after the label — the line read
  // «(đ) Nằm trên tuyến …: nằm trên tuyến …: có».
  const figure = (c) => (c.label && c.detail.toLocaleLowerCase("vi").startsWith(`${c.label.toLocaleLowerCase("vi")}: `)
    ? c.detail.slice(c.label.length + 2) : c.detail);
  function criteriaList(criteria) {
    if (!criteria?.length) return "";
    const items = criteria.map((c) => `<li class="${c.met ? "met" : ""}">${c.met ? "✓" : "·"} ` +
      `${escapeHtml(cfg.levelLabels[c.level] || c.level)} (${escapeHtml(c.ref)})` +
      `${c.label ? ` <span class="asks">${escapeHtml(c.label)}</span>` : ""}: <b>${escapeHtml(figure(c))}</b></li>`).join("");
    const met = criteria.filter((c) => c.met).length;
    return `<details data-keep="criteria"><summary>Giá trị các tiêu chí (${VI_NUMBER.format(met)}/${VI_NUMBER.format(criteria.length)} đạt)</summary>` +
      `<ul class="criteria">${items}</ul></details>`;
  }

  // The override form starts with no class chosen (never the riskiest choice by default) and needs a reason. What is
  // chosen and typed and not yet sent stays when the card is drawn again (data-keep: the table sorted, filtered).
  // The commune's class now is listed but not offered: the server refuses an override that changes nothing. An
  // overridden commune's class is offered to correct its reason (the one replaced stays in the history).
  function overrideForm(item) {
    const form = document.createElement("form");
    form.className = "override";
    form.noValidate = true;  // our Vietnamese messages, not the browser's
    const now = classKey(item.category, item.level);
    const overridden = Boolean(item.override_reason);
    form.innerHTML = `<label>Điều chỉnh thành <select name="choice" required aria-label="Loại mới" data-keep="choice">
        <option value="" selected>— Chọn loại mới —</option>${cfg.classChoices.map(([c, l]) => classKey(c, l) === now
          ? `<option value="${c}|${l || ""}"${overridden ? "" : " disabled"}>${escapeHtml(classLabel(c, l))} ` +
            `(hiện tại${overridden ? " — sửa lý do" : ""})</option>`
          : `<option value="${c}|${l || ""}">${escapeHtml(classLabel(c, l))}</option>`).join("")}</select></label>
      <label>Lý do (bắt buộc) <input name="reason" required maxlength="2000" aria-label="Lý do điều chỉnh" data-keep="reason"></label>
      <button type="submit">Điều chỉnh</button>`;
    form.onsubmit = async (event) => {
      event.preventDefault();
      if (!form.choice.value) { notify("Hãy chọn loại mới cho xã", true); return; }
      if (!form.reason.value.trim()) { notify("Phải nêu lý do điều chỉnh", true); return; }
      const [category, level] = form.choice.value.split("|");
      try {
        await api(`/api/classifications/${year}/overrides`, { method: "POST", body: JSON.stringify({
          commune_code: item.commune_code, category, level: level || null, reason: form.reason.value.trim(),
        }) });
      } catch (error) { await refused(error, () => form.requestSubmit()); return; }
      form.reset();  // stored: nothing for the card drawn again to keep
      const place = item.full_name || item.commune_code;
      await refreshAfterSave(classKey(category, level || null) === now ? `Đã sửa lý do điều chỉnh của ${place}`
        : `Đã điều chỉnh ${place}: ${classLabel(category, level)}`,
        () => load(item.commune_code), TO_SEE);
    };
    return form;
  }

  // «mật khẩu người duyệt|điều chỉnh do quản trị viên … cấp ngày …» after ``lead``: the approver or an override's author
  // held a password an administrator had just given (gis/store/classifications.py password_given), "" when not — as
  // `diaban classify history` and `review` say it.
  function givenPassword(role, by, when, lead = "") {
    return by ? `${lead}<b>mật khẩu người ${role} do quản trị viên ${escapeHtml(by)} cấp ngày ${viDate(when)}</b>` : "";
  }

  let approved = false;
  let features = {};
  let seen = null;  // the draft as the page shows it: what an approval approves (the server refuses another)
  let shown = null;  // the run the page shows, with its number of overrides
  // Unknown indicators are never zero: say so beside the class, with what is missing and the level it could reach.
  function missingData(item) {
    if (!item.incomplete) return "";
    return `<br><small class="missing-data"><b>${escapeHtml(item.data_status)}</b>: ` +
      `${escapeHtml((item.missing_criteria || []).join(", "))}` +
      (item.possible_level ? ` (có thể đạt loại ${escapeHtml(item.possible_level)})` : "") + "</small>";
  }

  function detail(item) {
    const box = document.createElement("div");
    box.className = "card";
    box.dataset.code = item.commune_code;
    const flags = (item.flags || []).map((f) => `<li>${escapeHtml(f)}</li>`).join("");
    const override = item.override_reason ? `<p><b>Đã điều chỉnh:</b> ${escapeHtml(item.override_reason)} ` +
      `(${escapeHtml(item.override_by)}, ${viDateTime(item.override_at)}` +
      `${givenPassword("điều chỉnh", item.overrider_password_reset_by, item.overrider_password_reset_at, "; ")}); ` +
      `theo tiêu chí: ${escapeHtml(classLabel(item.legal_category, item.legal_level))}</p>` : "";
    box.innerHTML = `${flags ? `<ul class="flags">${flags}</ul>` : ""}${override}<p>${escapeHtml(item.explanation)}</p>` +
      criteriaList(features[item.commune_code]?.properties.criteria);
    if (!approved) box.appendChild(overrideForm(item));
    return box;
  }

  // The next-year forecast (models.forecast.learned.forecast_risk): the probability of drug activity next year, in whole
  // percents (below 1 % «< 1%», above 99 % «> 99%», as the exports: models.vocabulary.FORECAST_SHOWN_BOUNDS), and the
  // flag of a commune without activity this year likely to lose that status; a planning aid beside the legal class,
  // never bold like it. A commune without a forecast (no earlier year to learn from) says so: never 0 %.
  const PERCENT = new Intl.NumberFormat("vi-VN", { style: "percent", maximumFractionDigits: 0 });
  const [[lowest, belowLowest], [highest, aboveHighest]] = cfg.forecast.bounds;
  const forecastPercent = (p) => (p < lowest ? belowLowest : p > highest ? aboveHighest : PERCENT.format(p));
  const hasForecast = (item) => item.risk_next_year !== null && item.risk_next_year !== undefined;
  function forecastCell(item) {
    if (!hasForecast(item)) return `<span class="no-forecast">${escapeHtml(cfg.forecast.none)}</span>`;
    return escapeHtml(forecastPercent(item.risk_next_year)) +
      (item.leaving_drug_free ? `<br><small class="leaving">${escapeHtml(cfg.forecast.leaving)}</small>` : "");
  }

  const rows = sortableTable(document.getElementById("review-table"), {
    sort: "review", idOf: (item) => item.commune_code,
    // The classes most serious first, the forecast most likely first; without one last, either way.
    largestFirst: ["final", "model", "previous", "forecast"],
    keys: {
      review: (item) => item.order, name: nameOf,
      final: (item) => rank(item.category, item.level), model: (item) => item.learned_category ? rank(item.learned_category, null) : null,
      previous: (item) => item.previous_category ? rank(item.previous_category, item.previous_level) : null,
      forecast: (item) => (hasForecast(item) ? item.risk_next_year : null),
    },
    row: (item) => {
      const tr = document.createElement("tr");
      tr.dataset.code = item.commune_code;
      if (item.disagreement || item.changed) tr.classList.add("flag");
      const learned = item.learned_category ? escapeHtml(classLabel(item.learned_category)) : "—";
      tr.innerHTML = `<td>${escapeHtml(nameOf(item))}</td>
        <td><b>${escapeHtml(classLabel(item.category, item.level))}</b>${item.method === "override" ? " <em>(điều chỉnh)</em>" : ""}${missingData(item)}</td>
        <td>${learned}</td><td>${escapeHtml(classLabel(item.previous_category, item.previous_level))}</td>
        <td class="forecast">${forecastCell(item)}</td>
        <td>${item.disagreement ? "khác mô hình" : ""}${item.disagreement && item.changed ? "; " : ""}${item.changed ? "thay đổi" : ""}</td>`;
      return tr;
    },
    detail,
    onOpen: (item, open) => highlight(open ? item.commune_code : null, true),
    counted: (shown, all) => {
      document.getElementById("table-count").textContent = `${VI_NUMBER.format(shown)} / ${VI_NUMBER.format(all)} xã, phường, đặc khu`;
    },
  });

  // Table ↔ map: the open row's commune outlined on the map; a click on the map opens its row.
  let current = null;
  function highlight(code, fly) {
    if (current && areas[current]) areas[current].setStyle({ weight: 0.6, color: "#1f2937" });
    current = code;
    if (!code || !areas[code]) return;
    areas[code].setStyle({ weight: 4, color: "#1d4ed8" }).bringToFront();
    if (fly) map.fitBounds(areas[code].getBounds(), { maxZoom: 12, padding: [40, 40] });
  }

  const search = document.getElementById("commune-filter");
  const onlyFlagged = document.getElementById("only-flagged");
  const onlyChanged = document.getElementById("only-changed");
  const onlyLeaving = document.getElementById("only-leaving");
  // A commune by its code, or by its name as the map's search reads it (common.js nameHolds: «hai duong», «nam trieu»).
  function applyFilter() {
    const typed = search.value.trim();
    const text = withoutKind(typed);
    rows.filter((item) => (!text || item.commune_code.includes(typed) || nameHolds({ full_name: nameOf(item) }, text))
      && (!onlyFlagged.checked || item.disagreement || item.changed) && (!onlyChanged.checked || item.changed)
      && (!onlyLeaving.checked || item.leaving_drug_free));
  }
  for (const input of [search, onlyFlagged, onlyChanged, onlyLeaving]) input.addEventListener("input", applyFilter);

  // The forecast's line above the table: how many communes it flags for next year, how many are likely to have drug
  // activity, how many have no forecast (said, not counted as unlikely).
  function forecastSummary(items) {
    const known = items.filter(hasForecast);
    const likely = known.filter((i) => i.risk_next_year >= cfg.forecast.threshold).length;
    const leaving = known.filter((i) => i.leaving_drug_free).length;
    const none = items.length - known.length;
    document.getElementById("forecast-summary").textContent = !known.length
      ? `${cfg.forecast.none} (chưa có số liệu năm trước)`
      : `năm ${Number(year) + 1}: ${VI_NUMBER.format(leaving)} xã ${cfg.forecast.leaving}; ` +
        `${VI_NUMBER.format(likely)} xã có xác suất có hoạt động ma túy từ ${PERCENT.format(cfg.forecast.threshold)} trở lên` +
        (none ? `; ${VI_NUMBER.format(none)} xã ${cfg.forecast.none}` : "");
  }

  // The year against the previous approved one: communes per class, and how many got more or less serious.
  // Like with like: with a previous year, the table counts only the communes classified in both years (a commune new
  // since, or a year on other units, was counted this year and not the year before: a rise that was none).
  function compare(items) {
    const before = {}, after = {}, all = {};
    let worse = 0, better = 0, unknown = 0;
    for (const item of items) {
      all[classKey(item.category, item.level)] = (all[classKey(item.category, item.level)] || 0) + 1;
      if (!item.previous_category) { unknown += 1; continue; }
      after[classKey(item.category, item.level)] = (after[classKey(item.category, item.level)] || 0) + 1;
      before[classKey(item.previous_category, item.previous_level)] = (before[classKey(item.previous_category, item.previous_level)] || 0) + 1;
      const change = rank(item.category, item.level) - rank(item.previous_category, item.previous_level);
      if (change > 0) worse += 1; else if (change < 0) better += 1;
    }
    const nothingBefore = unknown === items.length;
    document.getElementById("diff-table").innerHTML = [...cfg.classChoices].reverse().map(([c, l]) => {
      const was = before[classKey(c, l)] || 0, now = (nothingBefore ? all : after)[classKey(c, l)] || 0;
      const delta = now - was;
      // Red for a worsening against a previous year: more communes in a class with drug problems, fewer drug-free ones
      // (that fall was left plain beside a red rise of the other classes); with no previous year, "—" is none.
      const worse = !nothingBefore && (c === "drug_free" ? delta < 0 : delta > 0);
      return `<tr><td><i class="swatch ${cfg.swatchClasses.class[classKey(c, l)]}"></i> ${escapeHtml(classLabel(c, l))}</td>` +
        `<td>${nothingBefore ? "—" : VI_NUMBER.format(was)}</td><td>${VI_NUMBER.format(now)}</td>` +
        `<td class="${worse ? "late" : ""}">${nothingBefore ? "—" : (delta > 0 ? "+" : "") + VI_NUMBER.format(delta)}</td></tr>`;
    }).join("");
    document.getElementById("diff-summary").textContent = nothingBefore
      ? `Năm ${Number(year) - 1} chưa có kết quả phân loại đã phê duyệt để so sánh.`
      : `So với năm ${Number(year) - 1}: ${VI_NUMBER.format(worse)} xã nặng hơn, ${VI_NUMBER.format(better)} xã nhẹ hơn` +
        (unknown ? `; ${VI_NUMBER.format(unknown)} xã chưa có kết quả năm trước, không tính trong bảng` : "") + ".";
  }

  // Four eyes: who may not approve the draft (the server refuses them too) — who ran it, whose override stands in it;
  // a second planner approves.
  function barredFromApproval(run, items) {
    return [...new Set([run.created_by, ...items.filter((i) => i.override_at).map((i) => i.override_by)])]
      .sort((a, b) => a.localeCompare(b, "vi"));
  }

  // nChanged: the review's count of communes changed since the previous approved year, null when there is no such
  // year to compare with (never read as 0 changes). The run names its newest override, a draft's too (of every
  // commune, not only those the page lists: gis/store/classifications.py find_run); the approval sends it back as the
  // draft read.
  function describe(run, items, nChanged) {
    // The newest override's author held a password an administrator had just given: said here too (the line is text).
    const lastGiven = run.last_overrider_password_reset_by ? ` (mật khẩu người điều chỉnh do quản trị viên ` +
      `${run.last_overrider_password_reset_by} cấp ngày ${viDate(run.last_overrider_password_reset_at)})` : "";
    const last = run.last_override_by ? `; điều chỉnh lần cuối: ${run.last_override_by}, ${viDateTime(run.last_override_at)}${lastGiven}` : "";
    if (run.status === "approved") {
      const override = last || "; không có điều chỉnh";
      // Who ran it beside who approved it: the two pairs of eyes (four eyes) are read from the year's line.
      return `${cfg.runStatusLabels.approved} phiên bản ${run.version}: người chạy ${run.created_by}, ` +
        `${viDateTime(run.created_at)}; người duyệt ${run.approved_by}, ${viDateTime(run.approved_at)}${override}`;
    }
    const barred = cfg.fourEyes ? `; nguyên tắc bốn mắt: người chạy${last ? " và người đã điều chỉnh" : ""} — ` +
      `${barredFromApproval(run, items).join(", ")} — không được tự phê duyệt, cần một cán bộ tham mưu khác` : "";
    const correction = run.supersedes_id ? ", hiệu chỉnh kết quả đã phê duyệt" : "";
    // The year's indicators loaded again after the run: its classes rest on figures the database no longer holds.
    const r = run.indicators_reloaded;
    const reloaded = r ? `; chỉ số năm ${run.year} đã được nhập lại sau khi chạy (tệp «${r.file_name}», ${r.imported_by}, ` +
      `${viDateTime(r.started_at)}): cần chạy lại phân loại trước khi phê duyệt` : "";
    return `${cfg.runStatusLabels.draft} phiên bản ${run.version} (chạy bởi ${run.created_by}, ${viDateTime(run.created_at)}${correction}): ` +
      `${VI_NUMBER.format(items.filter((i) => i.disagreement).length)} xã theo tiêu chí khác mô hình, ` +
      `${nChanged === null ? cfg.noPreviousYear : `${VI_NUMBER.format(nChanged)} xã thay đổi so với năm trước`}` +
      `${last}${reloaded}${barred}`;
  }

  // The history of the year's versions, read when its section is open (and again with the year it shows): each version
  // with its state, who ran, approved, discarded or replaced it and when, and each of its overrides.
  const history = document.getElementById("history");
  const historyList = document.getElementById("history-list");
  const versionLabels = { ...cfg.runStatusLabels, ...cfg.draftEndLabels };
  const at = (who, when) => `${escapeHtml(who ?? cfg.unknownPerson)}, ${viDateTime(when)}`;
  // Which approved version applies (`in_force_until`, as `classify history` says it): two «Đã phê duyệt» read alike.
  const inForceWords = (v) => (v.status !== "approved" ? "" : !v.in_force_until ? ", đang áp dụng"
    : `, đã được thay bằng phiên bản ${v.in_force_until}`);
  function versionItem(v) {
    const done = [`chạy bởi ${at(v.created_by, v.created_at)}`];
    if (v.approved_by) done.push(`phê duyệt bởi ${at(v.approved_by, v.approved_at)}`);
    // A password an administrator recently gave the approver, by a reset or with a new account (gis/store/classifications.py
    // approver_reset): whoever held the one-time password could have approved as them.
    if (v.approver_password_reset_by) done.push(givenPassword("duyệt", v.approver_password_reset_by, v.approver_password_reset_at));
    if (v.ended_by) done.push(`${cfg.draftEndedBy[v.status]} ${at(v.ended_by, v.ended_at)}`);
    const change = (o) => `${escapeHtml(o.name || o.commune_code)}: ` +
      `${escapeHtml(classLabel(o.from_category, o.from_level))} → ${escapeHtml(classLabel(o.to_category, o.to_level))}` +
      ` — lý do: ${escapeHtml(o.reason)} (${at(o.by, o.at)}` +
      `${givenPassword("điều chỉnh", o.overrider_password_reset_by, o.overrider_password_reset_at, "; ")})`;
    // An override a later one of the same commune replaced stays readable, greyed, with who replaced it.
    const replaced = (o) => (o.replaced_by === null ? `${cfg.overrideUndone} (${cfg.unknownPerson}), ${viDateTime(o.replaced_at)}`
      : `đã bị thay bằng điều chỉnh sau của ${at(o.replaced_by, o.replaced_at)}`);
    const overrides = v.overrides.map((o) => `<li>${change(o)}</li>`).join("") +
      v.replaced_overrides.map((o) => `<li class="replaced">${change(o)} — <i>${replaced(o)}</i></li>`).join("");
    // Worded as `diaban classify history` prints it: the version, its run (a replaced draft and the one replacing it
    // share a version number), whether it corrects an approved one, its state.
    return `<li data-status="${escapeHtml(v.status)}"><b>Phiên bản ${v.version}</b> (lần chạy #${v.run_id}` +
      `${v.supersedes_id ? ", hiệu chỉnh kết quả đã phê duyệt" : ""}) — <b>${escapeHtml(versionLabels[v.status])}` +
      `${inForceWords(v)}</b>: ` +
      `${done.join("; ")}; ` +
      `${VI_NUMBER.format(v.n_overrides)} điều chỉnh${overrides ? `<ul>${overrides}</ul>` : ""}</li>`;
  }
  async function showHistory() {
    if (!history.open || !year) return;
    const asked = year;
    historyList.innerHTML = '<li class="none">Đang tải…</li>';
    const versions = await api(`/api/classifications/${asked}/history`);
    if (asked !== year) return;  // another year chosen meanwhile: its own answer is drawn
    historyList.innerHTML = versions.length ? versions.map(versionItem).join("")
      : '<li class="none">Năm chưa có phiên bản phân loại nào.</li>';
  }
  const refreshHistory = () => showHistory().catch((error) => failed(error, refreshHistory));
  history.addEventListener("toggle", refreshHistory);

  // A year whose run holds none of the reader's province's units (the server's 404, its sentence): said once, on the
  // status line under the year — not a table of «0 / 0 xã» beside an empty comparison, nor the sentence again in place
  // of each (three times on one screen). The comparison, the filters and the table are hidden. The map shows the
  // province's own units, unclassified (the page opens on them: maps/assets.py map_view); when the system holds none
  // of them the line says why the map is empty (it opens on the whole country, 200 km across its scale bar).
  const reviewPart = document.getElementById("review-part");
  const diff = document.getElementById("diff");
  function uncovered(message) {
    status.textContent = `${asSentence(message)}. ${units.length
      ? "Bản đồ chỉ vẽ ranh giới các xã, phường của tỉnh, chưa tô màu phân loại."
      : "Hệ thống chưa có ranh giới xã, phường nào của tỉnh: bản đồ không có gì để vẽ."}`;
    rows.set([]);
    for (const link of document.querySelectorAll(".downloads a")) link.removeAttribute("href");  // no file of it either
    reviewPart.hidden = true;
    diff.hidden = true;
    document.getElementById("diff-table").replaceChildren();
  }

  // Only the year chosen last is drawn: picked quickly one after another, an earlier year's answer coming last was
  // drawn under the later one's title.
  const newestYear = newestOnly();
  async function load(keepOpen = null) {
    year = select.value;
    historyList.replaceChildren();
    layer.clearLayers();
    areas = {};
    approve.disabled = true;
    discard.hidden = true;
    if (!year) { status.textContent = "Chưa có kết quả phân loại năm nào: hãy chạy phân loại."; rows.set([]); return; }
    runForm.year.value = year;
    status.textContent = `Đang tải kết quả năm ${year}…`;
    // The year's draft before its approved run: a correction run after the approval is what the planner reviews,
    // overrides and approves (without draft=true the page showed the approved run, the correction out of reach).
    // A provincial planner's year whose run holds none of the province's units (made before they were loaded) is
    // refused (404): the page says so where the run is described, not a run approved with every class 0.
    let answers;
    try {
      answers = await newestYear(() => Promise.all([
        api(`/api/classifications/${year}?simplify_m=20&draft=true&current_geometry=false`),
        api(`/api/classifications/${year}/review?draft=true`),
      ]));
    } catch (error) {
      if (error.status !== 404) throw error;
      uncovered(error.message);
      return;
    }
    if (answers === STALE) return;
    reviewPart.hidden = false;
    diff.hidden = false;
    const [result, review] = answers;
    // The files hold the run the page shows (its version), not the approved one while a correction is shown.
    for (const format of ["csv", "geojson", "xlsx"]) {
      document.getElementById(`download-${format}`).href =
        `/api/classifications/${year}/export?format=${format}&version=${review.run.version}`;
    }
    document.getElementById("download-kpi").href = `/api/reports/kpi.xlsx?year=${year}&version=${review.run.version}`;
    features = Object.fromEntries(result.features.map((f) => [f.properties.code, f]));
    onUnitShapes = new Set(result.features.filter((f) => !f.geometry).map((f) => f.properties.code));
    const drawn = result.features.map((f) => ({ ...f, geometry: f.geometry || unitByCode[f.properties.code]?.geometry }));
    L.geoJSON({ type: "FeatureCollection", features: drawn.filter((f) => f.geometry) }, {
      ...inPane("classes"),
      style: (f) => ({ color: "#1f2937", weight: 0.6, fillColor: cfg.classColours[classKey(f.properties.category, f.properties.level)],
        fillOpacity: 0.7 }),
      onEachFeature: (f, l) => {
        areas[f.properties.code] = l;
        l.bindTooltip(`${escapeHtml(f.properties.full_name)}: ${escapeHtml(classLabel(f.properties.category, f.properties.level))}`);
        l.on("click", () => {
          rows.open(f.properties.code);
          highlight(f.properties.code, false);
          document.querySelector(`#review-table tr[data-code="${f.properties.code}"]`)?.scrollIntoView({ block: "center" });
        });
      },
    }).addTo(layer);
    approved = review.run.status === "approved";
    // Four eyes: the planner who ran the draft, or whose override stands in it, may not approve it (the server refuses
    // too); say why on the button.
    const items = review.items.map((item, order) => ({ ...item, order }));
    seen = { run_id: review.run.id, last_override_at: review.run.last_override_at || null };
    const ran = review.run.created_by === cfg.username;
    const overrode = items.some((i) => i.override_at && i.override_by === cfg.username);
    const selfApproval = !approved && cfg.fourEyes && (ran || overrode);
    const stale = !approved && Boolean(review.run.indicators_reloaded);
    approve.disabled = approved || selfApproval || stale || !cfg.coversAll;
    shown = { ...review.run, overrides: items.filter((i) => i.override_at).length, items };
    discard.hidden = approved || !cfg.coversAll;
    const yours = [ran && "đã chạy phân loại tạo bản nháp này", overrode && "đã điều chỉnh kết quả trong bản nháp"];
    approve.title = selfApproval ? `Bạn ${yours.filter(Boolean).join(" và ")}: cần một cán bộ tham mưu khác phê duyệt`
      : stale ? `Chỉ số năm ${year} đã được nhập lại sau khi chạy: cần chạy lại phân loại trước khi phê duyệt` : "";
    status.textContent = describe(review.run, items, review.n_changed);
    compare(items);
    forecastSummary(items);
    applyFilter();  // before the items: the table is drawn once with them (nation-wide 3,321 rows, drawn twice before)
    rows.set(items);
    if (keepOpen) { rows.open(keepOpen); highlight(keepOpen, false); }
    refreshHistory();
  }

  // A change refused because another planner approved the year, ran it again or overrode a commune since the page
  // showed it: the year as it is now (its forms and approval as they now apply), then why the change was refused.
  async function refused(error, retry) {
    if (["draft_changed", "run_approved"].includes(error.code)) await load().catch(() => {});
    failed(error, retry);
  }

  async function reload() {
    try { await load(); } catch (error) { failed(error, reload); }
    document.body.dataset.ready = "true";
  }
  // How to see what was saved when the year could not be loaded again after it (refreshAfterSave).
  const TO_SEE = "chọn lại năm hoặc tải lại trang để xem";

  // The question says what is approved: the version, its classes counted, and each override with its reason and who
  // made it (the first eight, then how many more). It named the year alone, and a second planner approved a
  // correction's overrides unseen.
  function approvalQuestion(run) {
    const counts = new Map();
    for (const item of run.items) counts.set(classKey(item.category, item.level), (counts.get(classKey(item.category, item.level)) || 0) + 1);
    const classes = [...cfg.classChoices].filter(([c, l]) => counts.get(classKey(c, l)))
      .map(([c, l]) => `${classLabel(c, l)}: ${VI_NUMBER.format(counts.get(classKey(c, l)))}`).join("; ");
    const overridden = run.items.filter((i) => i.override_at);
    const listed = overridden.slice(0, 8).map((i) => `• ${nameOf(i)}: ${classLabel(i.category, i.level)} (${i.override_by}` +
      ` — «${i.override_reason.length > 120 ? `${i.override_reason.slice(0, 119)}…` : i.override_reason}»)`);
    if (overridden.length > 8) listed.push(`• và ${VI_NUMBER.format(overridden.length - 8)} xã khác (xem bảng)`);
    return `Phê duyệt kết quả phân loại năm ${year}, phiên bản ${run.version}${run.supersedes_id ? " (bản hiệu chỉnh)" : ""}?\n` +
      `${classes}.\n` + (overridden.length ? `${VI_NUMBER.format(overridden.length)} xã điều chỉnh thủ công:\n${listed.join("\n")}\n`
      : "Không có xã nào điều chỉnh thủ công.\n") +
      "Sau khi phê duyệt, muốn sửa phải chạy một lần hiệu chỉnh và phê duyệt lại.";
  }

  approve.onclick = async () => {
    if (!(await ask(approvalQuestion(shown), "Phê duyệt"))) return;
    try { await api(`/api/classifications/${year}/approve`, { method: "POST", body: JSON.stringify(seen) }); } catch (error) {
      await refused(error, () => approve.click());
      return;
    }
    await refreshAfterSave(`Đã phê duyệt kết quả phân loại năm ${year}`, () => load(), TO_SEE);
  };

  // A draft run by mistake (a correction the approved result does not need) is discarded with its overrides; the year
  // shows its approved version again, or leaves the list when it had none.
  discard.onclick = async () => {
    const run = shown;
    const lost = run.overrides ? `, cùng ${VI_NUMBER.format(run.overrides)} điều chỉnh trong đó` : "";
    const after = run.supersedes_id ? "Kết quả của năm trở lại bản đã phê duyệt." : "Năm sẽ chưa có kết quả phân loại nào.";
    if (!(await ask(`Bỏ bản nháp phiên bản ${run.version} năm ${year}${lost}? ${after}`, "Bỏ bản nháp"))) return;
    try { await api(`/api/classifications/${year}/discard`, { method: "POST", body: JSON.stringify(seen) }); } catch (error) {
      await refused(error, () => discard.click());
      return;
    }
    if (!run.supersedes_id) {
      select.querySelector(`option[value="${run.year}"]`)?.remove();
      select.value = select.options[0]?.value || "";
    }
    await refreshAfterSave(`Đã bỏ bản nháp phiên bản ${run.version} năm ${run.year}`, () => load(), TO_SEE);
  };

  // Run (or re-run) a year: a new draft; an existing draft is replaced only when the planner confirms; after approval
  // the run is a correction that supersedes the approved version.
  runForm.onsubmit = async (event) => {
    event.preventDefault();
    const wanted = runForm.year.value;
    const button = runForm.querySelector("button");
    button.disabled = true;
    notify(`Đang chạy phân loại năm ${wanted}…`);
    const run = (replace) => api(`/api/classifications/${wanted}/runs`, { method: "POST", body: JSON.stringify({ replace }) });
    try {
      let created;
      try { created = await run(false); } catch (error) {
        if (error.code !== "draft_exists") throw error;
        if (!(await ask(`${asSentence(error.message)}\n\nThay bản nháp hiện có bằng kết quả chạy lại?`, "Thay bản nháp",
          "Giữ bản nháp hiện có"))) { notify("Đã giữ bản nháp hiện có"); return; }
        created = await run(true);
      }
      if (![...select.options].some((o) => o.value === wanted)) {
        select.add(new Option(wanted, wanted), [...select.options].find((o) => Number(o.value) < Number(wanted)) || null);
      }
      select.value = wanted;
      // A correction keeps the approved version's overrides (gis.store.classifications._carry_overrides): said, with
      // how to undo one, or the planner took the draft for the criteria's result alone.
      const carried = created.carried?.length ? `; giữ ${VI_NUMBER.format(created.carried.length)} điều chỉnh của bản ` +
        "đã duyệt (nay do bạn điều chỉnh; điều chỉnh lại xã nào không còn cần)" : "";
      await refreshAfterSave(`Năm ${wanted}: ${created.supersedes_id ? "bản hiệu chỉnh" : "bản nháp"} phiên bản ` +
        `${created.version} đã tạo${carried}`, () => load(), TO_SEE);
    } catch (error) { failed(error, () => runForm.requestSubmit()); } finally { button.disabled = false; }
  };

  select.addEventListener("change", reload);
  importForm("indicator-import", "/api/imports/indicators", () => load(current));
  await reload();
};
