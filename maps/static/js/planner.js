// Planner page: a year's classification map and review list (disagreements and changes first), overrides
// with a reason, approval of the year, downloads.
"use strict";

diabanPages.planner = async function startPlanner(map, cfg) {
  await communesLayer(map);
  bachLongViButton(map, cfg);
  const layer = L.layerGroup().addTo(map);
  const select = document.getElementById("year");
  const table = document.getElementById("communes");
  const status = document.getElementById("run-status");
  const approve = document.getElementById("approve");
  const classLabel = (category, level) => category
    ? `${cfg.categoryLabels[category] || category}${level ? " loại " + level : ""}` : "—";
  const OVERRIDES = cfg.classChoices;  // [category, level] pairs, least to most serious

  // Every criterion of the legal rules with its value and threshold, met ones ticked.
  function criteriaList(criteria) {
    if (!criteria?.length) return "";
    const items = criteria.map((c) => `<li class="${c.met ? "met" : ""}">${c.met ? "✓" : "·"} ` +
      `${escapeHtml(cfg.levelLabels[c.level] || c.level)} (${escapeHtml(c.ref)}): ${escapeHtml(c.detail)}</li>`).join("");
    const met = criteria.filter((c) => c.met).length;
    return `<details><summary>Giá trị các tiêu chí (${VI_NUMBER.format(met)}/${VI_NUMBER.format(criteria.length)} đạt)</summary>` +
      `<ul class="criteria">${items}</ul></details>`;
  }

  function overrideCell(item, year, row) {
    const cell = document.createElement("td");
    cell.innerHTML = `<select aria-label="Loại mới">${OVERRIDES.map(([c, l]) =>
      `<option value="${c}|${l || ""}">${escapeHtml(classLabel(c, l))}</option>`).join("")}</select>
      <input placeholder="Lý do (bắt buộc)" aria-label="Lý do điều chỉnh"><button>Điều chỉnh</button>`;
    cell.querySelector("button").onclick = async () => {
      const [category, level] = cell.querySelector("select").value.split("|");
      try {
        await api(`/api/classifications/${year}/overrides`, { method: "POST", body: JSON.stringify({
          commune_code: item.commune_code, category, level: level || null, reason: cell.querySelector("input").value,
        }) });
        notify(`Đã điều chỉnh ${item.full_name || item.commune_code}: ${classLabel(category, level)}`);
        await load();
      } catch (error) { notify(error.message, true); }
    };
    row.appendChild(cell);
  }

  function reviewRow(item, feature, year, approved) {
    const row = document.createElement("tr");
    row.dataset.code = item.commune_code;
    if (item.disagreement || item.changed) row.className = "flag";
    const legal = item.method === "override" ? `<br><small>theo tiêu chí: ${escapeHtml(classLabel(item.legal_category, item.legal_level))}</small>` : "";
    const learned = item.learned_category ? escapeHtml(classLabel(item.learned_category)) : "—";
    const flags = (item.flags || []).map((f) => `<li>${escapeHtml(f.replace(/ \(.*\)$/, ""))}</li>`).join("");
    const override = item.override_reason ? `<p><b>Điều chỉnh:</b> ${escapeHtml(item.override_reason)} ` +
      `(${escapeHtml(item.override_by)}, ${viDate(item.override_at)})</p>` : "";
    // Unknown indicators are never zero: say so beside the class, with what is missing and the level it could reach.
    const missing = item.incomplete ? `<br><small class="missing-data"><b>${escapeHtml(item.data_status)}</b>: ` +
      `${escapeHtml((item.missing_criteria || []).join(", "))}` +
      (item.possible_level ? ` (có thể đạt loại ${escapeHtml(item.possible_level)})` : "") + "</small>" : "";
    row.innerHTML = `<td>${escapeHtml(item.full_name || item.name || item.commune_code)}</td>
      <td><b>${escapeHtml(classLabel(item.category, item.level))}</b>${legal}${missing}</td><td>${learned}</td>
      <td>${escapeHtml(classLabel(item.previous_category, item.previous_level))}</td>
      <td class="why">${flags ? `<ul class="flags">${flags}</ul>` : ""}${override}${escapeHtml(item.explanation)}
        ${criteriaList(feature?.properties.criteria)}</td>`;
    if (approved) row.appendChild(document.createElement("td"));
    else overrideCell(item, year, row);
    return row;
  }

  async function load() {
    const year = select.value;
    layer.clearLayers();
    table.replaceChildren();
    approve.disabled = true;
    if (!year) { status.textContent = "Chưa có kết quả phân loại năm nào"; return; }
    status.textContent = `Đang tải kết quả năm ${year}…`;
    for (const format of ["csv", "geojson", "xlsx"]) {
      document.getElementById(`download-${format}`).href = `/api/classifications/${year}/export?format=${format}`;
    }
    const [result, review] = await Promise.all([
      api(`/api/classifications/${year}?simplify_m=20`), api(`/api/classifications/${year}/review`),
    ]);
    L.geoJSON(result, {
      style: (f) => ({ color: "#1f2937", weight: 0.6, fillColor: cfg.categoryColours[f.properties.category], fillOpacity: 0.55 }),
      onEachFeature: (f, l) => l.bindTooltip(`${escapeHtml(f.properties.full_name)}: ${escapeHtml(classLabel(f.properties.category, f.properties.level))}`),
    }).addTo(layer);
    const approved = review.run.status === "approved";
    status.textContent = approved
      ? `Đã phê duyệt: phiên bản ${review.run.version}, người duyệt ${review.run.approved_by}, ngày ${viDate(review.run.approved_at)}`
      : `Bản dự thảo phiên bản ${review.run.version}: ${VI_NUMBER.format(review.n_disagreements)} xã kết quả theo tiêu chí ` +
        `khác mô hình, ${VI_NUMBER.format(review.n_changed)} xã thay đổi so với năm trước`;
    approve.disabled = approved;
    const features = Object.fromEntries(result.features.map((f) => [f.properties.code, f]));
    table.replaceChildren(...review.items.map((item) => reviewRow(item, features[item.commune_code], year, approved)));
  }

  async function reload() {
    try { await load(); } catch (error) { notify(error.message, true); }
    document.body.dataset.ready = "true";
  }

  approve.onclick = async () => {
    if (!window.confirm(`Phê duyệt kết quả phân loại năm ${select.value}? Sau khi phê duyệt, kết quả không thể sửa.`)) return;
    try {
      await api(`/api/classifications/${select.value}/approve`, { method: "POST" });
      notify(`Đã phê duyệt kết quả phân loại năm ${select.value}`);
      await load();
    } catch (error) { notify(error.message, true); }
  };
  select.addEventListener("change", reload);
  await reload();
};
