// diaban pages, shared part: JSON API calls (session cookie + CSRF header), Vietnamese formats, base layers.
"use strict";

const VI_NUMBER = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
const VI_PERCENT = new Intl.NumberFormat("vi-VN", { style: "percent", maximumFractionDigits: 1 });
const diabanPages = {};

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )diaban_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// Same-origin call (JSON, or a form with files); a lost session goes back to the login form, a refusal throws its
// Vietnamese detail (with the HTTP status and the error code).
async function api(path, options = {}) {
  const json = typeof options.body === "string";  // a FormData body (a photo) sets its own multipart type
  const headers = { "X-CSRF-Token": csrfToken(), ...(json ? { "Content-Type": "application/json" } : {}) };
  const response = await fetch(path, { credentials: "same-origin", ...options, headers });
  if (response.status === 401) { window.location.href = "/login"; throw new Error("Phiên đăng nhập đã hết hạn"); }
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const detail = Array.isArray(body?.detail) ? body.detail.map((d) => d.msg).join("; ") : body?.detail;
    const error = new Error(detail ? String(detail) : `Lỗi máy chủ (${response.status})`);
    error.status = response.status;
    error.code = body?.code;
    throw error;
  }
  return body;
}

// Dates and times as Hải Phòng sees them (dd/mm/yyyy, 24 h; the page's time zone), whatever the browser's own.
let localFormat = null;
function localParts(value) {
  localFormat ??= new Intl.DateTimeFormat("en-GB", {
    timeZone: window.diaban?.timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", hourCycle: "h23",
  });
  return Object.fromEntries(localFormat.formatToParts(new Date(value)).map((p) => [p.type, p.value]));
}

function viDate(value) {
  if (!value) return "—";
  const p = localParts(value);
  return `${p.day}/${p.month}/${p.year}`;
}

function viDateTime(value) {
  if (!value) return "—";
  const p = localParts(value);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

// One entry of a task's or hotspot's history as HTML: when, who, what (state change) and the note.
function eventText(e, eventLabels, stateLabels, from, to) {
  const change = to && from !== to ? `: ${from ? escapeHtml(stateLabels[from] || from) + " → " : ""}` +
    `<b>${escapeHtml(stateLabels[to] || to)}</b>` : "";
  const what = e.event === "transition" ? `chuyển trạng thái${change}` : `${escapeHtml(eventLabels[e.event] || e.event)}${change}`;
  const note = e.note ? ` — «${escapeHtml(e.note)}»` : "";
  return `<time>${viDateTime(e.at)}</time> ${escapeHtml(e.actor)}: ${what}${note}`;
}

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// The status line, shown over the bottom of the panel whatever is scrolled; a click dismisses it, a success also
// goes away by itself (an error stays until the next message).
let notifyTimer = null;
function notify(message, isError = false) {
  const box = document.getElementById("message");
  box.textContent = message;
  box.className = isError ? "message error" : "message";
  box.onclick = () => { box.textContent = ""; };
  clearTimeout(notifyTimer);
  if (!isError) notifyTimer = setTimeout(() => { if (box.textContent === message) box.textContent = ""; }, 12000);
}

// A local calendar day as YYYY-MM-DD (what the API's date filters take).
function isoDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

// A dd/mm/yyyy field as an ISO day (empty when blank or malformed).
function isoFromVi(text) {
  const match = String(text || "").trim().match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/);
  return match ? `${match[3]}-${match[2].padStart(2, "0")}-${match[1].padStart(2, "0")}` : "";
}

// Commune boundaries (also the basemap when no tile server is configured) and a code → name lookup.
async function communesLayer(map, options = {}) {
  const communes = await api("/api/communes?simplify_m=20");
  const names = Object.fromEntries(communes.features.map((f) => [f.properties.code, f.properties.full_name]));
  const layer = L.geoJSON(communes, { style: { color: "#475569", weight: 1, fill: false }, ...options }).addTo(map);
  return { layer, names };
}

// Bạch Long Vĩ lies ~130 km offshore: the map fits the mainland and this button goes to the island and back.
function bachLongViButton(map, cfg) {
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const box = L.DomUtil.create("div", "map-buttons");
    const island = L.DomUtil.create("button", "map-button", box);
    island.textContent = "Bạch Long Vĩ";
    island.title = "Xem đặc khu Bạch Long Vĩ (cách đất liền khoảng 130 km)";
    const mainland = L.DomUtil.create("button", "map-button", box);
    mainland.textContent = "Đất liền";
    mainland.title = "Xem toàn bộ đất liền Hải Phòng";
    L.DomEvent.on(island, "click", (e) => { L.DomEvent.stop(e); map.setView(cfg.bachLongVi, 13); });
    L.DomEvent.on(mainland, "click", (e) => { L.DomEvent.stop(e); map.fitBounds(cfg.mainland); });
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(map);
}

// The panel's tabs (nav.tabs buttons, section.tab-<name>): returns a function showing one of them.
function panelTabs(onShow = () => {}) {
  const tabs = document.querySelectorAll("nav.tabs button");
  function show(name) {
    for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== `tab-${name}`;
    document.body.dataset.tab = name;
    onShow(name);
  }
  tabs.forEach((tab) => { tab.onclick = () => show(tab.dataset.tab); });
  return show;
}

// A table row (or list item) that acts like a button: click or Enter.
function clickable(element, action) {
  element.tabIndex = 0;
  element.onclick = action;
  element.onkeydown = (event) => { if (event.key === "Enter") action(); };
  return element;
}

// A table of items sorted by a click on a column header (again: the other way; blanks always last), filtered by
// a predicate, a row per item; a click on a row opens it (the detail, if any, shows under it) and calls onOpen.
function sortableTable(table, { keys, row, detail = null, onOpen = () => {}, sort = null, idOf = (item) => item.id,
  counted = null }) {
  const state = { items: [], sort, ascending: true, open: null, keep: () => true };
  const blank = (v) => v === null || v === undefined || v === "";
  for (const th of table.querySelectorAll("th[data-sort]")) {
    clickable(th, () => {
      state.ascending = state.sort === th.dataset.sort ? !state.ascending : true;
      state.sort = th.dataset.sort;
      draw();
    });
  }
  function draw() {
    const key = keys[state.sort];
    const shown = state.items.filter(state.keep);
    if (key) {
      shown.sort((a, b) => {
        const x = key(a), y = key(b);
        if (blank(x) || blank(y)) return blank(x) - blank(y);
        const order = typeof x === "string" ? x.localeCompare(y, "vi") : x - y;
        return state.ascending ? order : -order;
      });
    }
    for (const th of table.querySelectorAll("th[data-sort]")) {
      th.dataset.order = th.dataset.sort === state.sort ? (state.ascending ? "asc" : "desc") : "";
    }
    table.querySelector("tbody").replaceChildren(...shown.flatMap((item) => {
      const id = idOf(item);
      const tr = clickable(row(item), () => {
        state.open = state.open === id ? null : id;
        draw();
        onOpen(item, state.open === id);
      });
      if (state.open !== id) return [tr];
      tr.classList.add("open");
      if (!detail) return [tr];
      const more = document.createElement("tr");
      more.className = "detail";
      const cell = document.createElement("td");
      cell.colSpan = table.querySelectorAll("thead th").length;
      cell.appendChild(detail(item));
      more.appendChild(cell);
      return [tr, more];
    }));
    if (counted) counted(shown.length, state.items.length);
  }
  return {
    set(items) { state.items = items; draw(); },
    open(id) {  // from elsewhere (the map, the inbox): the row is shown where the user looks
      state.open = id;
      draw();
      table.querySelector("tbody tr.open")?.scrollIntoView({ block: "center" });
    },
    filter(keep) { state.keep = keep; draw(); },
    row(id) { return state.items.find((item) => idOf(item) === id); },
  };
}

// Called by the folium page once the map exists; the page's own script registered itself in diabanPages.
function diabanStart(cfg) {
  window.diaban = cfg;
  document.body.className = cfg.page;
  L.control.scale({ imperial: false }).addTo(cfg.map);  // metric only (folium's scale also shows miles)
  // The stylesheet sized the map after folium fitted it (stacked under the panel on a phone): measure and fit again.
  cfg.map.invalidateSize();
  cfg.map.fitBounds(cfg.mainland, { animate: false });
  cfg.map.attributionControl.setPrefix("Leaflet");  // no link out of a closed network
  const start = diabanPages[cfg.page];
  if (start) start(cfg.map, cfg).catch((error) => notify(error.message, true));
}
