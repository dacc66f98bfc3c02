// Command page: heat surface of the view, incidents as vector tiles, hotspots by status, approved classes, Gi*
// and emerging cells; filters, month slider, KPIs, and assigning a hotspot to a team.
"use strict";

diabanPages.command = async function startCommand(map, cfg) {
  const layers = {
    heat: L.layerGroup().addTo(map), incidents: L.layerGroup(), hotspots: L.layerGroup().addTo(map),
    classes: L.layerGroup(), gistar: L.layerGroup(), emerging: L.layerGroup(),
  };
  L.control.layers(null, {
    "Mật độ vụ việc": layers.heat, "Vụ việc (số vụ theo ô; từng vụ khi phóng to)": layers.incidents,
    "Điểm nóng": layers.hotspots, "Phân loại xã (năm đã duyệt gần nhất)": layers.classes,
    "Ô nóng Gi*": layers.gistar, "Xu hướng điểm nóng": layers.emerging,
  }, { collapsed: window.innerWidth < 760 }).addTo(map);
  const { names } = await communesLayer(map);
  bachLongViButton(map, cfg);

  const form = document.getElementById("filters");
  const slider = document.getElementById("month");
  const sliderLabel = document.getElementById("month-label");
  // The 24 months up to the latest incident (or today), oldest first; position 0 means "the typed dates".
  const last = cfg.lastIncident ? new Date(`${cfg.lastIncident}T00:00:00`) : new Date();
  const months = Array.from({ length: 24 }, (_, i) => new Date(last.getFullYear(), last.getMonth() - 23 + i, 1));
  slider.max = String(months.length);

  // Query string of the chosen kinds and period: one month of the slider, else the typed date range.
  function filters() {
    const params = new URLSearchParams();
    const kinds = [...form.querySelectorAll("input[name=kind]:checked")].map((i) => i.value);
    if (kinds.length) params.set("kind", kinds.join(","));
    const month = Number(slider.value);
    if (month > 0) {
      const start = months[month - 1];
      params.set("from", isoDay(start));
      params.set("to", isoDay(new Date(start.getFullYear(), start.getMonth() + 1, 0)));
      sliderLabel.textContent = `Tháng ${String(start.getMonth() + 1).padStart(2, "0")}/${start.getFullYear()}`;
    } else {
      for (const name of ["from", "to"]) {
        if (isoFromVi(form[name].value)) params.set(name, isoFromVi(form[name].value));
      }
      sliderLabel.textContent = "Theo khoảng ngày đã chọn";
    }
    return params;
  }

  // The heat surface of what is on screen, at the screen's resolution: cells of about two pixels (25 m doubled
  // up to 1.6 km) and a bandwidth of at least 200 m and one cell, over the view widened by a quarter on every side (no
  // edge effect) and snapped to a grid of 64 cells, so that nearby views share the server's cached answer.
  function heatQuery() {
    const metresPerPixel = 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) / 2 ** (map.getZoom() + 8);
    let cell = 25;
    while (cell < 2 * metresPerPixel && cell < 1600) cell *= 2;
    const bandwidth = Math.max(200, cell);
    const view = map.getBounds();
    const snap = (cell * 64) / 111320;  // degrees
    const padX = (view.getEast() - view.getWest()) / 4, padY = (view.getNorth() - view.getSouth()) / 4;
    const bbox = [Math.floor((view.getWest() - padX) / snap) * snap, Math.floor((view.getSouth() - padY) / snap) * snap,
      Math.ceil((view.getEast() + padX) / snap) * snap, Math.ceil((view.getNorth() + padY) / snap) * snap]
      .map((v, i) => Math.max(i % 2 ? -90 : -180, Math.min(i % 2 ? 90 : 180, v)).toFixed(5));
    const params = filters();
    params.set("bbox", bbox.join(","));
    params.set("cell_m", String(cell));
    params.set("bandwidth_m", String(bandwidth));
    return { params, cell, bandwidth };
  }

  let heatRequest = 0;
  async function loadHeat() {
    const legend = document.getElementById("heat-legend");
    const { params, cell, bandwidth } = heatQuery();
    const mine = ++heatRequest;
    try {
      const overlay = await api(`/api/heat?format=overlay&${params}`);
      if (mine !== heatRequest) return;  // the map moved on meanwhile
      layers.heat.clearLayers();
      if (!overlay.image) { legend.textContent = "Không có vụ việc nào trong vùng và bộ lọc đã chọn"; return; }
      L.imageOverlay(overlay.image, overlay.bounds, { opacity: 0.75 }).addTo(layers.heat);
      legend.textContent = `${VI_NUMBER.format(overlay.n_incidents)} vụ việc trong vùng; cao nhất ` +
        `${VI_NUMBER.format(overlay.max_per_km2)} vụ/km² (vàng: thấp → đỏ: cao; ô ${VI_NUMBER.format(cell)} m, ` +
        `bán kính ${VI_NUMBER.format(bandwidth)} m)` +
        (overlay.without_point ? `; ${VI_NUMBER.format(overlay.without_point)} vụ việc không có tọa độ ` +
          "(xếp theo mã xã hoặc địa chỉ) không có trên bản đồ" : "");
    } catch (error) {
      if (mine === heatRequest) legend.textContent = error.message;
    }
  }

  // Incidents from the vector tiles: counts on a grid of a few pixels below street zoom, single incidents from it.
  function loadIncidents() {
    layers.incidents.clearLayers();
    L.vectorGrid.protobuf(`/tiles/incidents/{z}/{x}/{y}.mvt?${filters()}`, {
      rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, fetchOptions: { credentials: "same-origin" },
      vectorTileLayerStyles: {
        incidents: (p) => ({
          // A cell is four pixels wide: one incident stays inside its cell, many grow with the square root.
          radius: p.count ? Math.min(8, 0.8 + 0.6 * Math.sqrt(p.count)) : 3, stroke: false, fill: true, fillOpacity: 0.6,
          fillColor: cfg.incidentColours[p.count ? "counted" : "single"],
        }),
      },
    }).addTo(layers.incidents);
  }

  async function loadHotspots() {
    layers.hotspots.clearLayers();
    const [hotspots, tasks] = await Promise.all([
      api(`/api/hotspots?${filters()}`), api("/api/tasks?kind=suppression&limit=1000"),
    ]);
    const taskOf = Object.fromEntries(tasks.tasks.map((t) => [t.hotspot_id, t]));
    L.geoJSON(hotspots, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        radius: 5 + Math.min(10, Math.sqrt(feature.properties.n_incidents || 1)),
        color: "#111827", weight: 1, fillColor: cfg.statusColours[feature.properties.status], fillOpacity: 0.9,
      }),
      onEachFeature: (feature, layer) => layer.bindPopup(
        () => hotspotPopup(feature.properties, taskOf[feature.properties.id]), { minWidth: 300 }),
    }).addTo(layers.hotspots);
  }

  function hotspotPopup(p, task) {
    const div = document.createElement("div");
    div.className = "popup";
    div.innerHTML = `<b>Điểm nóng #${p.id}</b> — ${escapeHtml(cfg.hotspotKindLabels[p.kind] || p.kind)}<br>
      Trạng thái: <b>${escapeHtml(cfg.statusLabels[p.status] || p.status)}</b><br>
      Số vụ việc: ${VI_NUMBER.format(p.n_incidents)}; ${escapeHtml(names[p.commune_code] || p.commune_code || "—")}<br>
      Phát hiện lần đầu: ${viDate(p.first_seen)}; gần nhất: ${viDate(p.last_seen)}<br>
      ${task ? `Nhiệm vụ #${task.id}: ${escapeHtml(task.team || "chưa giao tổ")} — ${escapeHtml(task.state_label)}`
        + `, hạn ${viDate(task.due_date)}` : "Chưa có nhiệm vụ"}`;
    if (!task && cfg.taskableStatuses.includes(p.status)) {
      const button = document.createElement("button");
      button.textContent = "Giao nhiệm vụ đấu tranh, triệt xóa…";
      button.onclick = () => assignForm(p, div, button);
      div.append(document.createElement("br"), button);
    }
    return div;
  }

  // Teams covering the hotspot, least loaded (the suggestion) first; command confirms or picks another.
  async function assignForm(p, div, button) {
    button.disabled = true;
    try {
      const suggestion = await api(`/api/tasks/suggest-assignee?hotspot_id=${p.id}`);
      if (!suggestion.candidates.length) { notify("Không có tổ công tác nào phụ trách địa bàn này", true); return; }
      const due = new Date(Date.now() + 30 * 86400000);
      const box = document.createElement("form");
      box.className = "assign";
      box.innerHTML = `<label>Tổ công tác (gợi ý: ít việc đang mở nhất) <select name="team">${suggestion.candidates.map((c) =>
        `<option value="${c.team_id}">${escapeHtml(c.name)} — ${VI_NUMBER.format(c.open_tasks)} việc</option>`).join("")}
        </select></label>
        <label>Hạn <input name="due" value="${viDate(due)}" placeholder="dd/mm/yyyy"></label>
        <button type="submit">Giao nhiệm vụ</button>`;
      box.onsubmit = (event) => { event.preventDefault(); assign(p, box); };
      button.replaceWith(box);
    } catch (error) {
      notify(error.message, true);
      button.disabled = false;
    }
  }

  async function assign(p, box) {
    try {
      const task = await api("/api/tasks", { method: "POST", body: JSON.stringify({
        kind: "suppression", hotspot_id: p.id, team_id: Number(box.team.value),
        due_date: isoFromVi(box.due.value) || null, priority: "high",
      }) });
      notify(`Đã giao nhiệm vụ #${task.id} cho ${task.team}, hạn ${viDate(task.due_date)}`);
      map.closePopup();
      await Promise.all([loadHotspots(), loadTasks()]);
    } catch (error) {
      notify(error.message, true);
    }
  }

  async function loadClasses() {
    const label = document.getElementById("classes-year");
    if (!cfg.approvedYear) { label.textContent = "Chưa có năm nào được phê duyệt"; return; }
    const result = await api(`/api/classifications/${cfg.approvedYear}?simplify_m=20`);
    L.geoJSON(result, {
      style: (f) => ({ color: "#1f2937", weight: 0.6, fillColor: cfg.categoryColours[f.properties.category], fillOpacity: 0.45 }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${escapeHtml(f.properties.full_name)}: ` +
        `${escapeHtml(cfg.categoryLabels[f.properties.category])}${f.properties.level ? " loại " + f.properties.level : ""}`),
    }).addTo(layers.classes);
    label.textContent = `Năm ${cfg.approvedYear} (phiên bản ${result.run.version})`;
  }

  async function loadCells(layer, path, colour, tooltip) {
    layer.clearLayers();
    try {
      const cells = await api(path);
      L.geoJSON(cells, {
        style: (f) => ({ weight: 0, fillColor: colour(f.properties), fillOpacity: 0.6 }),
        onEachFeature: (f, l) => l.bindTooltip(tooltip(f.properties)),
      }).addTo(layer);
    } catch (error) {
      notify(error.message, true);
    }
  }

  const loadGistar = () => loadCells(layers.gistar, `/api/gistar?${filters()}`, (p) => cfg.binColours[p.bin],
    (p) => `Gi* z = ${VI_NUMBER.format(p.z)}; độ tin cậy ${VI_PERCENT.format(p.confidence || 0)}`);
  const loadEmerging = () => loadCells(layers.emerging, "/api/emerging",
    (p) => cfg.emergingColours[p.pattern.endsWith("_hot_spot") ? "hot" : "cold"], (p) => escapeHtml(p.label_vi));

  async function loadTasks() {
    const [overdue, ...open] = await Promise.all([
      api("/api/tasks?overdue=true&limit=1"), ...cfg.openTaskStates.map((state) => api(`/api/tasks?state=${state}&limit=1`)),
    ]);
    document.getElementById("kpi-open").textContent = VI_NUMBER.format(open.reduce((n, page) => n + page.numberMatched, 0));
    document.getElementById("kpi-overdue").textContent = VI_NUMBER.format(overdue.numberMatched);
  }

  async function loadKpis() {
    const targets = Object.entries(cfg.drugFreeTargets).map(([year, share]) => `${year}: ${VI_PERCENT.format(share)}`);
    document.getElementById("kpi-targets").textContent = `Mục tiêu ${targets.join("; ")}`;
    if (!cfg.approvedYear) return;
    const report = await api(`/api/reports/kpi?year=${cfg.approvedYear}`);
    const row = (key) => report.kpis.find((k) => k.key === key);
    const share = row("drug_free_share");
    document.getElementById("kpi-drug-free").textContent = share.value === null ? "—"
      : `${VI_PERCENT.format(share.value)} (năm ${report.year})`;
    document.getElementById("kpi-recurred").textContent = VI_NUMBER.format(row("recurrences").value);
  }

  async function refresh() { loadIncidents(); await Promise.all([loadHeat(), loadHotspots(), loadGistar()]); }
  form.addEventListener("submit", (event) => { event.preventDefault(); slider.value = "0"; refresh(); });
  slider.addEventListener("input", () => filters());
  slider.addEventListener("change", refresh);
  let moved;
  map.on("moveend", () => { clearTimeout(moved); moved = setTimeout(loadHeat, 250); });
  await Promise.all([refresh(), loadEmerging(), loadClasses(), loadTasks(), loadKpis()]);
  document.body.dataset.ready = "true";
};
