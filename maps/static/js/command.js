// Command page: heat surface of the view, incidents as vector tiles, hotspots by status, approved classes, Gi*
// and emerging cells; filters, month slider, KPIs; the registers of hotspots and tasks with the actions the API
// offers now (verify, open and assign a task, accept or return work, record eradication, monitor, close); the inbox.
"use strict";

// From this zoom on the incident tiles show single incidents (gis/store/tiles.py POINT_ZOOM): they can be clicked.
const INCIDENT_ZOOM = 15;

diabanPages.command = async function startCommand(map, cfg) {
  // The recurred state inside a sentence: its own label (models.vocabulary.RECURRED_WORDS), never another name for it.
  const { recurredWords } = cfg;
  const layers = {
    heat: L.layerGroup().addTo(map), incidents: L.layerGroup(), hotspots: L.layerGroup().addTo(map),
    classes: L.layerGroup(), gistar: L.layerGroup(), emerging: L.layerGroup(),
  };
  // The layer list in drawing order, bottom to top (the panes of common.js keep that order whatever is switched on).
  const titles = cfg.layerTitles;  // maps.help.COMMAND_LAYERS
  // Folded to its button on a phone, upright or on its side: unfolded over a landscape phone's 390 px it hid the zoom
  // buttons, the search box and most of the map.
  L.control.layers(null, Object.fromEntries(Object.entries(titles).map(([key, title]) => [title, layers[key]])),
    { collapsed: window.innerWidth < 760 || window.innerHeight < 500 }).addTo(map);
  const { names, features: units } = await communesLayer(map);
  const unitByCode = Object.fromEntries(units.map((f) => [f.properties.code, f]));
  searchControl(map, { open: {
    hotspot: (id) => { if (!map.hasLayer(layers.hotspots)) map.addLayer(layers.hotspots); markers[id]?.openPopup(); },
    task: async (id) => { document.getElementById("task-filters").reset(); showTab("tasks"); await loadTaskRegister(); taskRows.open(id); },
  }, found: (place) => nearTo({ ...place, label: `${place.label} (nơi vừa tìm)` }, false) });
  mapButtons(map, cfg);
  const tips = tipForm(map, showReported);
  // The legend follows the layers: a layer switched on opens its legend; the print sheet shows those on the map.
  const legendOf = (layer) => document.querySelector(`main.panel details.legend[data-layer=${layer}]`);
  map.on("overlayadd", (e) => {
    const key = Object.keys(layers).find((k) => layers[k] === e.layer);
    if (key && legendOf(key)) legendOf(key).open = true;
  });
  cfg.shownLayers = () => Object.keys(layers).filter((key) => map.hasLayer(layers[key]));
  cfg.printSubtitle = () => {
    // The communes' classes shown: of which year (the legend on paper said «Phân loại xã», no year).
    const classes = map.hasLayer(layers.classes) && cfg.approvedYear
      ? `; phân loại xã năm ${cfg.approvedYear} (đã phê duyệt)` : "";
    return `Ban chỉ huy — vụ việc ${period}; ${kindWords()}${classes}`;
  };
  // The density layer's legend on paper states how the surface drawn was computed (heatMethod, set by loadHeat).
  cfg.printLegendNote = (layer) => (layer === "heat" ? heatMethod : "");
  const communeByName = Object.fromEntries(Object.entries(names).map(([code, name]) => [name, code]));
  // The filter's suggestions in Vietnamese order (sort() alone put «Đặc khu …» after «Xã …»: code points).
  const inVietnameseOrder = Object.values(names).sort((a, b) => a.localeCompare(b, "vi"));
  document.getElementById("commune-names").replaceChildren(...inVietnameseOrder.map((name) => {
    const option = document.createElement("option");
    option.value = name;
    return option;
  }));

  const form = document.getElementById("filters");
  const slider = document.getElementById("month");
  const sliderLabel = document.getElementById("month-label");
  // The 24 months up to the latest incident (or today), oldest first; position 0 means "the typed dates".
  const last = cfg.lastIncident ? new Date(`${cfg.lastIncident}T00:00:00`) : new Date();
  const months = Array.from({ length: 24 }, (_, i) => new Date(last.getFullYear(), last.getMonth() - 23 + i, 1));
  slider.max = String(months.length);

  // Query string of the chosen kinds and period: one month of the slider, else the typed date range. The days shown
  // are named under the slider and on the printed sheet («từ 01/03/2026 đến 31/05/2026», «tháng 03/2026»): both said
  // «Theo khoảng ngày đã chọn», typed or not, and the paper did not say which incidents its density shows.
  let period = "";
  // The incident kinds chosen, in words: «loại vụ việc: tất cả», «loại vụ việc: Mua bán, Tàng trữ».
  function kindWords() {
    const kinds = [...form.querySelectorAll("input[name=kind]:checked")].map((i) => cfg.incidentKindLabels[i.value]);
    return `loại vụ việc: ${kinds.length ? kinds.join(", ") : "tất cả"}`;
  }
  function filters() {
    const params = new URLSearchParams();
    const kinds = [...form.querySelectorAll("input[name=kind]:checked")].map((i) => i.value);
    if (kinds.length) params.set("kind", kinds.join(","));
    const month = Number(slider.value);
    if (month > 0) {
      const start = months[month - 1];
      params.set("from", isoDay(start));
      params.set("to", isoDay(new Date(start.getFullYear(), start.getMonth() + 1, 0)));
      period = `tháng ${String(start.getMonth() + 1).padStart(2, "0")}/${start.getFullYear()}`;
    } else {
      for (const name of ["from", "to"]) {
        if (isoFromVi(form[name].value)) params.set(name, isoFromVi(form[name].value));
      }
      const [first, last] = ["from", "to"].map((name) => params.get(name));
      period = [first && `từ ${viDate(first)}`, last && `đến ${viDate(last)}`].filter(Boolean).join(" ")
        || "mọi ngày (chưa chọn khoảng ngày)";
    }
    sliderLabel.textContent = period[0].toUpperCase() + period.slice(1);
    return params;
  }

  // The heat surface of what is on screen, at the screen's resolution: cells of about two pixels (25 m doubled
  // up to 1.6 km) and a bandwidth of at least 200 m and one cell, over the view widened by a quarter on every side (no
  // edge effect) and snapped to a grid of 64 cells, so that nearby views share the server's cached answer.
  function heatQuery() {
    const metresPerPixel = 40075016.686 * Math.cos(map.getCenter().lat * Math.PI / 180) / 2 ** (map.getZoom() + 8);
    let cell = 25;
    while (cell < 2 * metresPerPixel && cell < 1600) cell *= 2;
    const sigma = Math.max(200, cell);
    const kernel = form.kernel.value;
    const bandwidth = kernel === "quartic" ? Math.round(sigma * cfg.quarticPerSigma) : sigma;
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
    params.set("kernel", kernel);
    return { params, cell, bandwidth, sigma, kernel };
  }

  const newestHeat = newestOnly();  // the map may move on before the surface comes
  // How the surface on the map was computed, for the printed sheet (a printed map is explained on paper, where no
  // tooltip is): «Cách tính mật độ», the choice of its select, the cell and the spread, the period and the kinds.
  let heatMethod = "";
  async function loadHeat() {
    const legend = document.getElementById("heat-legend");
    const { params, cell, bandwidth, sigma, kernel } = heatQuery();
    try {
      const overlay = await newestHeat(() => api(`/api/heat?format=overlay&${params}`));
      if (overlay === STALE) return;
      layers.heat.clearLayers();
      heatMethod = "";
      if (!overlay.image) {
        // A window after the newest incident is empty because no data reaches it yet, not because none happened.
        const after = cfg.lastIncident && params.get("from") > cfg.lastIncident;
        legend.textContent = "Không có vụ việc nào trong vùng và bộ lọc đã chọn" +
          (after ? `: dữ liệu vụ việc chỉ đến hết ngày ${viDate(cfg.lastIncident)}` : "");
        return;
      }
      // Lighter at street zoom, where the surface covers the whole view and the names and incidents must show.
      L.imageOverlay(overlay.image, overlay.bounds, { opacity: map.getZoom() >= INCIDENT_ZOOM ? 0.5 : 0.85, pane: "heat" }).addTo(layers.heat);
      document.getElementById("heat-high").textContent = `≥ ${VI_NUMBER.format(overlay.scale_top_per_km2)} vụ/km²`;
      // In words a commander reads: how far each incident is spread (the quartic search radius, or the Gaussian's
      // equivalent one); the kernel, σ and the cell in the line's tooltip and the help.
      const radius = kernel === "quartic" ? bandwidth : Math.round(sigma * cfg.quarticPerSigma);
      const spread = kernel === "quartic"
        ? `nhân bậc bốn kiểu ArcGIS, bán kính tìm kiếm r = ${VI_NUMBER.format(bandwidth)} m ` +
          `(≈ ${VI_RATIO.format(cfg.quarticPerSigma)}σ, σ = ${VI_NUMBER.format(sigma)} m)`
        : `nhân Gauss, σ = ${VI_NUMBER.format(sigma)} m (tương đương bán kính tìm kiếm bậc bốn kiểu ArcGIS ` +
          `≈ ${VI_RATIO.format(cfg.quarticPerSigma)}σ = ${VI_NUMBER.format(sigma * cfg.quarticPerSigma)} m)`;
      // The ramp's top and the spread follow the view (its incidents, its zoom's cell): said on the screen, or the
      // same street read «dày» at one zoom and pale at the next looked like a change in the data (on paper, which
      // nobody zooms, the figures stand for the sheet's map: app.css .screen-only).
      legend.textContent = `${VI_NUMBER.format(overlay.n_incidents)} vụ việc trong vùng; nơi dày nhất ` +
        `${VI_NUMBER.format(overlay.max_per_km2)} vụ/km²; mỗi vụ tính lan ra khoảng ${VI_NUMBER.format(radius)} m` +
        (overlay.without_point ? `; ${VI_NUMBER.format(overlay.without_point)} vụ việc không có tọa độ ` +
          "(xếp theo mã xã hoặc địa chỉ) không có trên bản đồ" : "");
      const follows = document.createElement("span");
      follows.className = "screen-only";
      follows.textContent = "; thang màu và độ lan tính lại khi kéo hay phóng bản đồ";
      legend.append(follows);
      legend.title = `Cách tính: ô ${VI_NUMBER.format(cell)} m; ${spread}`;
      const named = form.kernel.closest("label").firstChild.textContent.trim();  // the select's label, «Cách tính mật độ»
      heatMethod = `${named}: ${form.kernel.selectedOptions[0].textContent.toLowerCase()} — ${spread}; ô `
        + `${VI_NUMBER.format(cell)} m; vụ việc ${period}; ${kindWords()}`;
    } catch (error) {
      legend.textContent = error.message;
    }
  }

  // Incidents from the vector tiles: counts on a grid of a few pixels below street zoom, single incidents from it.
  function loadIncidents() {
    layers.incidents.clearLayers();
    L.vectorGrid.protobuf(`/tiles/incidents/{z}/{x}/{y}.mvt?${filters()}`, {
      rendererFactory: L.canvas.tile, interactive: false, maxNativeZoom: 18, pane: "incidents",
      fetchOptions: { credentials: "same-origin" },
      vectorTileLayerStyles: {
        incidents: (p) => ({
          // A cell is four pixels wide: one incident stays inside its cell, many grow with the square root.
          radius: p.count ? Math.min(8, 0.8 + 0.6 * Math.sqrt(p.count)) : 3, stroke: false, fill: true, fillOpacity: 0.6,
          fillColor: cfg.incidentColours[p.count ? "counted" : "single"],
        }),
      },
    }).addTo(layers.incidents);
  }

  // A tap beside a hotspot's disc opens it (circleNear, common.js). Else a click at street zoom opens the incidents
  // under the pointer (within 7 pixels, nearest first): reference, day, kind. Not through VectorGrid's own
  // interactivity: 1.3.0's click handler calls L.DomEvent.fakeStop, removed in Leaflet 1.8, and its point features
  // have no position for Leaflet 1.9's events (every click threw).
  map.on("click", async (e) => {
    if (tips.picking) return;
    const hotspot = circleNear(map, [layers.hotspots], e.containerPoint);
    if (hotspot) { hotspot.openPopup(); return; }
    if (!map.hasLayer(layers.incidents) || map.getZoom() < INCIDENT_ZOOM) return;
    const near = (dx, dy) => map.containerPointToLatLng(e.containerPoint.add([dx, dy]));
    const sw = near(-7, 7), ne = near(7, -7);
    const params = filters();
    params.set("bbox", [sw.lng, sw.lat, ne.lng, ne.lat].map((v) => v.toFixed(6)).join(","));
    params.set("limit", "50");
    try {
      const found = (await api(`/api/incidents?${params}`)).features.filter((f) => f.geometry);
      if (!found.length) return;
      const away = (f) => map.latLngToContainerPoint([f.geometry.coordinates[1], f.geometry.coordinates[0]])
        .distanceTo(e.containerPoint);
      found.sort((a, b) => away(a) - away(b));
      const lines = found.slice(0, 5).map(({ properties: p }) => `<p><b>Vụ việc ${escapeHtml(p.ref)}</b><br>` +
        `Ngày ${viDateTime(p.occurred_at)} · ${escapeHtml(cfg.incidentKindLabels[p.kind] || p.kind)}</p>`);
      const more = found.length > 5 ? `<p>và ${VI_NUMBER.format(found.length - 5)} vụ việc khác ngay cạnh</p>` : "";
      L.popup({ maxWidth: 300 }).setLatLng(e.latlng).setContent(`<div class="incident-popup">${lines.join("")}${more}</div>`)
        .openOn(map);
    } catch (error) { notify(error.message, true); }
  });

  // ----------------------------------------------------------------------------------------- hotspots on the map
  const markers = {};  // hotspot id → its marker (the registers fly to it)
  // Pixels: base + √(incidents) up to a cap (maps/styles.HOTSPOT_RADIUS), smaller below full_zoom so that circles
  // of a whole city seen on a phone do not cover one another.
  const hotspotRadius = (n) => {
    const r = cfg.hotspotRadius;
    const scale = Math.max(r.least, Math.min(1, 2 ** ((map.getZoom() - r.full_zoom) / 2)));
    return scale * (r.base + Math.min(r.cap, Math.sqrt(Math.max(1, n || 1))));
  };
  map.on("zoomend", () => layers.hotspots.eachLayer((group) => group.eachLayer?.((marker) =>
    marker.setRadius(hotspotRadius(marker.feature.properties.n_incidents)))));
  // A hotspot's popup opens clear of the controls over the map's top and bottom (the search box had hidden its commune
  // and its count of incidents, a phone's map buttons its actions), no wider than a phone's map, and scrolls inside
  // when the map is too short for it.
  function popupOptions() {
    const box = map.getContainer().getBoundingClientRect();
    const { top, bottom } = controlEdges(map);
    return { minWidth: Math.min(320, box.width - 70), maxWidth: Math.min(380, box.width - 70),
      autoPanPaddingTopLeft: L.point(10, top), autoPanPaddingBottomRight: L.point(10, bottom),
      maxHeight: Math.max(120, box.height - top - bottom - 50) };
  }
  // A phone's map is 46 % of its screen, its controls over its top and bottom: a hotspot's card had 120 px between
  // them, its buttons («Xác minh», «Loại bỏ», «Lịch sử») below the fold with no sign of them. While a card is open on
  // the map, the map takes most of the screen (app.css body.popup-room) and the card the room made, as tall as it fits.
  // Leaflet's pan that brings a card into view stops at the map's bounds (the city's, common.js): a hotspot near the
  // city's northern edge opened its card with the heading, status and commune above the screen (a phone, 390 × 844,
  // the city whole). The bounds are lifted while a card is open and set again when it closes.
  const phone = window.matchMedia("(max-width: 760px)");
  let openHotspot = null;  // the hotspot whose card the map shows (changed() opens it again)
  let openCard = null;  // its popup (laid out again when the card grows: refit)
  map.on("popupopen", (e) => {
    const card = e.popup.getElement()?.querySelector(".card");
    if (!card) return;
    openHotspot = card.dataset.hotspotId || null;
    openCard = e.popup;
    map.setMaxBounds(null);
    if (phone.matches) {
      document.body.classList.add("popup-room");
      map.invalidateSize({ pan: false });
      Object.assign(e.popup.options, popupOptions());
    }
    e.popup.update();
  });
  map.on("popupclose", (e) => {
    if (!e.popup.getElement()?.querySelector(".card")) return;
    openHotspot = null;
    openCard = null;
    if (document.body.classList.contains("popup-room")) {
      document.body.classList.remove("popup-room");
      map.invalidateSize({ pan: false });
    }
    map.setMaxBounds(cfg.maxBounds);
  });
  // GET /api/hotspots for the map and for the register: the two asking the same question in the same turn (the page's
  // load and every change ask for both, with the same empty filters until some are chosen) share one request — the
  // page asked the server twice for the same list. Only within the turn: a request made earlier may be older than a
  // change just stored.
  const hotspotsAsked = new Map();  // query → its answer on the way, this turn
  function askHotspots(params) {
    const query = String(params);
    if (!hotspotsAsked.has(query)) {
      hotspotsAsked.set(query, api(`/api/hotspots?${query}`));
      queueMicrotask(() => hotspotsAsked.delete(query));
    }
    return hotspotsAsked.get(query);
  }
  async function loadHotspots() {
    const hotspots = await askHotspots(filters());
    const popup = popupOptions();
    layers.hotspots.clearLayers();
    for (const key of Object.keys(markers)) delete markers[key];
    L.geoJSON(hotspots, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        ...inPane("hotspots"),
        radius: hotspotRadius(feature.properties.n_incidents),
        color: "#111827", weight: 1.5, fillColor: cfg.statusColours[feature.properties.status], fillOpacity: 0.9,
      }),
      onEachFeature: (feature, layer) => {
        markers[feature.properties.id] = layer;
        layer.bindPopup(() => hotspotCard(feature.properties), popup);
      },
    }).addTo(layers.hotspots);
    // The statuses no hotspot on the map has: left out of the printed legend (app.css), which listed all eleven.
    const present = new Set(hotspots.features.map((f) => f.properties.status));
    document.querySelectorAll("details.legend[data-layer=hotspots] .legend-row[data-key]")
      .forEach((row) => row.classList.toggle("absent", !present.has(row.dataset.key)));
    markSelection();
  }

  // ------------------------------------------------------------------------------------ acting on hotspots, tasks
  const communeName = (code) => names[code] || code || "—";
  // dueApplies (common.js): a card said «hạn …» of an accepted task.
  const dueText = (due, late) => (due ? `<span class="day">${viDate(due)}</span>` : "—") +
    (late > 0 ? ` <span class="late">quá hạn ${VI_NUMBER.format(late)} ngày</span>` : "");
  // Work sent back as done waits for command: said in the column it is sorted by (first by due date, below), with the
  // date it was due — a «—» there read as a row out of order, and on-time and late work could not be told apart.
  const dueCell = (state, due, late) => (state === "completed"
    ? `<em>chờ nghiệm thu</em>${due ? ` (hạn ${viDate(due)})` : ""}` : dueApplies(state) ? dueText(due, late) : "—");
  // By due date, work sent back as done («chờ nghiệm thu», waiting for command) comes first: its date no longer applies,
  // and its «—» listed it after the closed tasks, the one row asking for command's action last (a walk-through).
  const dueKey = (state, due) => (state === "completed" ? "0000-00-00" : dueApplies(state) ? due : null);
  const dueClause = (state, due, late) => (dueApplies(state) ? `; hạn ${dueText(due, late)}` : "");

  // After any change (stored): the map's colours, both registers, the KPIs and the inbox follow; if they cannot be
  // loaded, the change is told as saved, with a warning (refreshAfterSave). Whether they were loaded.
  // A change made in a hotspot's card on the map opens the card again as it now stands (if the hotspot is still on
  // the map): every step closed it, and taking a hotspot from «Phát hiện» to monitoring meant finding it four times.
  async function changed(message) {
    const reopen = openHotspot;
    map.closePopup();
    const loaded = await refreshAfterSave(message, () => Promise.all([loadHotspots(), loadHotspotRegister(true),
      loadTaskRegister(true), loadTaskKpis(), loadInbox()]), "tải lại trang để xem bản đồ và danh sách mới");
    if (loaded && reopen) markers[reopen]?.openPopup();
    return loaded;
  }

  // Changes on their way, by what they change (`hotspot-3`, `task-7`): every card of that hotspot or task on the page
  // — drawn again meanwhile (the register sorted, loaded again after another change), in a popup — has its buttons
  // disabled until the change is stored and the page loaded again after it, or refused. Drawn afresh, a card had them
  // enabled: a second click sent the change twice, the second refused as «đã thay đổi».
  const sending = onTheirWay(() => document.querySelectorAll(".card[data-changes]").forEach(showSending));
  const changeKey = (kind, id) => `${kind}-${id}`;
  function showSending(card) {
    const busy = card.dataset.changes.split(" ").some((key) => sending.has(key));
    card.querySelectorAll("button").forEach((button) => { button.disabled = busy; });
  }
  // A card of a hotspot and its task, or of a task and its hotspot (a change of one may change what the other allows).
  function guarded(card, hotspotId, taskId) {
    card.dataset.changes = [hotspotId && changeKey("hotspot", hotspotId), taskId && changeKey("task", taskId)]
      .filter(Boolean).join(" ");
    showSending(card);
    return card;
  }

  // A note field (`keep`: its name in the card, kept when the card is drawn again) and one button per action; an
  // action that needs a note refuses to go without one. With `comment`, the note may also go to the team alone (no
  // change of state): it reads it in its notices. `run(to, note, key)` and `comment(note, key)` send (a change of
  // `changes`: a changeKey) with an Idempotency-Key, and answer what was stored. The key stays the same while the same
  // change is sent again (common.js sendingKey, kept with the card's note): a commander's network dropping after the
  // server stored an acceptance or a note, «Thử lại» was refused as «đã thay đổi» (the move) or stored the note twice.
  // `asks(to)`, if given: a question before a move (true: go on), as a team's phone asks before reporting work done.
  function actionBox(keep, changes, actions, labels, run, comment = null, asks = null) {
    const box = document.createElement("div");
    box.className = "actions";
    if (!actions.length && !comment) return box;
    const needing = actions.filter((a) => a.note_required).map((a) => labels[a.to] || a.to);
    const note = document.createElement("textarea");
    note.placeholder = needing.length ? `Ghi chú — bắt buộc khi: ${needing.join(", ")}` : "Ghi chú (không bắt buộc)";
    note.setAttribute("aria-label", "Ghi chú");
    note.dataset.keep = keep;
    const key = keyField(`${keep}-key`);
    box.append(note, key);
    // Once stored, the note and its key are emptied (not a draft for the card drawn again to keep) and the page follows.
    const send = (what, request, retry) => sending.during(changes, async () => {
      let done;
      try { done = await request(sendingKey(key, [changes, what, note.value])); } catch (error) { failed(error, retry); return; }
      note.value = "";
      key.value = "";
      await changed(done);
    });
    for (const action of actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = labels[action.to] || action.to;
      button.dataset.action = action.to;
      if (action.note_required) button.classList.add("needs-note");
      button.onclick = async function act() {
        if (action.note_required && !note.value.trim()) {
          notify(`«${button.textContent}» cần ghi chú: hãy nhập vào ô ghi chú`, true);
          note.focus();
          return;
        }
        if (asks && !(await asks(action.to))) return;
        send(action.to, (sent) => run(action.to, note.value, sent), act);
      };
      box.appendChild(button);
    }
    if (comment) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Gửi ghi chú cho tổ";
      button.className = "comment";
      button.onclick = function act() {
        if (!note.value.trim()) { notify("Hãy viết ghi chú gửi tổ vào ô ghi chú", true); note.focus(); return; }
        send("comment", (sent) => comment(note.value.trim(), sent), act);
      };
      box.appendChild(button);
    }
    return box;
  }

  // The hidden field keeping the Idempotency-Key of a card's change (common.js sendingKey), under `keep` in the card.
  function keyField(keep) {
    const field = document.createElement("input");
    field.type = "hidden";
    field.name = "key";
    field.dataset.keep = keep;
    return field;
  }
  // A change sent with its Idempotency-Key (the server answers a repeat with what it stored the first time).
  const keyed = (key, body) => ({ method: "POST", headers: { "Idempotency-Key": key }, body: JSON.stringify(body) });

  // A change of a hotspot or a task sent; what was stored, in words.
  async function moveHotspot(p, to, note, key) {
    await api(`/api/hotspots/${p.id}/transitions`, keyed(key, { to, note, version: p.version }));
    return `Điểm nóng #${p.id}: ${cfg.statusLabels[to]}`;
  }

  async function moveTask(taskId, version, to, note, key) {
    const moved = await api(`/api/tasks/${taskId}/transitions`, keyed(key, { to, note, version }));
    const hotspot = moved.hotspot_status ? `; điểm nóng: ${cfg.statusLabels[moved.hotspot_status]}` : "";
    return `Nhiệm vụ #${taskId}: ${cfg.taskLabels[to]}${hotspot}`;
  }

  // Accepting work whose checklist the team did not tick off whole is asked first (a walk-through accepted «0/2 đã
  // xong» unwarned; the team's phone asks before reporting it done): the steps may be done and unticked, or not done.
  // Asked from the task's card (its checklist) and from its hotspot's card (the API's task_steps, task_steps_open).
  function acceptAsked(taskId, open, total, to) {
    if (to !== "accepted" || !open) return true;
    return ask(`Tổ còn ${VI_NUMBER.format(open)}/${VI_NUMBER.format(total)} việc trong danh sách chưa đánh ` +
      `dấu xong. Vẫn nghiệm thu nhiệm vụ #${taskId}?`, "Vẫn nghiệm thu");
  }
  const openSteps = (t) => (t.checklist || []).filter((line) => !line.done).length;

  // While a team holds a task (not yet accepted, cancelled or declined), command may write to it: the sender of
  // a note for the team (answering what was stored), or null.
  const commentTo = (taskId, team, state) => (team && !cfg.closedTaskStates.includes(state) ? async (note, key) => {
    await api(`/api/tasks/${taskId}/comments`, keyed(key, { note }));
    return `Đã gửi ghi chú cho ${team} (nhiệm vụ #${taskId})`;
  } : null);

  // A task its team still holds in a commune outside the team's area today (the API's outside_team_area): an
  // administrator moved the commune to another team's area after the task was given, or command gave the task to a
  // team outside its area. Either way the holding team still sees and works it (scoping.py: a team sees the tasks
  // given to it) and the commune's own team does not; which of the two happened the API does not say, so neither is
  // claimed. Marked in both registers and both cards; before work starts the card's reassignment offers the
  // commune's team now first (the suggestion is the teams covering the commune today, the holder left out).
  const OUTSIDE_AREA = "ngoài địa bàn hiện tại của tổ";
  const outsideMark = (outside) => (outside ? `<br><small class="outside-area">${OUTSIDE_AREA}</small>` : "");
  const outsideNote = (outside, reassign) => (!outside ? "" : `<p class="next outside-area">Xã/phường này nằm ${OUTSIDE_AREA}` +
    " (nhiệm vụ được giao cho tổ ngoài địa bàn, hoặc xã/phường đã chuyển sang địa bàn tổ khác sau khi giao): tổ vẫn" +
    ` thấy và làm được nhiệm vụ, tổ phụ trách xã/phường thì không thấy; ${reassign
      ? "cần thì giao lại cho tổ đang phụ trách địa bàn" : "việc đang làm dở, không giao lại được; tổ làm tiếp hoặc hủy nhiệm vụ"}</p>`);
  const reassignLabel = (outside) => (outside ? "Giao lại cho tổ đang phụ trách địa bàn…" : "Giao lại cho tổ khác…");

  // A task its team holds with no active member left (the API's team_unstaffed: its last member deactivated or moved):
  // nobody can work it. Said on both cards, and the reassignment offered even for work under way (the server allows
  // it then, the task keeping its state): the card offered only «Hủy nhiệm vụ», the administrator having been told
  // that command would give the work to another team.
  const UNSTAFFED = "tổ không còn ai hoạt động";
  const unstaffedNote = (unstaffed, team) => (!unstaffed ? "" : `<p class="next outside-area">${escapeHtml(team || "")}: ` +
    `${UNSTAFFED}, không ai làm được nhiệm vụ này — hãy giao cho tổ khác (tổ mới làm tiếp từ trạng thái hiện tại)</p>`);
  // The reassignment a card offers: before work starts, or whenever the holding team has nobody active.
  const reassignable = (state, unstaffed) => state === "assigned" || unstaffed;
  // A team offered in a choice: its open tasks (a suggestion; `open_tasks` undefined for a team outside the area), or
  // that nobody in it is active — the server lists such a team last; giving it work is asked first (unstaffedAsked).
  const teamChoice = (id, name, activeMembers, openTasks) => `<option value="${id}"` +
    `${activeMembers ? "" : ' data-unstaffed="true"'}>${escapeHtml(name)}${!activeMembers ? ` — ${UNSTAFFED}`
      : openTasks === undefined ? "" : ` — ${VI_NUMBER.format(openTasks)} việc`}</option>`;
  const unstaffedAsked = (select) => (!select.selectedOptions[0]?.dataset.unstaffed ? true
    : ask(`${select.selectedOptions[0].textContent}: không ai làm được nhiệm vụ cho đến khi quản trị viên thêm người ` +
      "vào tổ. Vẫn giao cho tổ này?", "Vẫn giao"));

  // What command sees and may do with a hotspot: the same card in the popup and in the register.
  function hotspotCard(p) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.hotspotId = p.id;
    const task = p.task_id ? `<p>Nhiệm vụ #${p.task_id}: <b>${escapeHtml(cfg.taskLabels[p.task_state])}</b>` +
      `${p.task_team ? " — " + escapeHtml(p.task_team) : ""}${dueClause(p.task_state, p.task_due_date, p.task_overdue_days)}` +
      `${p.task_steps ? `; danh sách việc: ${VI_NUMBER.format(p.task_steps - p.task_steps_open)}/` +
        `${VI_NUMBER.format(p.task_steps)} đã xong` : ""}</p>`
      : "<p>Chưa có nhiệm vụ</p>";
    const monitoring = p.monitoring_since ? `<p>Giữ sạch, theo dõi từ ${viDate(p.monitoring_since)}` +
      (p.incident_since_monitoring ? ` — <span class="late">đã có vụ việc trong phạm vi</span>` : " — chưa có vụ việc") +
      "</p>" : "";
    // What still keeps it from being closed, as the API says it: the monitoring period running until a date, an incident.
    const waits = p.closing_waits.length
      ? `<p class="next">Chưa loại khỏi danh sách được: ${p.closing_waits.map(escapeHtml).join("; ")}</p>` : "";
    // Where the eradication (or the start of monitoring) is offered, what follows: nothing said it before the
    // period was under way. The period is the lifecycle's own (cfg.monitoringDays, DIABAN_MONITORING_DAYS).
    // Both steps named while the first is still to take: the button it spoke of is offered only after it.
    const eradicating = p.actions.some((a) => a.to === "eradicated");
    const keepClean = eradicating || p.actions.some((a) => a.to === "monitoring")
      ? `<p class="next keep-clean">Tiếp theo: ${eradicating ? `«${escapeHtml(cfg.hotspotActionLabels.eradicated)}», rồi ` : ""}` +
        `giữ sạch, theo dõi ${VI_NUMBER.format(cfg.monitoringDays)} ngày từ khi bấm ` +
        `«${escapeHtml(cfg.hotspotActionLabels.monitoring)}»; không có vụ việc mới trong phạm vi thì được loại khỏi danh sách</p>`
      : "";
    // A spot reported by hand has no incident yet: said so, not «0 vụ việc; lần đầu —, gần nhất —».
    const incidents = p.n_incidents ? `${VI_NUMBER.format(p.n_incidents)} vụ việc; lần đầu ${viDate(p.first_seen)}, ` +
      `gần nhất ${viDate(p.last_seen)}` : "chưa có vụ việc nào gắn với điểm (điểm nhập tay từ tin báo)";
    // The kind under its own heading word: «Điểm nóng #1 — Điểm» read as the same word twice for a spot.
    card.innerHTML = `<h3>Điểm nóng #${p.id} <span class="kind">(loại: ${escapeHtml(cfg.hotspotKindLabels[p.kind] || p.kind)})</span></h3>
      <p><i class="swatch dot ${cfg.swatchClasses.status[p.status]}"></i>
        <b class="status">${escapeHtml(cfg.statusLabels[p.status] || p.status)}</b></p>
      <p>${escapeHtml(communeName(p.commune_code))}${p.distance_m === null || p.distance_m === undefined ? ""
        : ` (${away(p.distance_m)})`}; ${incidents}</p>
      <p class="hint">Vào sổ ${viDateTime(p.created_at)}${p.recurred_at ? `; ${recurredWords} ${viDate(p.recurred_at)}` : ""}</p>
      ${p.note ? `<p class="note">Ghi chú: «${escapeHtml(p.note)}»</p>` : ""}${task}` +
      `${outsideNote(p.task_outside_team_area, reassignable(p.task_state, p.task_team_unstaffed))}${unstaffedNote(p.task_team_unstaffed, p.task_team)}` +
      `${monitoring}${waits}${keepClean}`;
    card.appendChild(actionBox("hotspot-note", changeKey("hotspot", p.id), p.actions, cfg.hotspotActionLabels,
      (to, note, key) => moveHotspot(p, to, note, key)));
    if (p.task_state === "completed") card.appendChild(workReport(p.task_id));
    card.appendChild(actionBox("task-note", changeKey("task", p.task_id), p.task_actions, cfg.taskActionLabels,
      (to, note, key) => moveTask(p.task_id, p.task_version, to, note, key), commentTo(p.task_id, p.task_team, p.task_state),
      (to) => acceptAsked(p.task_id, p.task_steps_open, p.task_steps, to)));
    // A new task, a first one even after a cancelled or declined one: no team holds it (the hotspot still names the
    // closed task's team, which the form had taken for the holder: «Giao lại», that team left out of the choice).
    if (p.may_open_task) {
      card.appendChild(assignFold("Giao nhiệm vụ đấu tranh, triệt xóa…", { ...p, task_team: null, task_team_id: null }, null));
    }
    if (p.task_state === "unassigned") card.appendChild(assignFold("Giao cho tổ công tác…", p, p.task_id));
    if (reassignable(p.task_state, p.task_team_unstaffed)) {
      card.appendChild(assignFold(reassignLabel(p.task_outside_team_area), p, p.task_id));
    }
    // Its task's due date moved here too: the card said «quá hạn 5 ngày» and only the task's own card offered a change.
    if (p.task_id && dueApplies(p.task_state)) {
      card.appendChild(dueFold({ id: p.task_id, version: p.task_version, due_date: p.task_due_date }));
    }
    card.appendChild(historyToggle(() => hotspotHistory(p)));
    // A fold opened on the map (a task given, a due date moved; toggle does not bubble, it is caught on the way down)
    // grew the card under the search box and the layers, its title and «×» hidden.
    card.addEventListener("toggle", () => refit(card), true);
    return guarded(card, p.id, p.task_id);
  }

  // A card on the map grown after it opened (its history, the team's report loaded): the popup grows upwards from its
  // hotspot, its heading and status slid under the map's buttons. Laid out again (its maxHeight: it scrolls inside
  // when taller than the room) and panned into view as opening does — Leaflet 1.9.4's own steps of update() without
  // its first, which draws the content again (the card anew, its history folded).
  function refit(element) {
    if (!openCard || !element.closest(".leaflet-popup")) return;
    openCard._updateLayout();
    openCard._updatePosition();
    openCard._adjustPan();
  }

  // Work reported done, where command accepts or returns it: the team's report (when, who, its note) and the photos
  // sent since the work last came back, loaded with the task. Command had to open «Lịch sử» to see what it decided on.
  function workReport(taskId) {
    const box = document.createElement("div");
    box.className = "work-report";
    box.innerHTML = '<p class="hint">Đang tải báo cáo của tổ…</p>';
    api(`/api/tasks/${taskId}`).then((task) => {
      const done = task.events.findLast((e) => e.event === "transition" && e.to_state === "completed");
      if (!done) { box.remove(); return; }
      const since = task.events.findLast((e) => e.event === "transition" && e.to_state === "returned")?.id ?? 0;
      const photos = task.photos.filter((photo) => photo.event_id > since);
      box.innerHTML = `<p class="note"><b>Tổ báo hoàn thành</b> ${viDateTime(whenMade(done))} ` +
        `(${escapeHtml(done.actor)})${done.note ? `: «${escapeHtml(done.note)}»` : ", không ghi chú"}</p>` +
        (photos.length ? `<p class="evidence-photos">${evidencePhotos(taskId, photos)}</p>`
          : '<p class="hint">Không có ảnh hiện trường kèm theo.</p>');
      box.querySelectorAll("img").forEach((img) => img.addEventListener("load", () => refit(box), { once: true }));
      refit(box);
    }).catch(() => { box.innerHTML = '<p class="hint">Chưa tải được báo cáo của tổ: xem trong «Lịch sử».</p>'; });
    return box;
  }

  // A history, loaded when opened: lines of {at, text}, oldest first.
  function historyToggle(load) {
    const details = document.createElement("details");
    details.dataset.keep = "history";  // opened, it stays open when the card is drawn again
    details.innerHTML = "<summary>Lịch sử</summary><ol class=\"history\"><li>Đang tải…</li></ol>";
    const list = details.querySelector("ol");
    async function show() {
      list.innerHTML = "<li>Đang tải…</li>";
      try {
        const lines = (await load()).sort((a, b) => new Date(a.at) - new Date(b.at));
        list.innerHTML = lines.map((l) => `<li>${l.text}</li>`).join("");
        refit(details);
      } catch (error) {
        list.innerHTML = "<li>Chưa tải được lịch sử.</li>";
        failed(error, show);
      }
    }
    details.addEventListener("toggle", () => { if (details.open) show(); });
    return details;
  }

  // A task's events with the photos the team sent with its notes (the evidence command accepts or returns).
  const taskLines = (task) => taskHistory(task.events).map((e) => ({
    at: e.at, text: `Nhiệm vụ #${task.id}: ${eventText(e, cfg.eventLabels, cfg.taskLabels, e.from_state, e.to_state)}` +
      evidencePhotos(task.id, task.photos.filter((p) => p.event_id === e.id)),
  }));

  const byRun = (e) => byDetectionRun(e, cfg.detectionActor);

  // A hotspot's own history and that of every task it had, interleaved: a hotspot given again after a recurrence (or a
  // decline) lost the first task's work and its acceptance when only the newest task was read.
  async function hotspotHistory(p) {
    const [own, listed] = await Promise.all([api(`/api/hotspots/${p.id}`),
      p.task_id ? api(`/api/tasks?hotspot=${p.id}&kind=suppression&limit=1000`) : { tasks: [] }]);
    const tasks = await Promise.all(listed.tasks.map((t) => api(`/api/tasks/${t.id}`)));
    return [
      ...own.properties.events.map(byRun).map((e) => ({
        at: e.at, text: eventText(e, cfg.eventLabels, cfg.statusLabels, e.from_status, e.to_status),
      })),
      ...tasks.flatMap(taskLines),
    ];
  }

  // Giving a hotspot a task (`taskId` null), with its due date, priority (high unless command says otherwise: every
  // task read «ưu tiên cao», which told a team nothing) and steps, or a task to a team, or to another: a fold whose form offers the teams
  // covering the hotspot (or, for a task without one, its commune), least loaded (the suggestion) first, asked each
  // time it opens; command confirms or picks another. Opened, with its team chosen and its reason typed, it stays so
  // when the card is drawn again (data-keep: it used to go back to a plain button). `p`: a hotspot, or {id: its
  // hotspot, commune_code, task_version, task_team, task_team_id}.
  function assignFold(label, p, taskId) {
    const fold = document.createElement("details");
    fold.className = "assign";
    // Kept apart when the card is drawn again (common.js putBack): a reassignment's team, chosen among the others,
    // was carried into the new task's form after a cancel, a team outside the area chosen over the suggestion.
    const kind = p.task_team ? "reassign" : "assign";
    fold.dataset.keep = kind;
    const due = new Date(Date.now() + 30 * 86400000);
    fold.innerHTML = `<summary class="assign-open">${escapeHtml(label)}</summary><form class="assign">
      <label>Tổ công tác<span class="suggest-hint"></span> <select name="team" data-keep="${kind}-team" disabled></select></label>
      ${taskId ? "" : `<label>Hạn ${dayInput("due", due, "assign-due")}</label>
      <label>Mức ưu tiên <select name="priority" data-keep="assign-priority">${Object.entries(cfg.priorityLabels)
        .map(([code, label]) => `<option value="${code}"${code === "high" ? " selected" : ""}>${escapeHtml(label)}</option>`)
        .join("")}</select></label>
      <label>Danh sách việc cho tổ (mỗi dòng một việc, không bắt buộc; tổ đánh dấu khi làm xong)
        <textarea name="steps" rows="3" maxlength="20000" data-keep="assign-steps"></textarea></label>`}
      ${p.task_team ? `<label>Lý do giao lại (tổ đang giữ sẽ được báo) <input name="note" maxlength="4000" data-keep="${kind}-note"></label>` : ""}
      <button type="submit">${p.task_team ? "Giao lại" : "Giao nhiệm vụ"}</button></form>`;
    const form = fold.querySelector("form");
    form.append(keyField(`${kind}-key`));
    fold.addEventListener("toggle", () => { if (fold.open) offerTeams(p, form.team); });
    form.onsubmit = (event) => { event.preventDefault(); assign(p, taskId, fold); };
    return fold;
  }

  // The teams a task may go to, in the form's choice: the one chosen before (or kept for it when the card was drawn
  // again: common.js putBack, data-kept) chosen again if it is still offered.
  async function offerTeams(p, select) {
    const chosen = select.value || select.dataset.kept;
    const say = (words) => { select.innerHTML = `<option value="">${words}</option>`; };
    if (chosen) select.dataset.kept = chosen;  // kept while the teams are asked for
    select.disabled = true;
    say("Đang tìm tổ phụ trách…");
    try {
      const place = p.id ? `hotspot_id=${p.id}` : `commune=${encodeURIComponent(p.commune_code)}`;
      const suggestion = await api(`/api/tasks/suggest-assignee?${place}`);
      // The area's teams first, then any other: a reassignment goes to another team (the area's may be the one), and
      // a new task too may go to a neighbouring team when the area's is busy (only the area's were offered).
      // Told apart by id: a name read when the page opened may be a renamed team's old one.
      const holder = p.task_team_id;
      const candidates = p.task_team ? suggestion.candidates.filter((c) => c.team_id !== holder) : suggestion.candidates;
      const others = allTeams.filter((t) => t.id !== holder && !candidates.some((c) => c.team_id === t.id));
      if (!candidates.length && !others.length) { say("Không có tổ công tác nào phụ trách địa bàn này"); return; }
      // The suggestion (least open tasks first, each team's count shown) is promised only where there is one: the
      // teams outside the area come with no count, in their own group.
      select.closest("label").querySelector(".suggest-hint").textContent =
        candidates.length ? " (gợi ý: ít việc đang mở nhất)" : "";
      // A team without an active member comes last, said so (the server sorts it there): nobody would work the task.
      const suggested = candidates.map((c) => teamChoice(c.team_id, c.name, c.active_members, c.open_tasks)).join("");
      select.innerHTML = (others.length && candidates.length ? `<optgroup label="Tổ phụ trách địa bàn">${suggested}</optgroup>`
        : suggested) + (others.length ? `<optgroup label="Tổ ngoài địa bàn">${others.map((t) =>
          teamChoice(t.id, t.name, t.active_members)).join("")}</optgroup>` : "");
      select.disabled = false;
      if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
      delete select.dataset.kept;
    } catch (error) {
      say("Chưa tải được danh sách tổ");
      failed(error, () => offerTeams(p, select));
    }
  }

  // A due date already past makes the task overdue the moment it is stored: asked first (work recorded after the
  // fact may need one), where it had been taken unsaid («quá hạn 5 ngày» on the team's phone at once).
  async function dueConfirmed(due) {
    if (!due || due >= isoDay(localToday())) return true;
    return ask(`Hạn ${viDate(due)} đã qua: nhiệm vụ sẽ quá hạn ngay. Vẫn lưu hạn này?`, "Lưu hạn này");
  }

  // Command moves a task's due date (or clears it) while its team owes the work: a fold under the card, the date
  // typed dd/mm/yyyy; sent at the task's version (412: changed meanwhile, the page says reload). No page could before.
  function dueFold(t) {
    const fold = document.createElement("details");
    fold.className = "due-change";
    fold.dataset.keep = "due";
    fold.innerHTML = `<summary>Đổi hạn…</summary><form>
      <label>Hạn mới (để trống: bỏ hạn) ${dayInput("due", t.due_date, "due-value")}</label>
      <button type="submit">Lưu hạn</button></form>`;
    const form = fold.querySelector("form");
    form.onsubmit = (event) => {
      event.preventDefault();
      sending.during(changeKey("task", t.id), async () => {
        let due;
        try {
          due = dayField(form.due, "Hạn mới") || null;
        } catch (error) { notify(error.message, true); return; }
        if (!(await dueConfirmed(due))) return;
        try {
          await api(`/api/tasks/${t.id}`, { method: "PATCH", body: JSON.stringify({ version: t.version, due_date: due }) });
        } catch (error) { failed(error, () => form.requestSubmit()); return; }
        fold.open = false;
        await changed(`Nhiệm vụ #${t.id}: ${due ? `hạn mới ${viDate(due)}` : "đã bỏ hạn"}`);
      });
    };
    return fold;
  }

  // Once stored, the fold is emptied and shut (nothing for the card drawn again to keep) and the page follows. Sent
  // with an Idempotency-Key, the same while the same assignment is sent again: the network dropping after the server
  // stored it, «Thử lại» was refused («điểm nóng này «Đã giao xử lý»», «đã được thay đổi») and read as not given.
  async function assign(p, taskId, fold) {
    const form = fold.querySelector("form");
    if (!form.team.value) { notify("Hãy chọn tổ công tác nhận nhiệm vụ", true); return; }
    await sending.during(changeKey(taskId ? "task" : "hotspot", taskId || p.id), async () => {
      let task;
      try {
        const body = taskId
          ? { team_id: Number(form.team.value), version: p.task_version, note: form.note?.value.trim() ?? "" }
          : { kind: "suppression", hotspot_id: p.id, team_id: Number(form.team.value),
            due_date: dayField(form.due, "Hạn") || null, priority: form.priority.value,
            checklist: form.steps.value.split("\n").map((line) => line.trim()).filter(Boolean).map((item) => ({ item })) };
        if (!(await dueConfirmed(body.due_date)) || !(await unstaffedAsked(form.team))) return;
        const key = sendingKey(form.key, [taskId, p.id, body]);
        task = await api(taskId ? `/api/tasks/${taskId}/assignment` : "/api/tasks", keyed(key, body));
      } catch (error) {
        failed(error, () => assign(p, taskId, fold));
        return;
      }
      form.reset();
      form.key.value = "";
      form.team.innerHTML = "";
      fold.open = false;
      await changed(`Đã giao nhiệm vụ #${task.id} cho ${task.team}, hạn ${viDate(task.due_date)}` +
        (p.id ? `; điểm nóng #${p.id}: ${cfg.statusLabels[task.hotspot_status]}` : ""));
    });
  }

  // A task as command sees it in its register: place, team, due date, hotspot, history; accept, return, cancel.
  function taskCard(t) {
    const card = document.createElement("div");
    card.className = "card";
    card.dataset.taskId = t.id;
    card.innerHTML = `<h3>Nhiệm vụ #${t.id} — ${escapeHtml(t.kind_label)}</h3>
      <p><b class="state">${escapeHtml(t.state_label)}</b>${t.team ? " — " + escapeHtml(t.team) : ""}${dueClause(t.state,
        t.due_date, t.overdue_days)}; ${priorityWords(t.priority, cfg.priorityLabels)}</p>
      <p>${escapeHtml(t.commune_name || t.commune_code)}${t.year ? `; năm ${t.year}` : ""}${t.hotspot_id ? `; điểm nóng #${t.hotspot_id}: ` +
        escapeHtml(cfg.statusLabels[t.hotspot_status]) : ""}</p>${outsideNote(t.outside_team_area, reassignable(t.state, t.team_unstaffed))}` +
      unstaffedNote(t.team_unstaffed, t.team);
    const steps = checklistBox(t);  // what the team has ticked off (command sets the list: PATCH /api/tasks/{id})
    if (steps) card.appendChild(steps);
    if (t.state === "completed") card.appendChild(workReport(t.id));
    card.appendChild(actionBox("task-note", changeKey("task", t.id), t.actions, cfg.taskActionLabels,
      (to, note, key) => moveTask(t.id, t.version, to, note, key), commentTo(t.id, t.team, t.state),
      (to) => acceptAsked(t.id, openSteps(t), (t.checklist || []).length, to)));
    if (t.state === "unassigned" || reassignable(t.state, t.team_unstaffed)) {
      const place = { id: t.hotspot_id, commune_code: t.commune_code, task_version: t.version, task_team: t.team,
        task_team_id: t.team_id };
      card.appendChild(assignFold(t.team ? reassignLabel(t.outside_team_area) : "Giao cho tổ công tác…", place, t.id));
    }
    if (dueApplies(t.state)) card.appendChild(dueFold(t));
    card.appendChild(historyToggle(async () => taskLines(await api(`/api/tasks/${t.id}`))));
    return guarded(card, t.hotspot_id, t.id);
  }

  // A hotspot added from a tip (common.js tipForm): the register's filters cleared so that it is listed, then the map,
  // registers and KPIs loaded again; its row opened and the map flown to it, where its popup opens.
  async function showReported(hotspot) {
    document.getElementById("hotspot-filters").reset();
    const status = cfg.statusLabels[hotspot.properties.status];
    if (!await changed(`Đã thêm điểm nóng #${hotspot.id} từ tin báo: ${status}`)) return;
    showTab("hotspots");
    hotspotRows.open(hotspot.id);
    const [lon, lat] = hotspot.geometry.coordinates;
    flyTo(hotspot.id, L.latLng(lat, lon));
  }

  // ------------------------------------------------------------------------------------------------ registers
  const counter = (id, noun) => (n) => {
    document.getElementById(id).textContent = `${VI_NUMBER.format(n)} ${noun}`;
  };
  const hotspotRows = sortableTable(document.getElementById("hotspot-table"), { sort: "due", keys: {
    id: (p) => p.id, status: (p) => cfg.statusLabels[p.status], commune: (p) => communeName(p.commune_code),
    team: (p) => p.holding_team || "", due: (p) => dueKey(p.task_state, p.task_due_date),
  }, row: (p) => {
    const tr = document.createElement("tr");
    tr.dataset.hotspotId = p.id;
    if (p.task_overdue_days > 0) tr.className = "overdue";
    tr.innerHTML = `<td>${p.id}</td><td><i class="swatch dot ${cfg.swatchClasses.status[p.status]}"></i> ` +
      `${escapeHtml(cfg.statusLabels[p.status])}${p.task_state === "completed" ? " <em>(chờ nghiệm thu)</em>" : ""}` +
      // Listed by «Mới / phức tạp trở lại»: a hotspot that recurred says so, and when (one that only entered the
      // register, not).
      `${hotspotFilters.new_days.value && p.recurred_at ? `<br><small class="recurred">${recurredWords} ${viDate(p.recurred_at)}</small>` : ""}</td>` +
      `<td>${escapeHtml(communeName(p.commune_code))}${p.distance_m === null || p.distance_m === undefined ? ""
        : `<br><small class="distance">${away(p.distance_m)}</small>`}</td>` +
      // The team holding the open task (the server's holding_team): a cancelled or declined task's team is none.
      `<td>${escapeHtml(p.holding_team || "—")}${outsideMark(p.task_outside_team_area)}</td>` +
      `<td>${dueCell(p.task_state, p.task_due_date, p.task_overdue_days)}</td>`;
    return tr;
  }, detail: hotspotCard, onOpen: (p, open) => { if (open) flyTo(p.id, L.latLng(p.lat, p.lon)); },
  counted: (n) => { document.getElementById("hotspot-count").textContent = `${VI_NUMBER.format(n)} điểm nóng${listedAs}`; } });

  const taskRows = sortableTable(document.getElementById("task-table"), { sort: "due", keys: {
    id: (t) => t.id, state: (t) => t.state_label, commune: (t) => t.commune_name || t.commune_code,
    team: (t) => t.team || "", due: (t) => dueKey(t.state, t.due_date),
  }, row: (t) => {
    const tr = document.createElement("tr");
    tr.dataset.taskId = t.id;
    if (t.overdue_days > 0) tr.className = "overdue";
    // What the task is, under its place: two rows «Xã Tiên Minh» — a conversion and a hotspot's suppression — could
    // not be told apart without opening them.
    const what = t.kind === "conversion" ? `chuyển hóa năm ${t.year}` : `triệt xóa điểm nóng #${t.hotspot_id}`;
    tr.innerHTML = `<td>${t.id}</td><td>${escapeHtml(t.state_label)}</td>` +
      `<td>${escapeHtml(t.commune_name || t.commune_code)}<br><small class="task-what">${what}</small></td>` +
      `<td>${escapeHtml(t.team || "—")}${outsideMark(t.outside_team_area)}</td>` +
      `<td>${dueCell(t.state, t.due_date, t.overdue_days)}</td>`;
    return tr;
  }, detail: taskCard, onOpen: (t, open) => {
    if (open) flyTo(t.hotspot_id, t.lat !== null ? L.latLng(t.lat, t.lon) : null);
  }, counted: counter("task-count", "nhiệm vụ") });

  function flyTo(hotspotId, where) {
    const marker = markers[hotspotId];
    const target = marker ? marker.getLatLng() : where;
    if (!target) return;
    // A phone's short map only shows where: the card is open in the register under it (a popup would repeat it).
    const popup = marker && map.getSize().y >= 500 ? () => marker.openPopup() : null;
    flyMap(map, target, Math.max(map.getZoom(), 15), 0.6, popup);
  }

  // A register's team filter set to a dissolved team: its label says so, with the day (the option holds the name alone,
  // loadTeams); said again each time the register's query is made from its filters (a change, a reset).
  function saidDissolved(select) {
    const on = select.selectedOptions[0]?.dataset.dissolvedOn;
    select.closest("label").querySelector(".team-gone").textContent = on ? `— tổ đã giải thể ngày ${viDate(on)}` : "";
  }

  // The commune a register filter's typed name names: a name chosen in the list, a code, or a name as the map's search
  // reads it (unitsNamed: «ha dong», «Hà Đông», «xã Hà Đông»); none, or several, is said (never one picked silently).
  function communeTyped(typed) {
    if (communeByName[typed] || names[typed]) return communeByName[typed] || typed;
    const found = unitsNamed(units.map((u) => u.properties), typed);
    if (found.length === 1) return found[0].code;
    if (!found.length) throw new Error(`Không có xã/phường tên «${typed}»: hãy chọn trong danh sách gợi ý`);
    const some = found.slice(0, 5).map((u) => communeName(u.code)).join(", ");
    throw new Error(`«${typed}» khớp ${VI_NUMBER.format(found.length)} xã/phường: ${some}${found.length > 5 ? ", …" : ""}` +
      " — hãy chọn một trong danh sách gợi ý");
  }

  // The query of a register's filter form (the state's own name, commune by name, team, overdue, waiting, held outside
  // the team's area).
  function registerQuery(formId, stateName, awaitingName) {
    const f = document.getElementById(formId);
    const params = new URLSearchParams();
    if (f[stateName].value) params.set(stateName === "status" ? "status" : "state", f[stateName].value);
    const typed = f.commune.value.trim();
    if (typed) params.set("commune", communeTyped(typed));
    if (f.team.value) params.set("team", f.team.value);
    saidDissolved(f.team);
    if (f.overdue.checked) params.set("overdue", "true");
    if (f.awaiting.checked) params.set(awaitingName, "completed");
    if (f.outside_area.checked) params.set("outside_area", "true");
    return params;
  }

  // Only the answer to the latest request of a register is shown (filters may change faster than answers come).
  const newest = { hotspots: newestOnly(), tasks: newestOnly() };
  // A failure is told here, with «Thử lại»; after a change (`rethrow`) it goes to the caller, which tells the change
  // as saved with a warning.
  async function loadHotspotRegister(rethrow = false) {
    try {
      let asked;
      const found = await newest.hotspots(() => {
        asked = newAndNear(registerQuery("hotspot-filters", "status", "task_state"));
        return askHotspots(asked.params);
      });
      if (found === STALE) return;
      listedAs = asked.words;
      if (asked.near !== nearShown) hotspotRows.sortBy(asked.near ? null : "due");  // near: nearest first, as answered
      nearShown = asked.near;
      selection = asked.words ? new Set(found.features.map((f) => f.id)) : null;
      hotspotRows.set(found.features.map((f) => ({ ...f.properties, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] })));
      markSelection();
      settled("hotspot-register");
    } catch (error) {
      if (rethrow === true) throw error;
      failed(error, loadHotspotRegister, "hotspot-register");
    }
  }

  async function loadTaskRegister(rethrow = false) {
    try {
      const found = await newest.tasks(() => {
        const query = registerQuery("task-filters", "state", "state");
        query.set("limit", "1000");
        return api(`/api/tasks?${query}`);
      });
      if (found === STALE) return;
      taskRows.set(found.tasks);
      settled("task-register");
    } catch (error) {
      if (rethrow === true) throw error;
      failed(error, loadTaskRegister, "task-register");
    }
  }

  // A conversion task (chuyển hóa địa bàn): a commune and a year, given to one of the teams covering the commune
  // (the least loaded suggested first), due by the end of that year unless command says otherwise.
  const conversion = document.getElementById("conversion-form");
  const thisYear = Number(localParts(new Date()).year);
  conversion.year.value = String(thisYear);
  conversion.due.value = `31/12/${thisYear}`;
  // The commune typed, read as the registers' filters read it (communeTyped: «ha dong» too); null while it names none
  // or several (the submit says which).
  const conversionCommune = () => {
    try { return communeTyped(conversion.commune.value.trim()); } catch { return null; }
  };
  // The teams covering the chosen commune, asked once per commune (typing then pressing the button asks on the way).
  let teamsFor = null;
  let asking = Promise.resolve();
  function conversionTeams() {
    const code = conversionCommune();
    if (code === teamsFor) return asking;
    teamsFor = code;
    conversion.team.disabled = true;
    conversion.team.innerHTML = `<option value="">${code ? "Đang tìm tổ phụ trách…" : "— chọn xã/phường trước —"}</option>`;
    asking = !code ? Promise.resolve() : api(`/api/tasks/suggest-assignee?commune=${code}`).then((suggestion) => {
      if (teamsFor !== code) return;  // another commune was chosen meanwhile
      if (!suggestion.candidates.length) {
        conversion.team.innerHTML = "<option value=\"\">Không có tổ nào phụ trách xã/phường này</option>";
        return;
      }
      conversion.team.innerHTML = suggestion.candidates.map((c) =>
        teamChoice(c.team_id, c.name, c.active_members, c.open_tasks)).join("");
      conversion.team.disabled = false;
    }).catch((error) => { teamsFor = null; notify(error.message, true); });
    return asking;
  }
  conversion.commune.addEventListener("change", conversionTeams);
  conversion.year.addEventListener("change", () => {
    if (/^31\/12\/\d{4}$/.test(conversion.due.value.trim()) && /^\d{4}$/.test(conversion.year.value.trim())) {
      conversion.due.value = `31/12/${conversion.year.value.trim()}`;
    }
  });
  conversion.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = conversion.querySelector("button[type=submit]");
    try {
      const typed = conversion.commune.value.trim();
      if (!typed) throw new Error("Hãy chọn xã/phường trong danh sách gợi ý");
      const code = communeTyped(typed);  // none or several: said, never one picked
      await conversionTeams();
      const year = Number(conversion.year.value.trim());
      const [first, last] = cfg.yearRange;
      if (!/^\d{4}$/.test(conversion.year.value.trim()) || year < first || year > last) {
        throw new Error(`Năm phải từ ${first} đến ${last}, ví dụ ${thisYear}`);
      }
      if (!conversion.team.value) throw new Error("Hãy chọn tổ công tác phụ trách xã/phường này");
      const due = dayField(conversion.due, "Hạn") || null;
      if (!(await dueConfirmed(due)) || !(await unstaffedAsked(conversion.team))) return;
      button.disabled = true;
      const body = { kind: "conversion", commune_code: code, year, team_id: Number(conversion.team.value), due_date: due };
      const task = await api("/api/tasks", keyed(sendingKey(conversion.key, body), body));  // a retry: stored once
      conversion.commune.value = "";
      conversion.key.value = "";
      conversionTeams();
      await changed(`Đã giao nhiệm vụ #${task.id} chuyển hóa ${communeName(code)} năm ${year} cho ${task.team}, ` +
        `hạn ${viDate(task.due_date)}`);
      taskRows.open(task.id);
    } catch (error) {
      failed(error, () => conversion.requestSubmit());
    } finally {
      button.disabled = false;
    }
  });

  for (const [id, load] of [["hotspot-filters", loadHotspotRegister], ["task-filters", loadTaskRegister]]) {
    const f = document.getElementById(id);
    f.addEventListener("change", load);
    f.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  }

  let allTeams = [];  // the teams command may assign to (its province's), for a reassignment beyond the suggestions
  // The registers' team filters: the working teams, then the dissolved ones whose old tasks command may see (to look
  // them up: completed, accepted, cancelled), under «Tổ đã giải thể». Never offered to assign to: allTeams keeps the
  // working ones (the server refuses a dissolved team anyway). A dissolved team's option is its name alone: with its
  // day («… (đã giải thể ngày dd/mm/yyyy)», even «… — giải thể dd/mm/yyyy») the longest demo name's choice was cut
  // in the closed filter on a 360–390 px phone (an option cannot wrap); the filter's label says it and the day once
  // the team is chosen (saidDissolved).
  async function loadTeams() {
    const teams = await api("/api/teams?include_dissolved=true");
    allTeams = teams.filter((t) => !t.dissolved_on);
    const gone = teams.filter((t) => t.dissolved_on);
    const option = (t) => {
      const choice = document.createElement("option");
      choice.value = t.id;
      choice.textContent = t.name;
      if (t.dissolved_on) choice.dataset.dissolvedOn = t.dissolved_on;
      return choice;
    };
    for (const select of document.querySelectorAll(".register-filters select[name=team]")) {
      select.append(...allTeams.map(option));
      if (!gone.length) continue;
      const group = document.createElement("optgroup");
      group.label = "Tổ đã giải thể";
      group.append(...gone.map(option));
      select.append(group);
    }
  }

  // -------------------------------------------------------------------------------------------- new and near
  // «Mới / phức tạp trở lại» (entered the register, or recurred, today, in the last 7 or 30 days, as the server counts Hải
  // Phòng's days) and «Gần đây» (within 500 m, 1 km or 2 km of a place, nearest first, each with its distance): the
  // place is the last one the search box went to, the phone's position, or the map's centre. The map draws the circle searched and dims the
  // hotspots these filters leave out.
  const hotspotFilters = document.getElementById("hotspot-filters");
  const nearLine = document.getElementById("near-place");
  const nearCircle = L.layerGroup().addTo(map);
  let nearPlace = null;  // { latlng, label }
  let listedAs = "";  // what the register's list is, in words after its count («mới hôm nay, trong vòng 1 km, …»)
  let nearShown = false;  // the list is ordered by distance
  let selection = null;  // ids the «mới» and «gần đây» filters keep (null: none of them chosen)
  const away = (metres) => `cách ${metres < 1000 ? `${VI_NUMBER.format(Math.round(metres / 10) * 10)} m`
    : `${VI_NUMBER.format(Math.round(metres / 100) / 10)} km`}`;
  const chosenText = (select) => select.selectedOptions[0].textContent.toLowerCase();

  // The register's query with these filters, the words saying them, and whether it is near a place.
  function newAndNear(params) {
    const f = hotspotFilters;
    const words = [];
    if (f.new_days.value) {
      params.set("new_days", f.new_days.value);
      words.push(`mới / ${recurredWords} ${f.new_days.value === "1" ? "" : "trong "}${chosenText(f.new_days)}`);
    }
    const near = Boolean(f.within_m.value);
    if (near) {
      if (!nearPlace) placeNear(mapCentre());
      params.set("lat", nearPlace.latlng.lat.toFixed(6));
      params.set("lon", nearPlace.latlng.lng.toFixed(6));
      params.set("within_m", f.within_m.value);
      words.push(`trong vòng ${chosenText(f.within_m)}, gần nhất trước`);  // around the place the line above says
    }
    drawNear();
    return { params, near, words: words.length ? ` ${words.join(", ")}` : "" };
  }

  // The circle searched, on the map while «Gần đây» is chosen.
  function drawNear() {
    nearCircle.clearLayers();
    const metres = Number(hotspotFilters.within_m.value);
    if (!metres || !nearPlace) return null;
    return L.circle(nearPlace.latlng, { ...inPane("labels"), radius: metres, color: "#1d4ed8", weight: 2,
      dashArray: "6 4", fillOpacity: 0.04, interactive: false }).addTo(nearCircle);
  }

  const mapCentre = () => ({ latlng: map.getCenter(), label: "giữa bản đồ" });
  function placeNear(place) {
    nearPlace = place;
    nearLine.textContent = `Quanh ${place.label}`;
  }
  // A new place to be near: said under the filter; with «Gần đây» chosen, the list follows (and `fit`: the map too).
  function nearTo(place, fit = true) {
    placeNear(place);
    if (!hotspotFilters.within_m.value) return;
    loadHotspotRegister();
    const circle = drawNear();
    if (fit && circle) map.fitBounds(circle.getBounds(), { padding: [16, 16] });
  }

  // Without a distance chosen, a place asked for by a button searches within 1 km.
  function nearHere(place) {
    if (!hotspotFilters.within_m.value) hotspotFilters.within_m.value = "1000";
    nearTo(place);
  }
  // A distance chosen: the map shows its circle (around the map's centre if no place was given yet); the form's own
  // listener loads the list.
  hotspotFilters.within_m.addEventListener("change", () => {
    if (!nearPlace) placeNear(mapCentre());
    const circle = drawNear();
    if (circle) map.fitBounds(circle.getBounds(), { padding: [16, 16] });
  });
  hotspotFilters.elements.centre.onclick = () => nearHere(mapCentre());
  // The phone's position where the browser gives it (https or the machine itself); refused or unavailable, the line
  // says so and what to do instead.
  hotspotFilters.elements.locate.onclick = async () => {
    const button = hotspotFilters.elements.locate;
    button.disabled = true;
    nearLine.textContent = "Đang lấy vị trí của máy…";
    try {
      const { lat, lon, accuracy } = await devicePosition();
      nearHere({ latlng: L.latLng(lat, lon), label: `vị trí của bạn (sai số khoảng ${VI_NUMBER.format(Math.round(accuracy))} m)` });
    } catch (error) {
      nearLine.textContent = `${error.message}: hãy gõ nơi cần xem vào ô Tìm trên bản đồ (tên xã, tọa độ) hoặc bấm «Giữa bản đồ».`;
    } finally {
      button.disabled = false;
    }
  };

  // The hotspots on the map these filters leave out are dimmed (each kept as it was when none is chosen).
  function markSelection() {
    for (const [id, marker] of Object.entries(markers)) {
      const kept = !selection || selection.has(Number(id));
      marker.setStyle({ opacity: kept ? 1 : 0.35, fillOpacity: kept ? 0.9 : 0.2 });
    }
  }

  // ------------------------------------------------------------------------------------------------ tabs, inbox
  const showTab = panelTabs();
  // A task count of the KPIs opens those tasks in the register: overdue ones, those waiting for acceptance, those held
  // outside their team's area today.
  for (const [id, box] of [["kpi-overdue", "overdue"], ["kpi-awaiting", "awaiting"], ["kpi-outside", "outside_area"]]) {
    document.getElementById(id).onclick = (event) => {
      event.preventDefault();
      const f = document.getElementById("task-filters");
      f.reset();
      f[box].checked = true;
      showTab("tasks");
      focusWork(document.getElementById("tab-tasks"));  // the link hidden with its tab: Tab goes on in the register
      loadTaskRegister();
    };
  }

  async function loadInbox() {
    const inbox = await api("/api/inbox?limit=50");
    const list = document.getElementById("inbox");
    // Still waiting for command, as the API says (a note not answered, work not accepted, a decline not given again).
    const waiting = (e) => e.awaiting_command;
    const count = inbox.events.filter(waiting).length + inbox.team_reports.length;
    document.getElementById("inbox-count").textContent = count ? VI_NUMBER.format(count) : "";
    if (!inbox.events.length && !inbox.team_reports.length) {
      list.innerHTML = "<li class=\"none\">Không có việc mới.</li>";
      return;
    }
    // Spots teams reported, first while command has neither verified nor dismissed them: the team was told «chờ chỉ
    // huy xem xét» and nothing here said so. A tap opens the spot's card in the register, where both actions are.
    // The user named with their team («to01, Tổ công tác khu vực 01 (Thành Đông)»): the username alone did not say
    // which team wrote; in brackets, a team's own brackets nested in them. What happened first, then on a line of its
    // own when, who and where the work stands now, as the team's notices: «… 00:57 to01, Tổ…» ran time and user
    // together.
    const withTeam = (actor, team) => (team ? `${actor}, ${team}` : actor);
    const byLine = (when, who, now) => `<br><small><time>${viDateTime(when)}</time> · ${escapeHtml(who)} · hiện tại: ${now}</small>`;
    const reports = inbox.team_reports.map((r) => {
      const item = document.createElement("li");
      item.className = "team-report";
      // Its kind named as such («loại: tụ điểm»): a bare «(Điểm)» after «báo điểm mới» read as a stray word.
      item.innerHTML = `<b>Điểm nóng #${r.hotspot_id}</b> (${escapeHtml(communeName(r.commune_code))}): báo điểm mới, ` +
        `loại: ${escapeHtml((cfg.hotspotKindLabels[r.kind] || r.kind).toLowerCase())}${r.note ? ` — «${escapeHtml(r.note)}»` : ""}` +
        byLine(r.at, withTeam(r.actor, r.actor_team), `${escapeHtml(cfg.statusLabels.detected)}, chờ xác minh hoặc loại bỏ`);
      return clickable(item, async () => {
        document.getElementById("hotspot-filters").reset();
        showTab("hotspots");
        await loadHotspotRegister();
        hotspotRows.open(r.hotspot_id);
        const spot = hotspotRows.row(r.hotspot_id);  // and the map to it, as a row opened by a click goes
        if (spot) flyTo(spot.id, L.latLng(spot.lat, spot.lon));
      });
    });
    list.replaceChildren(...reports, ...inbox.events.map((e) => {
      const item = document.createElement("li");
      if (!waiting(e)) item.className = "handled";
      const later = sentLater(e);
      item.innerHTML = `<b>Nhiệm vụ #${e.task_id}</b> (${escapeHtml(communeName(e.commune_code))}): ` +
        eventChange(e, cfg.eventLabels, cfg.taskLabels, e.from_state, e.to_state) +
        byLine(whenMade(e), withTeam(e.actor, e.actor_team) + (later ? ` ${later}` : ""), escapeHtml(cfg.taskLabels[e.task_state]));
      return clickable(item, async () => {
        document.getElementById("task-filters").reset();
        showTab("tasks");
        await loadTaskRegister();
        taskRows.open(e.task_id);
      });
    }));
  }

  // ------------------------------------------------------------------------------------- classes, cells, KPIs
  // The classes of the newest approved year, asked for once their layer is first shown: nation-wide their map is
  // 4.5 MB compressed (3,321 units), which every opening of the page downloaded, layer hidden. They come without the
  // shapes the communes layer already has (current_geometry=false, as on the planner page) and are painted on those,
  // the finer ones too once zoomed in (common.js SHAPES); a unit no longer current comes with its own.
  let classesAsked = false;
  let onUnitShapes = new Set();
  map.on("communesrefined", (e) => reshape(layers.classes, Object.fromEntries([...onUnitShapes].map((c) => [c, e.shapes[c]]))));
  async function loadClasses() {
    const label = document.getElementById("classes-year");
    if (!cfg.approvedYear) { label.textContent = "Chưa có năm nào được phê duyệt"; return; }
    label.textContent = `Năm ${cfg.approvedYear}`;
    if (!map.hasLayer(layers.classes) || classesAsked) return;
    classesAsked = true;
    // A year whose run holds none of the user's province's units is refused (404, as the KPI report): its sentence
    // where the year is named, not an empty map read as communes without a class.
    let result;
    try {
      result = await api(`/api/classifications/${cfg.approvedYear}/map?simplify_m=20&current_geometry=false`);
    } catch (error) {
      if (error.status !== 404) throw error;
      label.textContent = error.message;
      notify(error.message);
      return;
    }
    const key = (p) => `${p.category}|${p.level || ""}`;
    onUnitShapes = new Set(result.features.filter((f) => !f.geometry).map((f) => f.properties.code));
    const drawn = result.features.map((f) => ({ ...f, geometry: f.geometry || unitByCode[f.properties.code]?.geometry }));
    L.geoJSON({ type: "FeatureCollection", features: drawn.filter((f) => f.geometry) }, {
      ...inPane("classes"),
      style: (f) => ({ stroke: false, fillColor: cfg.classColours[key(f.properties)], fillOpacity: 0.55 }),
      onEachFeature: (f, layer) => layer.bindTooltip(`${escapeHtml(f.properties.full_name)}: ` +
        `${escapeHtml(cfg.classLabels[key(f.properties)])}`),
    }).addTo(layers.classes);
    label.textContent = `Năm ${cfg.approvedYear} (phiên bản ${result.run.version})`;
  }

  // Gi* and emerging cells: each a heavy analysis, asked for only while its layer is shown. Nation-wide over several
  // provinces the server computes them for the province nearest the view's centre (gis.services.analyses
  // study_province: without the view it refuses), so they carry the view and follow the map; a provincial user's
  // cover the province. The answer names the province it was computed for (X-Study-Province-Name): at the country's
  // zoom the view's centre lies at sea and the nearest province's cells may be empty or out of sight, so a nation-wide
  // user is told which province, once each time it changes.
  const studiedShown = {};
  // Under each cell layer's legend, what its cells come to: a count, or that nothing could be computed for want of
  // incidents (the answer then carries no X-Rows) — a blank layer read as «no hot cell» where there was no data yet,
  // as the heat legend says for its surface. A provincial user's cells cover the province, not the view (it said «trong
  // vùng đang xem» of the whole city's 263 cells); nation-wide they follow the view. Where a cell is drawn under
  // CELL_MIN_PX across (250 m at the whole city's zoom: 1–2 px), the line says to zoom in, again at each zoom.
  const CELL_MIN_PX = 4;
  const cellCounts = new Map();  // status element → [count, a coloured cell's bounds]
  function cellStatus(status, params, rows, count, cell) {
    if (!status) return;
    if (rows === null && count === 0) {
      cellCounts.delete(status);
      const after = cfg.lastIncident && params.get("from") > cfg.lastIncident;
      status.textContent = "Không tính được: không có vụ việc nào trong vùng và bộ lọc đã chọn" +
        (after ? `: dữ liệu vụ việc chỉ đến hết ngày ${viDate(cfg.lastIncident)}` : "");
      return;
    }
    cellCounts.set(status, [count, cell]);
    sayCells(status);
  }
  function sayCells(status) {
    const [count, cell] = cellCounts.get(status);
    const where = cfg.area ? `trên toàn địa bàn ${cfg.area}` : "trong vùng đang xem";
    const width = cell ? map.latLngToLayerPoint(cell.getNorthEast()).x - map.latLngToLayerPoint(cell.getSouthWest()).x : 0;
    status.textContent = `${VI_NUMBER.format(count)} ô tô màu ${where}`;
    if (cell && width < CELL_MIN_PX) {  // the screen's advice only: on paper nobody zooms (app.css .screen-only)
      const hint = document.createElement("span");
      hint.className = "screen-only";
      hint.textContent = "; ô quá nhỏ ở mức thu phóng này: phóng to để thấy rõ từng ô";
      status.append(hint);
    }
  }
  map.on("zoomend", () => cellCounts.forEach((_, status) => sayCells(status)));
  async function loadCells(layer, latest, route, params, colour, tooltip, what, status) {
    if (!map.hasLayer(layer)) return;
    if (!cfg.area) params.set("bbox", heatQuery().params.get("bbox"));
    try {
      let studied = null, rows = null;
      const onHeaders = (headers) => { studied = headers.get("X-Study-Province-Name"); rows = headers.get("X-Rows"); };
      const cells = await latest(() => api(`${route}?${params}`, { onHeaders }));
      if (cells === STALE) return;
      const coloured = cells.features.filter((f) => colour(f.properties) !== "transparent");
      cellStatus(status, params, rows, coloured.length, coloured.length ? L.geoJSON(coloured[0]).getBounds() : null);
      if (!cfg.area && studied && studiedShown[route] !== studied) {
        studiedShown[route] = studied;
        notify(`${what} tính cho ${decodeURIComponent(studied)} — phóng to vào một tỉnh để xem tỉnh khác`);
      }
      layer.clearLayers();
      L.geoJSON(cells, {
        ...inPane("cells"),
        style: (f) => ({ weight: 0, fillColor: colour(f.properties), fillOpacity: colour(f.properties) === "transparent" ? 0 : 0.6 }),
        // On a phone a tap opens the cell's words as a popup, which the map pans into view: a tooltip opened beside
        // the finger and ran off the screen's edge, «…tin cậy 99 % (thống kê Gi*, z» cut at 390 px.
        onEachFeature: (f, l) => (phone.matches ? l.bindPopup(tooltip(f.properties), { maxWidth: 240 })
          : l.bindTooltip(tooltip(f.properties), { className: "cell-tip" })),
      }).addTo(layer);
    } catch (error) {
      notify(error.message, true);
    }
  }

  const newestGistar = newestOnly(), newestEmerging = newestOnly();
  const loadGistar = () => loadCells(layers.gistar, newestGistar, "/api/gistar", filters(), (p) => cfg.binColours[p.bin],
    (p) => `${escapeHtml(cfg.binLabels[p.bin] || "Không khác hẳn xung quanh")} (thống kê Gi*, z = ${VI_NUMBER.format(p.z)})`,
    "Ô nóng, ô lạnh", document.getElementById("gistar-status"));
  // Each pattern with what it means (a commander tapping «Ô nóng dao động» on the phone has no legend tooltip); the
  // layer's window ends at the latest incident, which its legend names (maps.styles.emerging_legend).
  const loadEmerging = () => loadCells(layers.emerging, newestEmerging, "/api/emerging", new URLSearchParams(),
    (p) => cfg.emergingColours[p.pattern],
    (p) => `<b>${escapeHtml(p.label_vi)}</b>: ${escapeHtml(cfg.patternMeanings[p.pattern] || "")}`,
    cfg.layerTitles.emerging, document.getElementById("emerging-status"));
  const emergingEnd = document.getElementById("emerging-end");
  if (emergingEnd && cfg.lastIncident) emergingEnd.textContent = viDate(cfg.lastIncident);
  map.on("overlayadd", (e) => {
    if (e.layer === layers.classes) loadClasses().catch((error) => { classesAsked = false; notify(error.message, true); });
    if (e.layer === layers.gistar) loadGistar();
    if (e.layer === layers.emerging) loadEmerging();
  });

  async function loadTaskKpis() {
    const counts = await api("/api/tasks/counts");  // one request, not six lists of one task (see the route)
    // «Nhiệm vụ các tổ đang giữ»: TASK_OPEN, the tasks weighing on a team (its label said «đang mở», which a commander
    // read as every unfinished task, the unassigned ones too).
    document.getElementById("kpi-open").textContent = VI_NUMBER.format(counts.open);
    document.getElementById("kpi-overdue").textContent = VI_NUMBER.format(counts.overdue);
    document.getElementById("kpi-awaiting").textContent = VI_NUMBER.format(counts.by_state.completed);
    document.getElementById("kpi-outside").textContent = VI_NUMBER.format(counts.outside_area);
  }

  // This year's drug-free share against this year's target (đạt / không đạt), the path's final target, and the
  // recurrences of this calendar year against their limit (gis.services.overview.kpi_panel, the KPI report's rules),
  // each target after the words of how it binds («tối thiểu 60%», «tối đa 0»: the KPI file's, models BOUND_WORDS).
  // A figure that is missing says why, in the words of the KPI report (models.vocabulary KPI_NO_DATA and
  // KPI_NOT_APPLICABLE), its meaning as a tooltip: a dash read the same for «no data yet» and «no target».
  function blank(words) {
    return `<span class="kpi-blank" title="${escapeHtml(cfg.kpiBlank.meanings[words])}">${escapeHtml(words)}</span>`;
  }
  const figure = (value, format) => (value === null || value === undefined ? blank(cfg.kpiBlank.noData) : format(value));
  function showKpis() {
    const k = cfg.kpi;
    if (!k) return;
    const verdict = (met) => (met === null || met === undefined ? "" : met
      ? ' — <span class="met">đạt</span>' : ' — <span class="not-met">không đạt</span>');
    const share = k.drugFree;
    if (share) {
      const which = `năm ${share.year}${share.approved ? "" : ` (${cfg.runStatusLabels.draft.toLowerCase()})`}`;
      document.getElementById("kpi-drug-free-label").textContent = `Tỷ lệ xã không ma túy ${which}`;
      document.getElementById("kpi-drug-free").innerHTML = figure(share.value, (v) => VI_PERCENT.format(v));
      document.getElementById("kpi-target-label").textContent = `Mục tiêu năm ${share.year}`;
      document.getElementById("kpi-target").innerHTML = share.target === null ? blank(cfg.kpiBlank.notApplicable)
        : `${cfg.boundWords[share.bound]} ${VI_PERCENT.format(share.target)}${verdict(share.met)}`;
      document.getElementById("kpi-note").textContent = share.year !== k.year
        ? `Năm ${k.year} chưa có kết quả phân loại: số liệu năm ${share.year}.` : "";
    } else {
      // The KPI report's refusal of the province (a run made before its units were loaded), in its own words.
      document.getElementById("kpi-note").textContent = k.drugFreeRefused
        || `Chưa có kết quả phân loại năm ${k.year} hay năm đã phê duyệt nào.`;
    }
    document.getElementById("kpi-final-label").textContent = `Mục tiêu năm ${k.finalTarget.year}`;
    // The path's final target is a share of drug-free units as this year's is: at least (it read a bare «60%»).
    document.getElementById("kpi-final").textContent = `${cfg.boundWords.at_least} ${VI_PERCENT.format(k.finalTarget.share)}`;
    document.getElementById("kpi-recurred-label").textContent = `Điểm ${recurredWords} năm ${k.recurrences.year}`;
    const limit = k.recurrences.target;
    document.getElementById("kpi-recurred").innerHTML = `${figure(k.recurrences.value, (v) => VI_NUMBER.format(v))} ` +
      `<small>(${limit === null ? `chỉ tiêu: ${blank(cfg.kpiBlank.notApplicable)}`
        : `${cfg.boundWords[k.recurrences.bound]} ${VI_NUMBER.format(limit)}`})</small>` +
      verdict(k.recurrences.met);
  }

  async function refresh() { loadIncidents(); await Promise.all([loadHeat(), loadHotspots(), loadGistar()]); }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    try {
      const [from, to] = [dayField(form.from, "Từ ngày"), dayField(form.to, "Đến ngày")];
      if (from && to && from > to) throw new Error(`Từ ngày ${form.from.value.trim()} sau đến ngày ${form.to.value.trim()}`);
    } catch (error) { notify(error.message, true, null, "incident-filter"); return; }
    settled("incident-filter");
    slider.value = "0";
    refresh();
  });
  importForm("incident-import", "/api/imports/incidents", () => Promise.all([
    refresh(), loadEmerging(), loadHotspotRegister(), loadTaskRegister(),
  ]));
  // Hotspot detection over the last days (POST /api/hotspots/detection, what `diaban hotspots detect` does): «Kiểm
  // tra» says what a run would change and records nothing; a run updates the register, then the map, the registers
  // and the KPIs are loaded again. Its report, in the command line's words, stays under the form. Offered only to a
  // user whose scope holds every unit (a run covers them all: the server refuses the others).
  const detection = document.getElementById("detection-form");
  document.getElementById("detection-box").hidden = !cfg.coversAll;
  const detectionReport = document.getElementById("detection-report");
  async function detect(dryRun) {
    detectionReport.hidden = true;  // a report left from an earlier run would read as this one's
    let body;
    try {
      const days = Number(detection.days.value.trim());
      const most = Number(detection.days.dataset.max);
      if (!Number.isInteger(days) || days < 1 || days > most) {
        detection.days.focus();
        throw new Error(`Số ngày gần nhất: hãy ghi một số nguyên từ 1 đến ${VI_NUMBER.format(most)}, ví dụ 90`);
      }
      const end = dayField(detection.end, "Đến ngày");
      body = { days, dry_run: dryRun, ...(end ? { end } : {}) };
    } catch (error) { notify(error.message, true, null, "detection"); return; }
    const buttons = [...detection.querySelectorAll("button")];
    buttons.forEach((button) => { button.disabled = true; });
    notify(dryRun ? "Đang kiểm tra phát hiện điểm nóng…" : "Đang chạy phát hiện điểm nóng…");
    try {
      const report = await api("/api/hotspots/detection", { method: "POST", body: JSON.stringify(body) });
      detectionReport.innerHTML = report.lines.map((line) => `<p class="import-summary">${escapeHtml(line)}</p>`).join("");
      detectionReport.hidden = false;
      settled("detection");
      if (dryRun) notify("Đã kiểm tra — chưa ghi gì vào sổ điểm nóng");
      else {
        await refreshAfterSave(`Đã cập nhật sổ điểm nóng (lần chạy #${report.run_id})`, () => Promise.all([
          loadHotspots(), loadHotspotRegister(true), loadTaskKpis(),
        ]), "tải lại trang để xem bản đồ và sổ điểm nóng mới");
      }
    } catch (error) {
      failed(error, () => detect(dryRun), "detection");
    } finally {
      buttons.forEach((button) => { button.disabled = false; });
    }
  }
  detection.addEventListener("submit", (event) => { event.preventDefault(); detect(false); });
  detection.elements.check.addEventListener("click", () => detect(true));
  slider.addEventListener("input", () => filters());
  slider.addEventListener("change", refresh);
  let moved;
  map.on("moveend", () => {
    clearTimeout(moved);
    moved = setTimeout(() => Promise.all([loadHeat(), ...(cfg.area ? [] : [loadGistar(), loadEmerging()])]), 250);
  });
  await Promise.all([
    refresh(), loadClasses(), loadTaskKpis(), showKpis(), loadTeams(), loadInbox(),
    loadHotspotRegister(), loadTaskRegister(),
  ]);
  document.body.dataset.ready = "true";
};
