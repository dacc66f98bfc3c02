// Team page: the team's area outlined, its tasks listed and mapped, with buttons for the allowed transitions.
"use strict";

diabanPages.team = async function startTeam(map, cfg) {
  const area = new Set(cfg.teamCommunes);
  const { layer: communes } = await communesLayer(map, {
    style: (f) => (area.has(f.properties.code) ? { color: "#2563eb", weight: 2.5, fillColor: "#2563eb", fillOpacity: 0.06 }
      : { color: "#94a3b8", weight: 0.6, fill: false }),
  });
  const centres = {};
  const outline = L.latLngBounds([]);
  communes.eachLayer((l) => {
    const code = l.feature.properties.code;
    if (area.has(code)) { centres[code] = l.getBounds().getCenter(); outline.extend(l.getBounds()); }
  });
  map.invalidateSize();  // the panel sits above the map on phones: measure the map again before fitting
  if (outline.isValid()) map.fitBounds(outline, { animate: false, padding: [10, 10] });
  bachLongViButton(map, cfg);
  const markers = L.layerGroup().addTo(map);
  const list = document.getElementById("tasks");

  function taskItem(task, where) {
    const late = task.overdue_days > 0;
    const item = document.createElement("article");
    item.className = "task" + (late ? " overdue" : "");
    item.dataset.taskId = task.id;
    item.innerHTML = `<h3>#${task.id} ${escapeHtml(task.kind_label)}</h3>
      <p>${escapeHtml(task.commune_name || task.commune_code)} — <b class="state">${escapeHtml(task.state_label)}</b></p>
      <p>Hạn: ${viDate(task.due_date)}${late ? ` <span class="late">quá hạn ${VI_NUMBER.format(task.overdue_days)} ngày</span>` : ""}</p>
      <label class="note">Ghi chú, kết quả <textarea placeholder="Bắt buộc khi từ chối nhiệm vụ"></textarea></label>
      <div class="actions"></div>`;
    const actions = item.querySelector(".actions");
    const allowed = task.actions.map((action) => action.to);
    if (!allowed.length) actions.textContent = "Chờ ban chỉ huy xử lý";
    for (const target of allowed) {
      const button = document.createElement("button");
      button.textContent = cfg.taskActionLabels[target] || target;
      button.dataset.to = target;
      button.onclick = () => move(task, target, item);
      actions.appendChild(button);
    }
    if (where) {
      const marker = L.circleMarker(where, { radius: 9, weight: 3, color: late ? "#dc2626" : "#2563eb", fillOpacity: 0.3 })
        .bindPopup(`#${task.id} ${escapeHtml(task.kind_label)}: ${escapeHtml(task.state_label)}, hạn ${viDate(task.due_date)}`)
        .addTo(markers);
      item.querySelector("h3").onclick = () => { map.setView(where, Math.max(map.getZoom(), 14)); marker.openPopup(); };
    }
    return item;
  }

  async function move(task, target, item) {
    item.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      await api(`/api/tasks/${task.id}/transitions`, { method: "POST", body: JSON.stringify({
        to: target, note: item.querySelector("textarea").value, version: task.version,
      }) });
      notify(`Nhiệm vụ #${task.id}: ${cfg.taskLabels[target] || target}`);
      await loadTasks();
    } catch (error) {
      notify(error.message, true);
      item.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  async function loadTasks() {
    const [mine, hotspots] = await Promise.all([api("/api/tasks/mine?limit=200"), api("/api/hotspots")]);
    const at = Object.fromEntries(hotspots.features.map((f) => [f.id, L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0])]));
    markers.clearLayers();
    list.replaceChildren(...mine.tasks.map((task) => taskItem(task, at[task.hotspot_id] || centres[task.commune_code])));
    if (!mine.tasks.length) list.textContent = "Tổ chưa có nhiệm vụ nào.";
  }

  await loadTasks();
  document.body.dataset.ready = "true";
};
