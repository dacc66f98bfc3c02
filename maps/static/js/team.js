// Team page (made for a phone): the team's area outlined, its tasks listed and mapped; each task with its place
// (coordinates, commune, a link that opens the phone's map app), the buttons of the transitions allowed now,
// progress notes with photo evidence, and the history of notes, events and photos.
"use strict";

diabanPages.team = async function startTeam(map, cfg) {
  // The team's area outlined on the map when the boundaries come (the heaviest answer of the page: the list of tasks
  // does not wait for them, nor fail with them on a weak network). The communes outside it are veiled, the area keeps
  // the land's colour: a tint over the area (6 % blue over the cream land reads as a neutral grey) filled the whole
  // screen once the map zoomed to street level there, and looked like a map that had not loaded.
  async function outlineArea() {
    const area = new Set(cfg.teamCommunes);
    const { layer: communes } = await communesLayer(map, {
      style: (f) => (area.has(f.properties.code) ? { color: cfg.teamColours.area, weight: 2.5, fill: false }
        : { color: "#94a3b8", weight: 0.6, fillColor: cfg.teamColours.outside, fillOpacity: 0.15 }),
    });
    const outline = L.latLngBounds([]);
    communes.eachLayer((l) => { if (area.has(l.feature.properties.code)) outline.extend(l.getBounds()); });
    map.invalidateSize();  // the panel sits above the map on phones: measure the map again before fitting
    if (outline.isValid()) fitClear(map, outline, { animate: false });
  }
  makePanes(map);  // the tasks' markers may come before the boundaries
  const queue = await changeQueue(cfg.username);
  let waiting = [];  // this user's changes kept on the phone, oldest first (queue.mine())
  // The printed map names the team whose area and tasks it shows (the line under its title was left empty).
  cfg.printSubtitle = () => `${cfg.teamName || "Tổ công tác"} — địa bàn và nhiệm vụ của tổ`;
  mapButtons(map, cfg);
  const markers = L.layerGroup().addTo(map);
  // Spots the team reported (common.js tipForm) that are not yet its tasks, in their status's colour: loaded with the
  // page and after each report (GET /api/hotspots/reported), so that they stay on the map after a reload and the team
  // sees what it already reported, by whom and where it stands; those command dismissed stay a while with its reason.
  const reported = L.layerGroup().addTo(map);
  const reportList = document.getElementById("report-list");
  const reportCount = document.getElementById("report-count");
  let reports = [];
  const reportMarkers = new Map();
  const reasonText = (r) => (r.reason ? ` — lý do: «${escapeHtml(r.reason)}»` : "");
  function reportMarker(r) {
    return L.circleMarker([r.lat, r.lon], { ...inPane("hotspots"), radius: 9, weight: 2, color: "#111827",
      fillColor: cfg.statusColours[r.status], fillOpacity: 0.9 })
      .bindPopup(`Điểm #${r.id} tổ đã báo: ${escapeHtml(cfg.reportStatusLabels[r.status])}${reasonText(r)}`
        + ` — «${escapeHtml(r.note)}»`)
      .addTo(reported);
  }
  // A report of the list brought into view on the map, its popup open (its line in the list, its notice in the inbox).
  function showReport(hotspotId) {
    const r = reports.find((report) => report.id === hotspotId);
    if (!r) return;
    map.getContainer().scrollIntoView({ behavior: "smooth" });
    map.setView([r.lat, r.lon], Math.max(map.getZoom(), 15));
    reportMarkers.get(r.id).openPopup();
  }
  function drawReports() {
    reported.clearLayers();
    reportMarkers.clear();
    reportCount.textContent = `(${VI_NUMBER.format(reports.length)})`;
    if (!reports.length) {
      reportList.innerHTML = "<li class=\"none empty\">Tổ chưa báo điểm nào đang chờ xử lý.</li>";
      drawPendingReports();
      return;
    }
    reportList.replaceChildren(...reports.map((r) => {
      reportMarkers.set(r.id, reportMarker(r));
      const item = document.createElement("li");
      item.dataset.hotspotId = r.id;
      item.innerHTML = `<b>Điểm #${r.id}</b>: ${escapeHtml(r.status_label)}${reasonText(r)} — «${escapeHtml(r.note)}»` +
        `<br><small><time>${viDateTime(r.reported_at)}</time> · ${escapeHtml(r.reported_by)}` +
        `${r.commune_name ? ` · ${escapeHtml(r.commune_name)}` : ""}</small>`;
      return clickable(item, () => showReport(r.id));
    }));
    drawPendingReports();
  }
  // Spots reported without signal, waiting on the phone (changes of the queue with a `report`): first in the list,
  // «Chờ gửi», and on the map with a dashed ring in no status's colour (no status yet; the legend shows it too), until
  // they are sent; the summary counts them even folded.
  const pendingReports = L.layerGroup().addTo(map);
  const waitingReports = () => waiting.filter((change) => change.report);
  function drawPendingReports() {
    pendingReports.clearLayers();
    reportList.querySelectorAll("li.waiting").forEach((item) => item.remove());
    const pending = waitingReports();
    document.getElementById("report-waiting").textContent = pending.length
      ? `${VI_NUMBER.format(pending.length)} chờ gửi` : "";
    reportList.querySelector("li.empty")?.toggleAttribute("hidden", pending.length > 0);
    reportList.prepend(...pending.map((change) => {
      const { lat, lon, kind } = change.report;
      const marker = L.circleMarker([lat, lon], { ...inPane("hotspots"), ...cfg.pendingReportStyle })
        .bindPopup(`<b>Chờ gửi</b>: báo điểm mới — «${escapeHtml(change.note)}» (sẽ tự gửi khi có sóng)`)
        .addTo(pendingReports);
      const item = document.createElement("li");
      item.className = "waiting";
      item.innerHTML = `<b>Chờ gửi</b>: báo điểm mới — «${escapeHtml(change.note)}»<br><small><time>${viDateTime(change.at)}`
        + `</time> · ${escapeHtml(cfg.hotspotKindLabels[kind] || kind)} · ${lat.toFixed(5)}, ${lon.toFixed(5)}</small>`;
      return clickable(item, () => {
        map.getContainer().scrollIntoView({ behavior: "smooth" });
        map.setView([lat, lon], Math.max(map.getZoom(), 15));
        marker.openPopup();
      });
    }));
  }
  // Rejects when the list could not be loaded (after a report, refreshAfterSave says so); the list says it too.
  async function loadReports() {
    try {
      ({ reports } = await api("/api/hotspots/reported"));
    } catch (error) {
      reportCount.textContent = "(chưa tải được)";
      reportList.innerHTML = `<li class="none">Chưa tải được các điểm tổ đã báo (${escapeHtml(failure(error))}): bấm
        «Tải lại danh sách» để thử lại.</li>`;
      drawPendingReports();
      throw error;
    }
    drawReports();
  }
  // Before a new report: a spot the team already reported within NEAR_REPORT_M is most likely the same place, and the
  // page asks before sending it again (it does not refuse: two dens can be neighbours). 50 m because two reports of
  // one place rarely fall farther apart: a report's footprint is 50 m around its point (POST /api/hotspots' default
  // radius); a phone's GPS in town is off by 5–20 m (the form shows its accuracy), a tap at street zoom (15–16, 2–5 m a
  // pixel at Hải Phòng's latitude) by a fingertip's 10–20 m — each of two reports off by up to ~20–25 m. A den across
  // the street (15–30 m) is asked about too, and one tap sends it.
  // The question is the page's, on what the phone knows: the list loaded last and the reports waiting on it. The server
  // does not check (a near report is no error); a report kept without signal is asked about when it is made, not when
  // it goes (nobody may be looking then); one another member made meanwhile, or any when the list could not be loaded,
  // reaches command as a second report, which it sees «Gần đây» in its register and dismisses with a reason the
  // team's notices tell.
  // The hotspots of the team's own tasks are asked about too (a member at the task's place reported it as a new spot),
  // from the task list the page holds (so also without signal): those still open (cfg.openHotspotStatuses), whatever
  // the task's state — a task accepted, cancelled or declined while its hotspot is still open means the place is
  // known to command all the same. A hotspot no longer open (eradicated, monitoring, closed) is not: a new report
  // there is news, the place may have come back.
  const NEAR_REPORT_M = 50;
  const taskHotspots = () => shown.filter((task) => task.hotspot_id && task.lat !== null
    && cfg.openHotspotStatuses.includes(task.hotspot_status)).map((task) => ({ lat: task.lat, lon: task.lon,
    what: `Nhiệm vụ #${task.id} của tổ (điểm nóng #${task.hotspot_id}, trạng thái `
      + `${cfg.statusLabels[task.hotspot_status].toLowerCase()}) ở`,
    about: `${task.kind_label} — ${task.state_label.toLowerCase()}` }));
  async function mayReport(where) {
    const known = [
      ...taskHotspots(),
      ...reports.map((r) => ({ lat: r.lat, lon: r.lon, what: `Tổ đã báo điểm #${r.id}`,
        about: `${viDateTime(r.reported_at)}, ${r.reported_by} — «${r.note}» (${r.status_label}`
          + `${r.reason ? `, lý do: «${r.reason}»` : ""})` })),
      ...waitingReports().map((change) => ({ ...change.report, what: "Tổ đã báo một điểm đang chờ gửi trên máy này",
        about: `${viDateTime(change.at)} — «${change.note}»` })),
    ];
    const near = known.map((k) => ({ k, metres: map.distance([where.lat, where.lon], [k.lat, k.lon]) }))
      .filter((n) => n.metres <= NEAR_REPORT_M).sort((a, b) => a.metres - b.metres);
    if (!near.length) return true;
    const { k, metres } = near[0];
    const more = near.length > 1 ? ` (và ${VI_NUMBER.format(near.length - 1)} điểm khác gần đó)` : "";
    return ask(`${k.what} cách vị trí này khoảng ${VI_NUMBER.format(Math.round(metres))} m${more}: `
      + `${k.about}.\n\nCó thể là cùng một điểm. Vẫn gửi báo điểm mới?`, "Vẫn gửi báo điểm");
  }
  // Without signal the report joins the changes kept on the phone (sendOrKeep), with its key: shown waiting, on the map.
  async function sendReport(report, key) {
    const sent = await sendOrKeep(null, { path: "/api/hotspots", key, report, note: report.note, label: "Báo điểm mới",
      at: new Date().toISOString() });
    if (sent.answer) return sent.answer;
    document.getElementById("reports").open = true;
    map.setView([report.lat, report.lon], Math.max(map.getZoom(), 15));
    return null;
  }
  const tips = tipForm(map, async (hotspot) => {
    const p = hotspot.properties;
    const [lon, lat] = hotspot.geometry.coordinates;
    reportMarker({ ...p, lat, lon });  // shown at once, even if the list cannot be loaded again
    map.getContainer().scrollIntoView({ block: "nearest" });
    map.setView([lat, lon], Math.max(map.getZoom(), 15));
    await refreshAfterSave(`Đã báo điểm mới #${p.id}: ${cfg.reportStatusLabels[p.status]}`, loadReports,
      "bấm «Tải lại danh sách» để xem các điểm tổ đã báo");
  }, { mayReport, send: sendReport });
  // A tap beside a task's or a report's mark opens it (circleNear, common.js), unless it is picking a report's place.
  map.on("click", (e) => {
    if (tips.picking) return;
    circleNear(map, [markers, reported, pendingReports], e.containerPoint)?.openPopup();
  });
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

  // Why command sent work back, on the task's card (it was only in «Thông báo» and the folded history): the newest
  // notice of the return, from the notices the page holds (their read is recorded; the task list carries no notes).
  let noticed = [];
  function returnedWhy(task) {
    if (task.state !== "returned") return "";
    const back = noticed.find((e) => e.task_id === task.id && e.to_state === "returned" && e.note);
    return back ? `<p class="returned-why"><b>Ban chỉ huy trả lại</b> (${viDateTime(back.at)}): «${escapeHtml(back.note)}»</p>` : "";
  }

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
      <p><b class="state">${escapeHtml(task.state_label)}</b> · ${priorityWords(task.priority, cfg.priorityLabels)}</p>
      ${dueApplies(task.state) ? `<p>Hạn: ${viDate(task.due_date)}${late ? ` <span class="late">quá hạn ${VI_NUMBER.format(task.overdue_days)} ngày</span>` : ""}</p>` : ""}
      ${returnedWhy(task)}${place}${hotspot}`;
    // Command's steps, ticked off by the team while it works the task (not once the work is sent).
    const steps = checklistBox(task, dueApplies(task.state) ? (line, done) => tickLine(task, line, done) : null);
    if (steps) item.appendChild(steps);
    item.appendChild(actionBox(task, item));
    if (!finished(task)) item.appendChild(progressForm(task));
    item.appendChild(history(task));
    return item;
  }

  // A checklist line ticked, at the task's version, which it moves on for the buttons that follow. Without signal it
  // waits on the phone with the other changes, in order (a walk-through's ticks sprang back, «Không kết nối được», and
  // command read «0/2 đã xong» of work done); the card is drawn as it will be.
  async function tickLine(task, line, done) {
    const change = { taskId: task.id, path: `/api/tasks/${task.id}/checklist`, tick: { item: line, done },
      line: task.checklist[line].item, version: task.version, key: newKey(),
      label: `${done ? "Xong" : "Chưa xong"}: ${task.checklist[line].item}` };
    const sent = await sendOrKeep(task, change);
    if (sent.queued) { setTimeout(draw); return; }  // drawn again once the box has taken the tick
    task.version = sent.answer.version;
  }

  // A task as it will be once the changes waiting on the phone for it have gone, in order: the state its last move
  // reaches, the checklist with its ticks, the version after them (each move or tick moves it on by one, as the server
  // counts), and the moves the team may then make (cfg.teamTaskActions: the API's `actions` for that state). A member
  // without signal starts the work, ticks its steps and reports it done in one stretch, as Workforce allows; a change
  // the server refuses on the way (command changed the task meanwhile) is told, those after it too.
  function projected(task) {
    const mine = waiting.filter((change) => change.taskId === task.id && (change.to || change.tick));
    if (!mine.length) return task;
    const state = mine.filter((change) => change.to).at(-1)?.to ?? task.state;
    const checklist = (task.checklist || []).map((line) => ({ ...line }));
    for (const change of mine) if (change.tick && checklist[change.tick.item]) checklist[change.tick.item].done = change.tick.done;
    return { ...task, kept: true, state, state_label: cfg.taskLabels[state], checklist, version: mine.at(-1).version + 1,
      actions: cfg.teamTaskActions[state] || [], overdue_days: cfg.workDoneTaskStates.includes(state) ? 0 : task.overdue_days };
  }

  // The task's marker on the map, which its «Xem trên bản đồ» opens.
  function placeOnMap(task, item) {
    if (task.lat === null) return;
    const where = L.latLng(task.lat, task.lon);
    const colour = task.overdue_days > 0 ? cfg.teamColours.overdue : cfg.teamColours.task;
    const marker = L.circleMarker(where, { ...inPane("hotspots"), radius: 9, weight: 3, color: colour, fillOpacity: 0.3 })
      .bindPopup(`#${task.id} ${escapeHtml(task.kind_label)}: ${escapeHtml(task.state_label)}, hạn ${viDate(task.due_date)}`)
      .addTo(markers);
    item.querySelector(".show-on-map").onclick = () => {
      map.getContainer().scrollIntoView({ behavior: "smooth" });
      map.setView(where, Math.max(map.getZoom(), 15));
      marker.openPopup();
    };
  }

  // The transitions the team may make now; one that needs a note (declining) refuses to go without one.
  function actionBox(task, item) {
    const box = document.createElement("div");
    box.className = "actions";
    if (!task.actions.length) {
      box.textContent = task.state !== "completed" ? "Không có việc cần làm" : task.kept
        ? "Báo cáo hoàn thành đang chờ gửi trên máy: sẽ tự gửi khi có sóng, rồi chờ ban chỉ huy nghiệm thu"
        : "Đã báo hoàn thành: chờ ban chỉ huy nghiệm thu";
      return box;
    }
    const needing = task.actions.filter((a) => a.note_required).map((a) => cfg.taskActionLabels[a.to]);
    // Said to go with the buttons below it: beside «Ghi chú tiến độ, ảnh hiện trường» (a note of its own, sent with
    // or without a photo) a member could not tell which box to use.
    box.innerHTML = `<label class="note">Ghi chú gửi kèm nút bấm dưới đây (kết quả, lý do) <textarea data-draft="task-${task.id}-note" placeholder="${needing.length
      ? `Bắt buộc khi: ${escapeHtml(needing.join(", "))}` : "Không bắt buộc"}"></textarea></label>
      <input type="hidden" name="key">`;
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
    const field = box.querySelector("textarea");
    const note = field.value;
    if (action.note_required && !note.trim()) {
      notify(`«${cfg.taskActionLabels[action.to]}» cần ghi rõ lý do`, true);
      field.focus();
      return;
    }
    // Work sent for acceptance cannot be taken back, and «Báo cáo hoàn thành» sat beside «Tạm dừng»: with steps of
    // command's list not ticked off, a tap asks first (a walk-through's card had 1 of 4 done).
    const open = (task.checklist || []).filter((line) => !line.done).length;
    if (action.to === "completed" && open && !(await ask(`Còn ${VI_NUMBER.format(open)}/` +
        `${VI_NUMBER.format(task.checklist.length)} việc trong danh sách chưa đánh dấu xong. Vẫn báo hoàn thành?`,
      "Vẫn báo hoàn thành"))) return;
    const buttons = box.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    // Sent again unchanged (the answer was lost: the page's own retry, or a second tap), the task moves once. The key is
    // no draft: after a new login the list holds the task's new version, a new move.
    const key = box.querySelector("input[name=key]");
    const change = { taskId: task.id, path: `/api/tasks/${task.id}/transitions`, to: action.to, from: task.state, note,
      version: task.version, key: sendingKey(key, [task.id, action.to, note, task.version]),
      label: cfg.taskActionLabels[action.to] };
    let sent;
    try {
      sent = await sendOrKeep(task, change);
    } catch (error) {
      buttons.forEach((b) => { b.disabled = false; });
      // Tried again unchanged, the move carries the same key (the hidden field keeps it): done once.
      if (!(await outOfDate(error, CHANGED_MEANWHILE))) failed(error, () => move(task, action, item, box));
      return;
    }
    field.value = key.value = "";
    if (sent.queued) { draw(); return; }  // drawn as it will be, «Chờ gửi» on it, the next moves offered
    const moved = sent.answer;
    const label = cfg.taskLabels[moved.state] || moved.state;
    item.querySelector("b.state").textContent = label;  // as it is now, even if the list cannot be loaded again
    await refreshAfterSave(`Nhiệm vụ #${task.id}: ${label}`, () => loadTasks(), RELOAD_TO_SEE);
  }

  // Tasks with a change on the way (id → how many): drawn again meanwhile (another task's change reloads the list), such
  // a task keeps its element — its buttons disabled, its note, its chosen photo and the upload's progress — instead
  // of fresh buttons that would send it again.
  const sending = new Map();
  async function whileSending(task, send) {
    if (!task) return send();  // a new spot: no card to keep
    sending.set(task.id, (sending.get(task.id) || 0) + 1);
    try { return await send(); } finally {
      if (sending.get(task.id) > 1) sending.set(task.id, sending.get(task.id) - 1);
      else sending.delete(task.id);
    }
  }

  // A change as it is sent: its address, its Idempotency-Key, the note, a photo (a Blob and its name, the «keep GPS»
  // tick), a move (`to`, at the task's `version`) or a new spot (`report`, tipForm's), and what is shown while it waits.
  // A task's change kept on the phone carries when it was made (`madeAt`, sent as `made_at`): the server records it
  // beside the time it arrived, and work done on its due date without signal counts as done that day.
  function sendChange(change, onProgress = null) {
    const headers = { "Idempotency-Key": change.key };
    const made = change.madeAt && !change.report ? { made_at: change.madeAt } : {};
    if (change.photo) {
      const body = new FormData();
      body.append("photo", change.photo, change.photoName);
      body.append("note", change.note);
      body.append("keep_location", change.keepLocation ? "true" : "false");
      if (made.made_at) body.append("made_at", made.made_at);
      return api(change.path, { method: "POST", body, headers, onProgress });
    }
    const fields = change.report ?? (change.tick ? { version: change.version, ...change.tick }
      : change.to ? { to: change.to, note: change.note, version: change.version } : { note: change.note });
    return api(change.path, { method: "POST", headers, body: JSON.stringify({ ...fields, ...made }) });
  }

  // No signal (the phone says it is offline, or the request failed on the way): the change is kept on the phone
  // (changeQueue) and sent by itself when the signal is back — Workforce's «Lưu để gửi khi có sóng» —, instead of the
  // member staying on the page to tap «Thử lại». While changes wait, a new one waits behind them: they reach the
  // server in the order they were made. A request given up after its time (StalledError) is not kept: it may be on
  // its way still, and the page offers «Thử lại» with the same key. `{ answer }` when sent, `{ queued: true }` when kept.
  async function sendOrKeep(task, change, onProgress = null) {
    const kept = { ...change, madeAt: new Date().toISOString() };  // the moment of the tap, if it has to wait
    if (queue && (!navigator.onLine || waiting.length)) return keep(kept);
    try {
      return { answer: await whileSending(task, () => sendChange(change, onProgress)) };
    } catch (error) {
      if (!queue || !(error instanceof TypeError) || error instanceof StalledError) throw error;
      return keep(kept, error);
    }
  }
  async function keep(change, error = null) {
    try {
      await queue.add(change);
    } catch {  // the phone's storage full or refused: told as the failure it is, with «Thử lại»
      throw error ?? new TypeError("Không kết nối được máy chủ (mạng yếu hoặc mất sóng): hãy thử lại");
    }
    waiting = await queue.mine();
    notify(`${error ? "Không kết nối được máy chủ" : "Chưa có sóng"}: ${described(change)} — đã được lưu trên máy, sẽ tự `
      + "gửi khi có sóng", "warning");
    if (error) stalledFor(error);  // tried again later
    else flush();  // at once when only the changes before it were in the way
    return { queued: true };
  }

  // A change kept on the phone in a few words: «báo điểm mới «…»», «nhiệm vụ #12, thực hiện «…»».
  const described = (change) => (change.report ? `báo điểm mới «${change.note}»`
    : `nhiệm vụ #${change.taskId}, ${change.label.toLowerCase()}${change.note ? ` «${change.note}»` : ""}`);

  // Each card shows its changes waiting («Chờ gửi»), the bar how many in all; the card itself is drawn as the task will
  // be once they have gone (projected). The spots reported wait in their own list.
  // `state`: what the page is doing with them now («đang gửi…»); else why they could not go (stalledFor), kept while the
  // list is drawn again — after a round that sent some, it used to blank «chưa gửi được» over the ones left.
  const queueBar = document.getElementById("queue-bar");
  let stalled = "";
  function drawWaiting(state = "") {
    queueBar.hidden = !waiting.length;
    queueBar.querySelector(".queue-count").textContent = `${VI_NUMBER.format(waiting.length)} thay đổi chờ gửi`;
    queueBar.querySelector(".queue-state").textContent = state
      || (navigator.onLine ? stalled : "chưa có sóng, sẽ tự gửi khi có sóng");
    for (const item of list.querySelectorAll("article.task")) {
      item.querySelector("ul.waiting")?.remove();
      const mine = waiting.filter((change) => change.taskId === Number(item.dataset.taskId));
      if (!mine.length) continue;
      const shown = document.createElement("ul");
      shown.className = "waiting";
      shown.innerHTML = mine.map((change) => `<li><b>Chờ gửi</b>: ${escapeHtml(change.label)}`
        + `${change.note ? ` — «${escapeHtml(change.note)}»` : ""}</li>`).join("");
      item.querySelector("h3").after(shown);
    }
    drawPendingReports();
  }

  // The changes waiting, sent one at a time, oldest first. One the server refuses (the task taken away, cancelled or
  // moved meanwhile, out of the team's area, a note naming a person: any 4xx but an ended session or «too many») is
  // told with the server's reason and leaves the queue — sent again, it would be refused again, for ever. No signal,
  // or a server in trouble: they stay, tried again when the signal is back (`online`), when the page is shown again,
  // after QUEUE_RETRY_MS, or at once by «Gửi ngay» (`byHand`: a failure is then told). A session ended on the way: the
  // login form takes over, and the same user's page sends them once logged in again.
  const QUEUE_RETRY_MS = 30_000;
  // A change refused with 412 (the task changed since the list was drawn: command's change, another member's) is told
  // in these words, kept or sent at once: the server's own words («hãy tải lại rồi thử lại», for pages that do not
  // reload by themselves) ask for what this page has already done — the list is loaded again.
  const CHANGED_FIRST = "không gửi được vì nhiệm vụ đã được người khác thay đổi trước";
  const refusal = (error) => error.status >= 400 && error.status < 500 && ![401, 408, 429].includes(error.status);
  let flushing = null;
  let flushAgain = false;
  let retryTimer = null;
  function flush(byHand = false) {
    if (!queue) return Promise.resolve();
    if (flushing) { flushAgain = true; return flushing; }  // a change kept meanwhile is sent by the next round
    flushing = sendWaiting(byHand).finally(() => {
      flushing = null;
      if (flushAgain) { flushAgain = false; flush(); }
    });
    return flushing;
  }
  // The changes waiting could not go (`error`): said on the bar; with the phone online, tried again after a while.
  function stalledFor(error) {
    stalled = navigator.onLine ? `chưa gửi được (${failure(error)}), sẽ tự thử lại` : "";
    drawWaiting();
    clearTimeout(retryTimer);
    if (navigator.onLine) retryTimer = setTimeout(flush, QUEUE_RETRY_MS);
  }
  async function sendWaiting(byHand) {
    clearTimeout(retryTimer);
    let sent = 0;
    const refused = [];
    let stopped = null;
    let changedFirst = false;  // a change refused because the task changed first: the list reloaded shows it as it is
    let reportsWent = false;  // a spot reported went (stored or refused): the team's list of them is loaded again
    const diverged = new Set();  // tasks a change of which was refused on the way: their next moves are checked first
    for (;;) {
      const [next] = await queue.mine();
      if (!next) break;
      if (!navigator.onLine) { stopped = new TypeError("Chưa có sóng: các thay đổi sẽ tự gửi khi có sóng"); break; }
      drawWaiting("đang gửi…");
      try {
        await sendKept(next, diverged.has(next.taskId));
        sent += 1;
      } catch (error) {
        if (error.status === 401) return;
        if (!refusal(error)) { stopped = error; break; }
        refused.push(`${described(next)}: ${error.status === 412 ? CHANGED_FIRST : error.message}`);
        changedFirst ||= error.status === 412;
        if (next.taskId) diverged.add(next.taskId);
      }
      await queue.remove(next.id);
      reportsWent ||= Boolean(next.report);
    }
    waiting = await queue.mine();
    if (reportsWent) loadReports().catch(() => {});  // a failure is told in its own list
    if (stopped) stalledFor(stopped);
    else { stalled = ""; drawWaiting(); }
    if (stopped && byHand) notify(stopped.message, true);
    if (!sent && !refused.length) return;
    const done = sent ? `Đã gửi ${VI_NUMBER.format(sent)} thay đổi chờ gửi` : "";
    if (!refused.length) { await refreshAfterSave(done, () => loadTasks(), RELOAD_TO_SEE); return; }
    await reload();
    notify(`${done ? `${done}. ` : ""}Máy chủ không nhận ${VI_NUMBER.format(refused.length)} thay đổi (đã bỏ khỏi hàng `
      + `chờ): ${refused.join("; ")}${changedFirst ? ". Danh sách đã được tải lại theo trạng thái hiện tại" : ""}`, true);
  }

  // A kept move or tick refused as stale (412) — command moved the due date or the priority meanwhile, which moves the
  // task's version on — is sent again at the task's version now when the task still stands as the phone left it: a
  // move from the state it was made in, a tick of the same line. A walk-through's start was dropped so, and the
  // steps ticked after it, while the completion counted on from them went through: the task reported done with its
  // steps unticked, and no way left to tick them. After a change of a task was refused, its next moves and ticks are
  // checked so before they go (their versions, counted on from the refused one, could match the server's by chance).
  // A change kept by an earlier page (no `from`, no `line`) is not sent again.
  const stale = () => Object.assign(new Error(CHANGED_FIRST), { status: 412 });
  async function sendKept(change, checkFirst) {
    const versioned = Boolean(change.to || change.tick);
    if (versioned && checkFirst) return sendChange(await rebased(change));
    try {
      return await sendChange(change);
    } catch (error) {
      if (error.status !== 412 || !versioned) throw error;
      return sendChange(await rebased(change));
    }
  }
  async function rebased(change) {
    if (change.to ? change.from === undefined : change.line === undefined) throw stale();
    const task = await api(`/api/tasks/${change.taskId}`);
    const fits = change.to ? task.state === change.from : task.checklist?.[change.tick.item]?.item === change.line;
    if (!fits) throw stale();
    return { ...change, version: task.version };
  }

  // Refusals that mean the list is out of date: not found (taken away), refused from the state it is in, stale version.
  const CHANGED_MEANWHILE = [404, 409, 412];
  // A refusal of one of `statuses`: the task changed since the list was drawn (command's own change, another member's)
  // or is no longer the team's; the list is loaded again and the refusal told beside it, so that the team sees the task
  // as it is now (or the notice of its going) rather than buttons or a form that can only be refused again. Whether
  // the refusal was one of them.
  async function outOfDate(error, statuses) {
    if (!statuses.includes(error.status)) return false;
    const told = error.status === 412 ? CHANGED_FIRST[0].toUpperCase() + CHANGED_FIRST.slice(1) : error.message;
    if (await reload()) notify(`${told} — danh sách đã được tải lại, hãy xem trạng thái hiện tại`, true);
    return true;
  }

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
    const send = form.querySelector("button[type=submit]");
    form.onsubmit = async (event) => {
      event.preventDefault();
      const file = form.photo.files[0];
      const note = form.note.value.trim();
      if (!file && !note) { notify("Hãy viết ghi chú hoặc chọn ảnh", true); return; }
      // A photo the server would refuse is not sent for minutes first (the same limit, DIABAN_PHOTO_MAX_MB).
      if (file && cfg.photoMaxBytes && file.size > cfg.photoMaxBytes) {
        notify(`Ảnh quá lớn: ${megabytes(file.size, cfg.photoMaxBytes)}, tối đa ${megabytes(cfg.photoMaxBytes)} — hãy chọn ảnh khác `
          + "hoặc chụp lại với độ phân giải thấp hơn", true);
        return;
      }
      send.disabled = true;
      send.textContent = "Đang gửi…";
      // Sent again unchanged (the answer was lost, or the session ended on the way), the note is stored once.
      const key = sendingKey(form.key, [note, file && [file.name, file.size, file.lastModified], form.keep_location.checked]);
      const change = file
        ? { taskId: task.id, path: `/api/tasks/${task.id}/photos`, note, key, photo: file, photoName: file.name,
          keepLocation: form.keep_location.checked, label: "Ghi chú kèm ảnh" }
        : { taskId: task.id, path: `/api/tasks/${task.id}/comments`, note, key, label: "Ghi chú tiến độ" };
      const onProgress = (share) => { send.textContent = `Đang gửi ảnh… ${VI_PERCENT.format(Math.floor(share * 100) / 100)}`; };
      if (file && file.size >= 2 ** 20 && navigator.onLine) notify(`Đang gửi ảnh (${megabytes(file.size)}): mạng yếu có thể mất vài phút`);
      let sent;
      try {
        sent = await sendOrKeep(task, change, onProgress);
      } catch (error) {
        // A task taken away (404) or closed (409: cancelled, accepted, declined — it takes no more notes) meanwhile: the
        // list is out of date, loaded again beside the server's reason
        if (!(await outOfDate(error, [404, 409]))) failed(error, () => form.requestSubmit());  // same note, photo, key: once
        return;
      } finally {
        send.disabled = false;
        send.textContent = "Gửi ghi chú";
      }
      form.reset();  // the photo too: tapped again, «Gửi ghi chú» would send it as a new note
      form.key.value = "";
      if (sent.queued) return;  // kept on the phone, its card says it waits
      const done = !file ? `Đã gửi ghi chú cho nhiệm vụ #${task.id}` : `Đã gửi ghi chú kèm ảnh cho nhiệm vụ #${task.id}`
        + (sent.answer.had_location ? (sent.answer.location_kept ? " (giữ vị trí GPS)" : " (đã xóa vị trí GPS trong ảnh)") : "");
      await refreshAfterSave(done, () => loadTasks(task.id), RELOAD_TO_SEE);
    };
    return form;
  }

  // Notes, events and photos of a task, oldest first, loaded when opened.
  function history(task) {
    const details = document.createElement("details");
    details.className = "history";
    details.innerHTML = "<summary>Lịch sử, ghi chú và ảnh</summary><ol class=\"history\"><li>Đang tải…</li></ol>";
    const lines = details.querySelector("ol");
    async function load() {
      lines.innerHTML = "<li>Đang tải…</li>";
      try {
        const detail = await api(`/api/tasks/${task.id}`);
        const photos = {};
        for (const p of detail.photos) (photos[p.event_id] ||= []).push(p);
        lines.innerHTML = taskHistory(detail.events).map((e) => `<li>${eventText(e, cfg.eventLabels,
          cfg.taskLabels, e.from_state, e.to_state)}${evidencePhotos(task.id, photos[e.id])}</li>`).join("");
      } catch (error) {
        lines.innerHTML = "<li>Chưa tải được lịch sử.</li>";
        failed(error, load);
      }
    }
    details.addEventListener("toggle", () => { if (details.open) load(); });
    return details;
  }

  let shown = [];
  // Drawn again (after any change), the list keeps what is typed and not yet sent in every task (it used to lose a
  // note half written in one task when another was sent).
  function draw(openHistory = null) {
    markers.clearLayers();
    const visible = shown.map(projected).filter((task) => showFinished.checked || !finished(task));
    const typed = new Map([...list.querySelectorAll("[data-draft]")].filter((f) => f.value).map((f) => [f.dataset.draft, f]));
    // What the team had opened stays open: a form opened while the list reloads (after the team's own change) used to
    // fold shut under the finger — the tap that opened it was on the element the reload replaced.
    const place = (details) => `${details.closest("article.task")?.dataset.taskId}/${details.closest("form")?.className ?? details.className}`;
    const opened = new Set([...list.querySelectorAll("details[open]")].map(place));
    const drawn = (id) => list.querySelector(`article.task[data-task-id="${id}"]`);
    const refocus = focusKeeper(list);
    list.replaceChildren(...visible.map((task) => {
      const item = (sending.has(task.id) && drawn(task.id)) || keepProgress(taskItem(task), drawn(task.id));
      placeOnMap(task, item);
      return item;
    }));
    for (const field of list.querySelectorAll("[data-draft]")) {
      const before = typed.get(field.dataset.draft);
      if (!before) continue;
      field.value = before.value;
    }
    for (const details of list.querySelectorAll("details")) if (opened.has(place(details))) details.open = true;
    document.getElementById("task-count").textContent = `(${VI_NUMBER.format(visible.length)})`;
    if (!visible.length) list.textContent = "Tổ chưa có nhiệm vụ nào cần làm.";
    if (openHistory) list.querySelector(`article.task[data-task-id="${openHistory}"] details.history`)?.setAttribute("open", "");
    refocus();
    drawWaiting();
    fillScreen();
  }

  // A task drawn anew keeps the progress form the team was filling in its element before: the photo chosen and the
  // «keep GPS» tick go with its note (a script cannot choose a file again). A photo chosen before «Thực hiện» was
  // dropped when the start drew the list again, and the note kept beside it was sent without its evidence.
  function keepProgress(item, before) {
    const form = before?.querySelector("form.progress");
    if (form) item.querySelector("form.progress")?.replaceWith(form);
    return item;
  }

  // On a phone the map follows the list: when the list is short it reaches down to the bottom of the screen (no blank
  // band), when it is long it keeps 60 % of the screen. A height the stylesheet uses (--fill-height), not one of the
  // element's own: the printable sheet's map fills its frame (a height set on the element outweighed the sheet's).
  function fillScreen() {
    const container = map.getContainer();
    if (getComputedStyle(container).position !== "relative") return;
    const top = container.getBoundingClientRect().top + window.scrollY;
    container.style.setProperty("--fill-height", `${Math.max(0.6 * window.innerHeight, window.innerHeight - top)}px`);
    map.invalidateSize();
  }
  showFinished.addEventListener("change", () => draw());

  // After a change the team made (stored: refreshAfterSave), how to see the list as it is now if it could not load.
  const RELOAD_TO_SEE = "bấm «Tải lại danh sách» để xem danh sách mới";

  // The list loaded again (by «Tải lại danh sách», after a refusal); whether it was. A failure leaves the list as it
  // was and says so, with «Thử lại» when the network failed.
  async function reload() {
    try {
      await loadTasks();
      return true;
    } catch (error) {
      if (error.status !== 401) {
        notify(`Chưa tải được danh sách nhiệm vụ (${failure(error)}): bấm «Tải lại danh sách» để thử lại`, true,
          error instanceof TypeError ? loadList : null);
      }
      return false;
    }
  }

  async function loadTasks(openHistory = null) {
    const [mine] = await Promise.all([api("/api/tasks/mine?limit=500"), loadInbox()]);
    // Work to do first (soonest due), then work waiting for command, then finished work.
    const rank = (task) => (task.actions.length ? 0 : task.state === "completed" ? 1 : 2);
    shown = mine.tasks.sort((a, b) => rank(a) - rank(b));
    draw(openHistory);
  }

  // The team's notices, newest first: work given, its finished work accepted (it was never told) or sent back,
  // command's comments, and work taken away (given to another team: nothing more of it is the team's to read) or
  // cancelled, with command's reason; and what became of the spots its members reported (verified, dismissed with
  // command's reason, given to another team, merged; then eradicated, closed after monitoring, recurred). Those
  // since the last visit are marked new (tasks' and spots' events are numbered apart: one mark for each); a notice of a
  // task still the team's opens it in the list, one of a report still in the team's list opens it on the map.
  const seenKey = `diaban-inbox-seen-${cfg.username}`;
  const reportSeenKey = `diaban-report-notices-seen-${cfg.username}`;
  function reportNoticeText(n) {
    const spot = `Điểm #${n.hotspot_id} tổ báo`;
    if (n.status === "dismissed") return `<b>${spot} không xác minh được</b>${reasonText({ reason: n.note })}`;
    if (n.status === "assigned") return `<b>${spot} đã được giao cho tổ khác xử lý</b>`;
    if (n.status === "merged") return `<b>${spot} đã được gộp vào điểm #${n.merged_into}</b>`;
    if (n.status === "recurred") return `<b>${spot} ${cfg.recurredWords}</b>`;  // detection's note says only that
    const ended = { eradicated: "đã được triệt xóa", closed: "đã được loại khỏi danh sách sau thời gian theo dõi" }[n.status];
    if (ended) return `<b>${spot} ${ended}</b>${n.note ? ` — «${escapeHtml(n.note)}»` : ""}`;
    return `<b>${spot} đã được xác minh</b>${n.note ? ` — «${escapeHtml(n.note)}»` : ""}`;
  }
  function noticeText(e) {
    const task = `Nhiệm vụ #${e.task_id}`;
    const why = e.note ? ` — lý do: «${escapeHtml(e.note)}»` : "";
    if (e.taken_away) return `<b>${task} đã được giao cho tổ khác</b>${why}`;
    if (e.to_state === "canceled") return `<b>${task} đã bị hủy</b>${why}`;
    if (e.to_state === "returned") return `<b>${task} bị trả lại, cần làm tiếp</b>${why}`;
    if (e.to_state === "accepted") return `<b>${task} đã được nghiệm thu</b>${e.note ? ` — «${escapeHtml(e.note)}»` : ""}`;
    if (e.event === "comment") return `<b>${task}</b>: ghi chú mới — «${escapeHtml(e.note)}»`;
    return `<b>${task} được giao cho tổ</b>${e.note ? ` — «${escapeHtml(e.note)}»` : ""}`;
  }
  // The newest notice seen on this phone. On a first visit here (nothing kept yet: a new phone, storage cleared) what
  // came before the user's previous login counts as seen — every notice of months past read «mới» (cfg.previousLogin,
  // the start of the session before this one; none: everything is new, as when storage is refused).
  const seenOf = (key, notices) => {
    let kept;
    try { kept = localStorage.getItem(key); } catch { return 0; }
    if (kept !== null) return Number(kept) || 0;
    if (!cfg.previousLogin) return 0;
    const before = new Date(cfg.previousLogin);
    return Math.max(0, ...notices.filter((n) => new Date(n.at) <= before).map((n) => n.id));
  };
  const markSeen = (key, seen, notices) => {
    try { localStorage.setItem(key, String(Math.max(seen, ...notices.map((n) => n.id)))); } catch { /* none */ }
  };
  function noticeItem(n, seen, text, kind) {
    const item = document.createElement("li");
    if (n.id <= seen) item.className = "handled";
    item.innerHTML = `${text}<br><small><time>${viDateTime(n.at)}</time> · ${escapeHtml(n.actor)} · ${kind}</small>`;
    return item;
  }
  // Beside the task list, not before it: a failure is told at the top of the notices' own list, above those loaded
  // before (a notices request lost on a weak network left the tasks that had come undrawn, and «Đang tải…» in the
  // notices for ever).
  async function loadInbox() {
    const list = document.getElementById("inbox");
    let inbox;
    try {
      inbox = await api("/api/inbox?limit=20");
      noticed = inbox.events;
    } catch (error) {
      list.querySelector("li.none")?.remove();  // «Đang tải…», «Không có thông báo mới» or the failure before
      list.insertAdjacentHTML("afterbegin", `<li class="none">Chưa tải được thông báo (${escapeHtml(failure(error))}):
        bấm «Tải lại danh sách» để thử lại.</li>`);
      return;
    }
    const seen = seenOf(seenKey, inbox.events);  // storage refused: everything is new
    const reportSeen = seenOf(reportSeenKey, inbox.reports);
    const fresh = inbox.events.filter((e) => e.id > seen).length + inbox.reports.filter((n) => n.id > reportSeen).length;
    document.getElementById("inbox-count").textContent = fresh ? `${VI_NUMBER.format(fresh)} mới` : "";
    if (!inbox.events.length && !inbox.reports.length) {
      list.innerHTML = "<li class=\"none\">Không có thông báo mới.</li>";
      return;
    }
    const tasks = inbox.events.map((e) => {
      const item = noticeItem(e, seen, noticeText(e), escapeHtml(cfg.taskKindLabels[e.kind]));
      item.dataset.taskId = e.task_id;
      if (e.taken_away) item.classList.add("gone");
      else clickable(item, () => showTask(e.task_id));
      return { at: e.at, item };
    });
    const spots = inbox.reports.map((notice) => {
      const n = byDetectionRun(notice, cfg.detectionActor);  // a merge or a recurrence: by detection
      const item = noticeItem(n, reportSeen, reportNoticeText(n), "điểm tổ đã báo");
      item.dataset.hotspotId = n.hotspot_id;
      if (n.listed) clickable(item, () => showReport(n.hotspot_id));
      else item.classList.add("gone");
      return { at: n.at, item };
    });
    list.replaceChildren(...[...tasks, ...spots].sort((a, b) => Date.parse(b.at) - Date.parse(a.at)).map((n) => n.item));
    markSeen(seenKey, seen, inbox.events);
    markSeen(reportSeenKey, reportSeen, inbox.reports);
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

  // The first list: the page is ready once it is drawn (a draft kept through a new login or a tab the phone closed put
  // back in it; from then on the drafts are kept whenever the page is hidden). Offline or on a network too weak to load
  // it, the list says so and «Tải lại danh sách» asks again (it used to say «Đang tải…» for ever, and a reload of the
  // page offline shows only the browser's own error page).
  const again = document.getElementById("reload-tasks");
  async function loadList() {
    loadReports().catch(() => {});  // beside the task list, not before it; a failure is told in its own list
    again.disabled = true;
    again.textContent = "Đang tải…";
    const loaded = await reload();
    again.disabled = false;
    again.textContent = "Tải lại danh sách";
    if (!loaded && !shown.length) list.textContent = "Chưa tải được danh sách nhiệm vụ.";
    if (!loaded || document.body.dataset.ready) return;
    restoreDrafts();
    keepDraftsWhenHidden();
    document.body.dataset.ready = "true";
  }
  again.onclick = loadList;
  const outlined = outlineArea().catch((error) => notify(`Chưa tải được ranh giới xã, phường: ${error.message}`, true));
  // Changes another user left on this phone are not theirs to send: dropped, and said so.
  const dropped = queue ? await queue.dropOthers() : 0;
  waiting = queue ? await queue.mine() : [];
  // Kept fresh from the moment the list is there, not once the area's outline has come too: a page shown again while
  // the outline still loaded (a slow signal) was not loaded again (found by the suite, on a loaded machine).
  await Promise.all([loadList().then(() => { startSending(dropped); keepFresh(); }), outlined]);

  // The tasks and notices loaded again by the page itself: when it is shown again (the phone unlocked, the browser
  // brought back), when the signal is back, and every FRESH_MS while it is shown. It loaded them only when opened: a
  // task command cancelled stayed on a phone for hours with its buttons, and a progress note was sent on it. Cheap —
  // one team's list and its 20 newest notices, a few kB — so 3 minutes, not the 30 s of the changes waiting: command's
  // change reaches the phone within minutes, some 20 small requests an hour, none while hidden or without signal. A
  // failure says nothing (the next round tries again; «Tải lại danh sách» tells it); drafts, open forms and the focus
  // are kept by draw(). Not while the member types in the list (the field would be drawn again under the fingers, a
  // phone's word being composed cut short): the next round loads it, and a note sent meanwhile on a task closed
  // since is refused and the list loaded again (outOfDate).
  function keepFresh() {
    const FRESH_MS = 3 * 60_000;
    const refresh = () => {
      if (document.visibilityState !== "visible" || !navigator.onLine) return;
      if (list.contains(document.activeElement) && document.activeElement.matches("textarea, input")) return;
      loadTasks().catch(() => {});
      loadReports().catch(() => {});
    };
    window.addEventListener("online", refresh);
    document.addEventListener("visibilitychange", refresh);
    setInterval(refresh, FRESH_MS);
  }

  // The changes kept on the phone go when the signal is back, when the page is shown again, and now (kept in a tab
  // closed meanwhile, or before a new login); «Gửi ngay» sends them at once. Logging out asks first while some wait:
  // logged out, they are deleted from the phone.
  function startSending(dropped) {
    if (!queue) return;
    if (dropped) {
      notify(`Đã xóa ${VI_NUMBER.format(dropped)} thay đổi chưa gửi của người dùng khác trên máy này: chỉ người đã `
        + "làm thay đổi mới gửi được", "warning");
    }
    window.addEventListener("online", () => flush());
    window.addEventListener("offline", () => drawWaiting());
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") flush(); });
    queueBar.querySelector("button").onclick = () => flush(true);
    const logout = document.querySelector("header.bar form[action='/logout']");
    logout.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (waiting.length && !(await ask(`Còn ${VI_NUMBER.format(waiting.length)} thay đổi chưa gửi — đăng xuất sẽ xóa `
        + "chúng khỏi máy này. Vẫn đăng xuất?", "Đăng xuất, xóa thay đổi", "Ở lại"))) return;
      await queue.clear().catch(() => {});
      logout.submit();
    });
    drawWaiting();
    flush();
  }
};

// A size in bytes as MB written the Vietnamese way (gis.io.exports.vn_megabytes): "14,5 MB". `over`: a limit in bytes the
// size exceeds — rounded up where it would read as the limit («Ảnh quá lớn: 8 MB, tối đa 8 MB» for 8.02 MB).
function megabytes(bytes, over = null) {
  const tenths = (size) => Math.round((size / 2 ** 20) * 10);
  const shown = over !== null && tenths(bytes) <= tenths(over) ? Math.ceil((bytes / 2 ** 20) * 10) : tenths(bytes);
  return `${VI_NUMBER.format(shown / 10)} MB`;
}

// The changes a team member made while the phone had no signal, kept on the phone until they are sent: progress notes
// (a photo as a Blob), start and finish taps, new spots reported, each with the Idempotency-Key it was first sent with
// (a change whose first try reached the server is stored once). In IndexedDB, which holds a photo and outlives the tab
// (a phone closes it, the member closes it). The changes of `username` only: another user's are never sent, and they
// are dropped when someone else logs in on the phone (dropOthers; any other role's page deletes them all:
// diabanStart), as on logout (clear) — what they typed about their tasks is theirs.
// Resolves to null where the browser keeps nothing (IndexedDB refused: private mode): the page then offers «Thử lại».
async function changeQueue(username) {
  let db;
  try {
    db = await new Promise((resolve, reject) => {
      const opening = indexedDB.open(CHANGES_DB, 1);
      opening.onupgradeneeded = () => opening.result.createObjectStore("changes", { keyPath: "id", autoIncrement: true });
      opening.onsuccess = () => resolve(opening.result);
      opening.onerror = () => reject(opening.error);
    });
  } catch {
    return null;
  }
  // One transaction over the store: `work(store)` gives the request whose result the transaction resolves to.
  const within = (mode, work) => new Promise((resolve, reject) => {
    const transaction = db.transaction("changes", mode);
    const request = work(transaction.objectStore("changes"));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = transaction.onabort = () => reject(transaction.error);
  });
  const everyone = () => within("readonly", (store) => store.getAll());
  // Those of the users `whose` picks deleted, in one transaction; how many.
  async function drop(whose) {
    const gone = (await everyone()).filter((change) => whose(change.user));
    if (gone.length) await within("readwrite", (store) => { for (const change of gone) store.delete(change.id); });
    return gone.length;
  }
  return {
    // This user's changes, oldest first (the order they were made in: ids grow).
    mine: async () => (await everyone()).filter((change) => change.user === username),
    add: (change) => within("readwrite", (store) => store.add({ ...change, user: username })),
    remove: (id) => within("readwrite", (store) => store.delete(id)),
    clear: () => drop((user) => user === username),
    dropOthers: () => drop((user) => user !== username),
  };
}
