// diaban pages: dynamic map layers and panels over the JSON API (same-origin, session cookie + CSRF header).
"use strict";

const VI_NUMBER = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
const STATUS_COLOURS = {
  detected: "#f59e0b", verified: "#f97316", dismissed: "#9ca3af", assigned: "#ef4444", suppressing: "#b91c1c",
  eradicated: "#22c55e", monitoring: "#0ea5e9", closed: "#6b7280", recurred: "#7c3aed",
};
const STATUS_LABELS = {
  detected: "Phát hiện", verified: "Đã xác minh", dismissed: "Loại bỏ", assigned: "Đã giao xử lý",
  suppressing: "Đang đấu tranh", eradicated: "Đã triệt xóa", monitoring: "Đang giữ sạch, theo dõi",
  closed: "Đã loại khỏi danh sách", recurred: "Phức tạp trở lại",
};
const KIND_LABELS = {
  spot: "Điểm", den: "Tụ điểm", organizing_place: "Điểm tổ chức, chứa chấp sử dụng",
};
const CATEGORY_COLOURS = { trong_diem: "#b91c1c", at_risk: "#f59e0b", drug_free: "#16a34a" };
const CATEGORY_LABELS = { trong_diem: "Trọng điểm", at_risk: "Có tệ nạn ma túy", drug_free: "Không ma túy" };
const BIN_COLOURS = { 3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", "-1": "#d1e5f0", "-2": "#67a9cf", "-3": "#2166ac" };

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )diaban_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(path, options = {}) {
  const headers = { "X-CSRF-Token": csrfToken(), ...(options.body ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (response.status === 401) { window.location.href = "/login"; throw new Error("401"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) { throw new Error(body?.detail ? String(body.detail) : `Lỗi ${response.status}`); }
  return body;
}

function viDate(value) {
  if (!value) return "—";
  const d = new Date(value);
  return `${String(d.getDate()).padStart(2, "0")}/${String(d.getMonth() + 1).padStart(2, "0")}/${d.getFullYear()}`;
}

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function notify(message, isError = false) {
  const box = document.getElementById("message");
  box.textContent = message;
  box.className = isError ? "message error" : "message";
}

function isoDay(date) { return date.toISOString().slice(0, 10); }

// A dd/mm/yyyy field as an ISO day (empty when blank or malformed).
function isoFromVi(text) {
  const match = String(text || "").trim().match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/);
  return match ? `${match[3]}-${match[2].padStart(2, "0")}-${match[1].padStart(2, "0")}` : "";
}

async function communesLayer(map, style) {
  const communes = await api("/api/communes?simplify_m=20");
  return L.geoJSON(communes, { style: style || { color: "#475569", weight: 1, fill: false } }).addTo(map);
}

function bachLongViButton(map) {
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const button = L.DomUtil.create("button", "map-button");
    button.textContent = "Bạch Long Vĩ";
    button.title = "Xem đặc khu Bạch Long Vĩ (cách đất liền ~130 km)";
    L.DomEvent.on(button, "click", (e) => { L.DomEvent.stop(e); map.setView(window.diaban.bachLongVi, 13); });
    return button;
  };
  control.addTo(map);
}

// ---------------------------------------------------------------- command page
async function startCommand(map) {
  const layers = {
    heat: L.layerGroup().addTo(map), hotspots: L.layerGroup().addTo(map), classes: L.layerGroup(),
    gistar: L.layerGroup(), emerging: L.layerGroup(),
  };
  L.control.layers(null, {
    "Mật độ vụ việc (heat)": layers.heat, "Điểm nóng": layers.hotspots,
    "Phân loại xã (năm đã duyệt gần nhất)": layers.classes, "Ô nóng Gi*": layers.gistar,
    "Xu hướng điểm nóng (emerging)": layers.emerging,
  }, { collapsed: false }).addTo(map);
  await communesLayer(map);
  bachLongViButton(map);

  const form = document.getElementById("filters");
  const slider = document.getElementById("month");
  const months = [];
  const now = new Date();
  for (let i = 23; i >= 0; i -= 1) months.push(new Date(now.getFullYear(), now.getMonth() - i, 1));
  slider.max = String(months.length);
  const sliderLabel = document.getElementById("month-label");

  function filters() {
    const params = new URLSearchParams();
    const kinds = [...form.querySelectorAll("input[name=kind]:checked")].map((i) => i.value);
    if (kinds.length) params.set("kind", kinds.join(","));
    const month = Number(slider.value);
    if (month > 0) {
      const start = months[month - 1];
      const end = new Date(start.getFullYear(), start.getMonth() + 1, 0);
      params.set("from", isoDay(new Date(start.getTime() - start.getTimezoneOffset() * 60000)));
      params.set("to", isoDay(new Date(end.getTime() - end.getTimezoneOffset() * 60000)));
      sliderLabel.textContent = `Tháng ${start.getMonth() + 1}/${start.getFullYear()}`;
    } else {
      if (isoFromVi(form.from.value)) params.set("from", isoFromVi(form.from.value));
      if (isoFromVi(form.to.value)) params.set("to", isoFromVi(form.to.value));
      sliderLabel.textContent = "Theo khoảng ngày đã chọn";
    }
    return params;
  }

  async function loadHeat() {
    layers.heat.clearLayers();
    try {
      const overlay = await api(`/api/heat?format=overlay&${filters()}`);
      L.imageOverlay(overlay.image, overlay.bounds, { opacity: 0.75 }).addTo(layers.heat);
      document.getElementById("heat-legend").textContent =
        `${VI_NUMBER.format(overlay.n_incidents)} vụ việc; cao nhất ${VI_NUMBER.format(overlay.max_per_km2)} vụ/km²`;
    } catch (error) {
      document.getElementById("heat-legend").textContent = error.message;
    }
  }

  async function loadHotspots() {
    layers.hotspots.clearLayers();
    const [hotspots, tasks] = await Promise.all([
      api(`/api/hotspots?${filters()}`), api("/api/tasks?kind=suppression&limit=1000"),
    ]);
    const taskOf = Object.fromEntries(tasks.tasks.map((t) => [t.hotspot_id, t]));
    L.geoJSON(hotspots, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        radius: 6 + Math.min(10, Math.sqrt(feature.properties.n_incidents || 1)),
        color: "#111827", weight: 1, fillColor: STATUS_COLOURS[feature.properties.status], fillOpacity: 0.9,
      }),
      onEachFeature: (feature, layer) => layer.bindPopup(() => hotspotPopup(feature.properties, taskOf[feature.properties.id])),
    }).addTo(layers.hotspots);
    document.getElementById("kpi-recurred").textContent = VI_NUMBER.format(
      hotspots.features.filter((f) => f.properties.status === "recurred").length);
  }

  function hotspotPopup(p, task) {
    const div = document.createElement("div");
    div.className = "popup";
    div.innerHTML = `<b>Điểm nóng #${p.id}</b> — ${escapeHtml(KIND_LABELS[p.kind] || p.kind)}<br>
      Trạng thái: <b>${escapeHtml(STATUS_LABELS[p.status] || p.status)}</b><br>
      Số vụ việc: ${VI_NUMBER.format(p.n_incidents)}; xã/phường: ${escapeHtml(p.commune_code || "—")}<br>
      Lần đầu: ${viDate(p.first_seen)}; gần nhất: ${viDate(p.last_seen)}<br>
      ${task ? `Nhiệm vụ #${task.id}: ${escapeHtml(task.team || "chưa giao")} — ${escapeHtml(task.state_label)}` : "Chưa có nhiệm vụ"}`;
    if (!task && ["verified", "recurred", "detected"].includes(p.status)) {
      const button = document.createElement("button");
      button.textContent = "Giao nhiệm vụ đấu tranh, triệt xóa";
      button.onclick = () => assignHotspot(p, div);
      div.appendChild(document.createElement("br"));
      div.appendChild(button);
    }
    return div;
  }

  async function assignHotspot(p, div) {
    try {
      const suggestion = await api(`/api/tasks/suggest-assignee?hotspot_id=${p.id}`);
      const choices = suggestion.candidates.map((c) => `${c.team_id}: ${c.name} (${c.open_tasks} việc đang mở)`).join("\n");
      const picked = window.prompt(`Chọn tổ công tác (gợi ý đứng đầu):\n${choices}`, suggestion.suggested?.team_id ?? "");
      if (!picked) return;
      const due = new Date(Date.now() + 30 * 86400000);
      const task = await api("/api/tasks", { method: "POST", body: JSON.stringify({
        kind: "suppression", hotspot_id: p.id, team_id: Number(picked), due_date: isoDay(due), priority: "high",
      }) });
      notify(`Đã giao nhiệm vụ #${task.id} cho ${task.team || "tổ " + picked}`);
      loadHotspots();
      loadKpis();
    } catch (error) {
      notify(error.message, true);
    }
  }

  async function loadClasses() {
    layers.classes.clearLayers();
    for (let year = now.getFullYear(); year >= now.getFullYear() - 3; year -= 1) {
      try {
        const result = await api(`/api/classifications/${year}?simplify_m=20`);
        if (result.run.status !== "approved") continue;
        L.geoJSON(result, {
          style: (f) => ({ color: "#1f2937", weight: 0.6, fillColor: CATEGORY_COLOURS[f.properties.category], fillOpacity: 0.45 }),
          onEachFeature: (f, layer) => layer.bindTooltip(
            `${escapeHtml(f.properties.full_name)}: ${escapeHtml(CATEGORY_LABELS[f.properties.category])}${f.properties.level ? " loại " + f.properties.level : ""}`),
        }).addTo(layers.classes);
        document.getElementById("classes-year").textContent = `Năm ${year} (phiên bản ${result.run.version})`;
        return year;
      } catch (error) { /* no classification that year: try the year before */ }
    }
    document.getElementById("classes-year").textContent = "Chưa có năm nào được phê duyệt";
    return null;
  }

  async function loadGistar() {
    layers.gistar.clearLayers();
    try {
      const cells = await api(`/api/gistar?${filters()}`);
      L.geoJSON(cells, {
        style: (f) => ({ weight: 0, fillColor: BIN_COLOURS[f.properties.bin], fillOpacity: 0.6 }),
        onEachFeature: (f, layer) => layer.bindTooltip(
          `z = ${VI_NUMBER.format(f.properties.z)}; tin cậy ${Math.round((f.properties.confidence || 0) * 100)} %`),
      }).addTo(layers.gistar);
    } catch (error) { /* shown as an empty layer */ }
  }

  async function loadEmerging() {
    layers.emerging.clearLayers();
    try {
      const cells = await api("/api/emerging");
      L.geoJSON(cells, {
        style: (f) => ({ weight: 0, fillColor: f.properties.pattern.includes("hot") ? "#dc2626" : "#2563eb", fillOpacity: 0.5 }),
        onEachFeature: (f, layer) => layer.bindTooltip(escapeHtml(f.properties.label_vi)),
      }).addTo(layers.emerging);
    } catch (error) { /* shown as an empty layer */ }
  }

  async function loadKpis(year) {
    const [open, overdue] = await Promise.all([
      api("/api/tasks?limit=1"), api("/api/tasks?overdue=true&limit=1"),
    ]);
    document.getElementById("kpi-open").textContent = VI_NUMBER.format(open.numberMatched);
    document.getElementById("kpi-overdue").textContent = VI_NUMBER.format(overdue.numberMatched);
    if (!year) return;
    const report = await api(`/api/reports/kpi?year=${year}`);
    const share = report.kpis.find((k) => k.key === "drug_free_share");
    if (share) {
      document.getElementById("kpi-drug-free").textContent =
        `${VI_NUMBER.format(share.value * 100)} % (mục tiêu 2025: 30 %, 2030: 60 %)`;
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); slider.value = "0"; refresh(); });
  slider.addEventListener("change", () => { loadHeat(); loadHotspots(); });
  async function refresh() { await Promise.all([loadHeat(), loadHotspots(), loadGistar()]); }
  await refresh();
  loadEmerging();
  const year = await loadClasses();
  await loadKpis(year);
  document.body.dataset.ready = "true";
}

// ---------------------------------------------------------------- team page
async function startTeam(map) {
  const me = await api("/api/auth/me");
  const communes = await api("/api/communes?simplify_m=20");
  const area = new Set(window.diaban.teamCommunes);
  const outline = L.geoJSON(communes, {
    filter: (f) => area.has(f.properties.code),
    style: { color: "#2563eb", weight: 2, fillOpacity: 0.05 },
  }).addTo(map);
  if (outline.getLayers().length) {
    // Once the page has laid out (the panel moves the map on phones), fit the team's area.
    setTimeout(() => { map.invalidateSize(); map.fitBounds(outline.getBounds()); }, 100);
  }
  const markers = L.layerGroup().addTo(map);

  async function loadTasks() {
    const [mine, hotspots] = await Promise.all([api("/api/tasks/mine?limit=200"), api("/api/hotspots")]);
    const where = Object.fromEntries(hotspots.features.map((f) => [f.id, f.geometry.coordinates]));
    markers.clearLayers();
    const list = document.getElementById("tasks");
    list.innerHTML = mine.tasks.length ? "" : "<p>Không có nhiệm vụ nào.</p>";
    for (const task of mine.tasks) {
      const item = document.createElement("article");
      item.className = "task" + (task.overdue_days > 0 ? " overdue" : "");
      item.dataset.taskId = task.id;
      item.innerHTML = `<h3>#${task.id} ${escapeHtml(task.kind_label)}</h3>
        <p>${escapeHtml(task.commune_name || task.commune_code)} — <b>${escapeHtml(task.state_label)}</b></p>
        <p>Hạn: ${viDate(task.due_date)}${task.overdue_days > 0 ? ` <span class="late">quá hạn ${task.overdue_days} ngày</span>` : ""}</p>
        <textarea placeholder="Ghi chú (bắt buộc khi từ chối, trả lại)"></textarea>
        <div class="actions"></div>`;
      const actions = item.querySelector(".actions");
      for (const target of task.allowed.filter((s) => window.diaban.teamTargets.includes(s))) {
        const button = document.createElement("button");
        button.textContent = window.diaban.taskLabels[target] || target;
        button.dataset.to = target;
        button.onclick = async () => {
          try {
            await api(`/api/tasks/${task.id}/transitions`, { method: "POST", body: JSON.stringify({
              to: target, note: item.querySelector("textarea").value, version: task.version,
            }) });
            notify(`Nhiệm vụ #${task.id}: ${window.diaban.taskLabels[target] || target}`);
            loadTasks();
          } catch (error) { notify(error.message, true); }
        };
        actions.appendChild(button);
      }
      list.appendChild(item);
      const coords = where[task.hotspot_id];
      if (coords) {
        L.circleMarker([coords[1], coords[0]], { radius: 9, color: task.overdue_days > 0 ? "#dc2626" : "#2563eb" })
          .bindPopup(`Nhiệm vụ #${task.id}: ${escapeHtml(task.state_label)}`).addTo(markers);
      }
    }
    document.body.dataset.ready = "true";
  }
  document.getElementById("who").textContent = `${me.username} — ${me.role_label}`;
  await loadTasks();
}

// ---------------------------------------------------------------- planner page
async function startPlanner(map) {
  const layer = L.layerGroup().addTo(map);
  const select = document.getElementById("year");
  const table = document.getElementById("communes");
  async function load() {
    const year = select.value;
    layer.clearLayers();
    for (const format of ["csv", "geojson", "xlsx"]) {
      document.getElementById(`download-${format}`).href = `/api/classifications/${year}/export?format=${format}`;
    }
    try {
      const [result, review] = await Promise.all([
        api(`/api/classifications/${year}?simplify_m=20`), api(`/api/classifications/${year}/review`),
      ]);
      L.geoJSON(result, {
        style: (f) => ({ color: "#1f2937", weight: 0.6, fillColor: CATEGORY_COLOURS[f.properties.category], fillOpacity: 0.5 }),
        onEachFeature: (f, l) => l.bindTooltip(`${escapeHtml(f.properties.full_name)}: ${escapeHtml(CATEGORY_LABELS[f.properties.category])}`),
      }).addTo(layer);
      const approved = review.run.status === "approved";
      document.getElementById("run-status").textContent = approved
        ? `Đã phê duyệt (phiên bản ${review.run.version}, ${escapeHtml(review.run.approved_by)}, ${viDate(review.run.approved_at)})`
        : `Bản nháp phiên bản ${review.run.version}: ${review.n_disagreements} xã pháp lý ≠ mô hình, ${review.n_changed} xã thay đổi so với năm trước`;
      document.getElementById("approve").disabled = approved;
      table.innerHTML = "";
      for (const item of review.items) {
        const row = document.createElement("tr");
        if (item.disagreement || item.changed) row.className = "flag";
        row.innerHTML = `<td>${escapeHtml(item.name || item.commune_code)}</td>
          <td>${escapeHtml(CATEGORY_LABELS[item.category] || item.category)}${item.level ? " " + escapeHtml(item.level) : ""}</td>
          <td>${escapeHtml(CATEGORY_LABELS[item.learned_category] || "—")}</td>
          <td class="why">${escapeHtml(item.explanation)}</td>
          <td>${approved ? "" : `<select><option value="drug_free">Không ma túy</option><option value="at_risk">Có tệ nạn</option>
            <option value="trong_diem|III">Trọng điểm III</option><option value="trong_diem|II">Trọng điểm II</option>
            <option value="trong_diem|I">Trọng điểm I</option></select><input placeholder="Lý do (bắt buộc)"><button>Điều chỉnh</button>`}</td>`;
        const button = row.querySelector("button");
        if (button) {
          button.onclick = async () => {
            const [category, level] = row.querySelector("select").value.split("|");
            try {
              await api(`/api/classifications/${year}/overrides`, { method: "POST", body: JSON.stringify({
                commune_code: item.commune_code, category, level: level || null, reason: row.querySelector("input").value,
              }) });
              notify(`Đã điều chỉnh ${item.name || item.commune_code}`);
              load();
            } catch (error) { notify(error.message, true); }
          };
        }
        table.appendChild(row);
      }
    } catch (error) {
      document.getElementById("run-status").textContent = error.message;
      table.innerHTML = "";
    }
    document.body.dataset.ready = "true";
  }
  document.getElementById("approve").onclick = async () => {
    if (!window.confirm(`Phê duyệt kết quả phân loại năm ${select.value}? Sau khi duyệt không thể sửa.`)) return;
    try {
      await api(`/api/classifications/${select.value}/approve`, { method: "POST" });
      notify(`Đã phê duyệt năm ${select.value}`);
      load();
    } catch (error) { notify(error.message, true); }
  };
  select.addEventListener("change", load);
  await load();
}

function diabanStart() {
  const { map, page } = window.diaban;
  const start = { command: startCommand, team: startTeam, planner: startPlanner }[page];
  if (start) start(map).catch((error) => notify(error.message, true));
}
