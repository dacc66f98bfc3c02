// Team page (made for a phone): the team's area outlined, its tasks listed and mapped; each task with its place
// (coordinates, commune, a link that opens the phone's map app), the buttons of the transitions allowed now,
// progress notes with photo evidence, and the history of notes, events and photos.
"use strict";

diabanPages.team = async function startTeam(map, cfg) {
  const area = new Set(cfg.teamCommunes);
  const { layer: communes } = await communesLayer(map, {
    style: (f) => (area.has(f.properties.code) ? { color: "#2563eb", weight: 2.5, fillColor: "#2563eb", fillOpacity: 0.06 }
      : { color: "#94a3b8", weight: 0.6, fill: false }),
  });
  const outline = L.latLngBounds([]);
  communes.eachLayer((l) => { if (area.has(l.feature.properties.code)) outline.extend(l.getBounds()); });
  map.invalidateSize();  // the panel sits above the map on phones: measure the map again before fitting
  if (outline.isValid()) map.fitBounds(outline, { animate: false, padding: [10, 10] });
  mapButtons(map, cfg);
  const markers = L.layerGroup().addTo(map);
  const list = document.getElementById("tasks");
  const showFinished = document.getElementById("show-finished");
  const finished = (task) => !task.actions.length && task.state !== "completed" && !cfg.openTaskStates.includes(task.state);

  const coordinates = (task) => `${task.lat.toFixed(5)}, ${task.lon.toFixed(5)}`;
  // The phone's map app at the place, ready for directions. Android opens a geo: URI (RFC 5870, with a label); an
  // iPhone or iPad does nothing with one, but hands an Apple Maps link straight to its Maps app (no web page is loaded,
  // so it works on the closed police network as geo: does). The coordinates beside it are selected with one tap, to
  // copy into any other app.
  const apple = /iPhone|iPad|iPod/.test(navigator.userAgent) || (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);
  const geoLink = (task) => {
    const label = encodeURIComponent(`Nhiệm vụ #${task.id}`);
    return apple ? `https://maps.apple.com/?ll=${task.lat},${task.lon}&q=${label}`
      : `geo:${task.lat},${task.lon}?q=${task.lat},${task.lon}(${label})`;
  };

  function taskItem(task) {
    const late = task.overdue_days > 0;
    const item = document.createElement("article");
    item.className = "task" + (late ? " overdue" : "");
    item.dataset.taskId = task.id;
    const place = task.lat === null ? "" : `<p class="place">Vị trí: ${escapeHtml(task.commune_name || task.commune_code)}
      — <span class="coords">${coordinates(task)}</span>
      <span class="go"><a class="geo" href="${geoLink(task)}">Mở ứng dụng bản đồ, chỉ đường</a>
      <button type="button" class="link show-on-map">Xem trên bản đồ</button></span></p>`;
    const hotspot = task.hotspot_id ? `<p>Điểm nóng #${task.hotspot_id}: ${escapeHtml(cfg.statusLabels[task.hotspot_status])}</p>` : "";
    item.innerHTML = `<h3>#${task.id} ${escapeHtml(task.kind_label)}${task.year ? ` năm ${task.year}` : ""}</h3>
      <p><b class="state">${escapeHtml(task.state_label)}</b> · ưu tiên ${escapeHtml(cfg.priorityLabels[task.priority])}</p>
      <p>Hạn: ${viDate(task.due_date)}${late ? ` <span class="late">quá hạn ${VI_NUMBER.format(task.overdue_days)} ngày</span>` : ""}</p>
      ${place}${hotspot}`;
    item.appendChild(actionBox(task, item));
    if (!finished(task)) item.appendChild(progressForm(task));
    item.appendChild(history(task));
    if (task.lat !== null) {
      const where = L.latLng(task.lat, task.lon);
      const marker = L.circleMarker(where, { ...inPane("hotspots"), radius: 9, weight: 3, color: late ? "#dc2626" : "#2563eb", fillOpacity: 0.3 })
        .bindPopup(`#${task.id} ${escapeHtml(task.kind_label)}: ${escapeHtml(task.state_label)}, hạn ${viDate(task.due_date)}`)
        .addTo(markers);
      item.querySelector(".show-on-map").onclick = () => {
        map.getContainer().scrollIntoView({ behavior: "smooth" });
        map.setView(where, Math.max(map.getZoom(), 15));
        marker.openPopup();
      };
    }
    return item;
  }

  // The transitions the team may make now; one that needs a note (declining) refuses to go without one.
  function actionBox(task, item) {
    const box = document.createElement("div");
    box.className = "actions";
    if (!task.actions.length) {
      box.textContent = task.state === "completed" ? "Đã báo hoàn thành: chờ ban chỉ huy nghiệm thu" : "Không có việc cần làm";
      return box;
    }
    const needing = task.actions.filter((a) => a.note_required).map((a) => cfg.taskActionLabels[a.to]);
    box.innerHTML = `<label class="note">Ghi chú, kết quả <textarea data-draft="task-${task.id}-note" placeholder="${needing.length
      ? `Bắt buộc khi: ${escapeHtml(needing.join(", "))}` : "Không bắt buộc"}"></textarea></label>`;
    for (const action of task.actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = cfg.taskActionLabels[action.to] || action.to;
      button.dataset.to = action.to;
      button.onclick = () => move(task, action, item, box);
      box.appendChild(button);
    }
    return box;
  }

  async function move(task, action, item, box) {
    const note = box.querySelector("textarea").value;
    if (action.note_required && !note.trim()) {
      notify(`«${cfg.taskActionLabels[action.to]}» cần ghi rõ lý do`, true);
      box.querySelector("textarea").focus();
      return;
    }
    item.querySelectorAll(".actions button").forEach((b) => { b.disabled = true; });
    try {
      await api(`/api/tasks/${task.id}/transitions`, { method: "POST", body: JSON.stringify({
        to: action.to, note, version: task.version,
      }) });
      notify(`Nhiệm vụ #${task.id}: ${cfg.taskLabels[action.to] || action.to}`);
      box.querySelector("textarea").value = "";
      await loadTasks();
    } catch (error) {
      item.querySelectorAll(".actions button").forEach((b) => { b.disabled = false; });
      if (!CHANGED_MEANWHILE.includes(error.status)) { notify(error.message, true); return; }
      // The task changed since the list was drawn (a first try whose answer was lost, command's own change) or is no
      // longer the team's: show it as it is now rather than buttons that can only be refused again.
      await loadTasks();
      notify(`${error.message} — danh sách đã được tải lại, hãy xem trạng thái hiện tại`, true);
    }
  }

  // Refusals that mean the list is out of date: not found (taken away), refused from the state it is in, stale version.
  const CHANGED_MEANWHILE = [404, 409, 412];

  // A progress note, with a photo taken on the spot if wanted (its GPS position is removed unless the team keeps it).
  function progressForm(task) {
    const form = document.createElement("form");
    form.className = "progress";
    form.innerHTML = `<details><summary>Ghi chú tiến độ, ảnh hiện trường</summary>
      <label>Nội dung <textarea name="note" maxlength="4000" data-draft="task-${task.id}-progress"
        placeholder="Việc đã làm, kết quả"></textarea></label>
      <label>Ảnh (JPEG, PNG, WebP) <input type="file" name="photo" accept="image/jpeg,image/png,image/webp"
        capture="environment"></label>
      <label class="check"><input type="checkbox" name="keep_location"> Giữ vị trí GPS trong ảnh
        (mặc định xóa để bảo mật)</label>
      <input type="hidden" name="key" data-draft="task-${task.id}-progress-key">
      <button type="submit">Gửi ghi chú</button></details>`;
    vietnameseFilePicker(form.photo);
    form.onsubmit = async (event) => {
      event.preventDefault();
      const file = form.photo.files[0];
      const note = form.note.value.trim();
      if (!file && !note) { notify("Hãy viết ghi chú hoặc chọn ảnh", true); return; }
      form.querySelector("button").disabled = true;
      // Sent again unchanged (the answer was lost, or the session ended on the way), the note is stored once.
      const headers = { "Idempotency-Key": sendingKey(form, [note, file && [file.name, file.size, file.lastModified],
        form.keep_location.checked]) };
      try {
        if (file) {
          const body = new FormData();
          body.append("photo", file);
          body.append("note", note);
          body.append("keep_location", form.keep_location.checked ? "true" : "false");
          const sent = await api(`/api/tasks/${task.id}/photos`, { method: "POST", body, headers });
          notify(`Đã gửi ghi chú kèm ảnh cho nhiệm vụ #${task.id}` + (sent.had_location
            ? (sent.location_kept ? " (giữ vị trí GPS)" : " (đã xóa vị trí GPS trong ảnh)") : ""));
        } else {
          await api(`/api/tasks/${task.id}/comments`, { method: "POST", body: JSON.stringify({ note }), headers });
          notify(`Đã gửi ghi chú cho nhiệm vụ #${task.id}`);
        }
        form.note.value = form.key.value = "";
        await loadTasks(task.id);
      } catch (error) {
        notify(error.message, true);
        form.querySelector("button").disabled = false;
      }
    };
    return form;
  }

  // Notes, events and photos of a task, oldest first, loaded when opened.
  function history(task) {
    const details = document.createElement("details");
    details.className = "history";
    details.innerHTML = "<summary>Lịch sử, ghi chú và ảnh</summary><ol class=\"history\"><li>Đang tải…</li></ol>";
    details.addEventListener("toggle", async () => {
      if (!details.open) return;
      try {
        const detail = await api(`/api/tasks/${task.id}`);
        const photos = {};
        for (const p of detail.photos) (photos[p.event_id] ||= []).push(p);
        details.querySelector("ol").innerHTML = detail.events.map((e) => `<li>${eventText(e, cfg.eventLabels,
          cfg.taskLabels, e.from_state, e.to_state)}${evidencePhotos(task.id, photos[e.id])}</li>`).join("");
      } catch (error) { notify(error.message, true); }
    });
    return details;
  }

  let shown = [];
  // Drawn again (after any change), the list keeps what is typed and not yet sent in every task (it used to lose a
  // note half written in one task when another was sent).
  function draw(openHistory = null) {
    markers.clearLayers();
    const visible = shown.filter((task) => showFinished.checked || !finished(task));
    const typed = new Map([...list.querySelectorAll("[data-draft]")].filter((f) => f.value).map((f) => [f.dataset.draft, f]));
    list.replaceChildren(...visible.map(taskItem));
    for (const field of list.querySelectorAll("[data-draft]")) {
      const before = typed.get(field.dataset.draft);
      if (!before) continue;
      field.value = before.value;
      if (before.closest("details")?.open) field.closest("details")?.setAttribute("open", "");
    }
    document.getElementById("task-count").textContent = `(${VI_NUMBER.format(visible.length)})`;
    if (!visible.length) list.textContent = "Tổ chưa có nhiệm vụ nào cần làm.";
    if (openHistory) list.querySelector(`article.task[data-task-id="${openHistory}"] details.history`)?.setAttribute("open", "");
    fillScreen();
  }

  // On a phone the map follows the list: when the list is short it reaches down to the bottom of the screen (no blank
  // band), when it is long it keeps 60 % of the screen.
  function fillScreen() {
    const container = map.getContainer();
    if (getComputedStyle(container).position !== "relative") return;
    const top = container.getBoundingClientRect().top + window.scrollY;
    container.style.setProperty("height", `${Math.max(0.6 * window.innerHeight, window.innerHeight - top)}px`, "important");
    map.invalidateSize();
  }
  showFinished.addEventListener("change", () => draw());

  async function loadTasks(openHistory = null) {
    const [mine] = await Promise.all([api("/api/tasks/mine?limit=500"), loadInbox()]);
    // Work to do first (soonest due), then work waiting for command, then finished work.
    const rank = (task) => (task.actions.length ? 0 : task.state === "completed" ? 1 : 2);
    shown = mine.tasks.sort((a, b) => rank(a) - rank(b));
    draw(openHistory);
  }

  // The team's notices, newest first: work given or sent back, command's comments, and work taken away (given to
  // another team: nothing more of it is the team's to read) or cancelled, with command's reason. Those since the
  // last visit are marked new; a notice of a task still the team's opens it in the list.
  const seenKey = `diaban-inbox-seen-${cfg.username}`;
  function noticeText(e) {
    const task = `Nhiệm vụ #${e.task_id}`;
    const why = e.note ? ` — lý do: «${escapeHtml(e.note)}»` : "";
    if (e.taken_away) return `<b>${task} đã được giao cho tổ khác</b>${why}`;
    if (e.to_state === "canceled") return `<b>${task} đã bị hủy</b>${why}`;
    if (e.to_state === "returned") return `<b>${task} bị trả lại, cần làm tiếp</b>${why}`;
    if (e.event === "comment") return `<b>${task}</b>: ghi chú mới — «${escapeHtml(e.note)}»`;
    return `<b>${task} được giao cho tổ</b>${e.note ? ` — «${escapeHtml(e.note)}»` : ""}`;
  }
  async function loadInbox() {
    const inbox = await api("/api/inbox?limit=20");
    const list = document.getElementById("inbox");
    let seen = 0;
    try { seen = Number(localStorage.getItem(seenKey)) || 0; } catch { /* storage refused: everything is new */ }
    const fresh = inbox.events.filter((e) => e.id > seen).length;
    document.getElementById("inbox-count").textContent = fresh ? `${VI_NUMBER.format(fresh)} mới` : "";
    if (!inbox.events.length) { list.innerHTML = "<li class=\"none\">Không có thông báo mới.</li>"; return; }
    list.replaceChildren(...inbox.events.map((e) => {
      const item = document.createElement("li");
      item.dataset.taskId = e.task_id;
      if (e.id <= seen) item.className = "handled";
      item.innerHTML = `${noticeText(e)}<br><small><time>${viDateTime(e.at)}</time> · ${escapeHtml(e.actor)}` +
        ` · ${escapeHtml(cfg.taskKindLabels[e.kind])}</small>`;
      if (e.taken_away) item.classList.add("gone");
      else clickable(item, () => showTask(e.task_id));
      return item;
    }));
    try { localStorage.setItem(seenKey, String(Math.max(seen, ...inbox.events.map((e) => e.id)))); } catch { /* none */ }
  }

  // A task of the list brought into view (finished tasks shown if it is one of them), its history opened.
  function showTask(taskId) {
    if (!shown.some((task) => task.id === taskId)) return;
    if (!list.querySelector(`article.task[data-task-id="${taskId}"]`)) {
      showFinished.checked = true;
      draw();
    }
    const item = list.querySelector(`article.task[data-task-id="${taskId}"]`);
    item.querySelector("details.history")?.setAttribute("open", "");
    item.scrollIntoView({ behavior: "smooth", block: "start" });
  }

  await loadTasks();
  restoreDrafts();
  document.body.dataset.ready = "true";
};
