// diaban pages, shared part: JSON API calls (session cookie + CSRF header), Vietnamese formats, base layers.
"use strict";

// The browser's own bubble for a field it refuses speaks the browser's language: say it in Vietnamese instead (the
// field's title explains the expected form).
document.addEventListener("invalid", (event) => {
  const field = event.target;
  const v = field.validity;
  field.setCustomValidity("");
  if (v.valueMissing) field.setCustomValidity("Hãy điền ô này");
  else if (v.patternMismatch || v.typeMismatch || v.badInput) field.setCustomValidity(field.title || "Giá trị chưa đúng dạng");
  else if (v.rangeUnderflow) field.setCustomValidity(`Giá trị nhỏ nhất là ${field.min}`);
  else if (v.rangeOverflow) field.setCustomValidity(`Giá trị lớn nhất là ${field.max}`);
  else if (v.tooLong) field.setCustomValidity(`Tối đa ${field.maxLength} ký tự`);
  // A new password too short («Please lengthen this text to 8 characters or more» on a team's first login).
  else if (v.tooShort) field.setCustomValidity(`Cần ít nhất ${field.minLength} ký tự (mới có ${field.value.length})`);
  else if (v.stepMismatch) field.setCustomValidity("Giá trị chưa đúng bước cho phép");
}, true);
document.addEventListener("input", (event) => { event.target.setCustomValidity?.(""); }, true);

const VI_NUMBER = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 1 });
const VI_RATIO = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 2 });
const VI_PERCENT = new Intl.NumberFormat("vi-VN", { style: "percent", maximumFractionDigits: 1 });
const diabanPages = {};

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )diaban_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// How long a request may take before the page gives up and says so: a phone losing signal, a server that took the
// request and never answers, left a spinner or a disabled button for ever. A read (GET) waits 20 s; a change 30 s (it
// may queue behind a heavy analysis). A photo or a file has no limit as a whole — on a weak link 8 MB take minutes —
// but is given up after 45 s in which not a byte of it went out, then after 120 s without an answer once all of it is
// sent (the server reads, checks and stores it). Kept in one object that a browser test may shorten.
const TIMEOUTS = { read: 20_000, change: 30_000, uploadStalled: 45_000, uploadAnswer: 120_000 };

// A request given up after its time (TIMEOUTS): a network failure like fetch's own (a TypeError), told in Vietnamese.
// A change without an Idempotency-Key may have been stored: its message says to look before doing it again.
class StalledError extends TypeError {}

// Whether a call met the ended session (HTTP 401) and the page is already on its way to the login form.
let sessionEnded = false;

// Same-origin call (JSON, or a form with files); a lost session goes back to the login form, a refusal throws its
// Vietnamese detail (with the HTTP status and the error code), a request past its time (TIMEOUTS) a StalledError.
// A read that fails on the way (a server going down while it answered: nginx retries only what that server had not
// begun) is asked once more, of whichever server nginx picks then; a change (POST, PATCH, PUT, DELETE) is only when
// it carries an Idempotency-Key (the server answers a repeat with what it did the first time), as it may have been done.
// A request that stalled is not asked again by itself (that would double the wait): the message offers «Thử lại».
// A form with files (a photo, an import) goes by XMLHttpRequest, which sees its bytes go out: `onProgress(share)`, if
// given, is told how much of the body is sent (a photo takes minutes on a weak network). `options.file`: a file
// answered (not JSON) is returned as a Blob. `options.onHeaders(headers)`, if given, is shown a good answer's headers.
async function api(path, options = {}) {
  const again = (options.method || "GET").toUpperCase() === "GET" || Boolean(options.headers?.["Idempotency-Key"]);
  try {
    return await apiOnce(path, options);
  } catch (error) {
    if (!again || !(error instanceof TypeError) || error instanceof StalledError) throw error;  // fetch's network failures are TypeErrors
    return apiOnce(path, options);
  }
}

async function apiOnce(path, options) {
  const json = typeof options.body === "string";  // a FormData body (a photo) sets its own multipart type
  const upload = options.body instanceof FormData;
  const read = (options.method || "GET").toUpperCase() === "GET";
  const headers = { "X-CSRF-Token": csrfToken(), ...(json ? { "Content-Type": "application/json" } : {}), ...options.headers };
  const limit = upload ? null : read ? TIMEOUTS.read : TIMEOUTS.change;
  const stop = new AbortController();
  const timer = limit && setTimeout(() => stop.abort(), limit);
  try {
    let response;
    try {
      response = await (upload ? sendWithProgress(path, options, headers)
        : fetch(path, { credentials: "same-origin", ...options, headers, signal: stop.signal }));
    } catch (error) {  // the browser's own words ("Failed to fetch") are English: say what happened, in Vietnamese
      if (stop.signal.aborted || error instanceof StalledError) throw stalled(read, Boolean(headers["Idempotency-Key"]), error);
      throw new TypeError("Không kết nối được máy chủ (mạng yếu hoặc mất sóng): hãy thử lại", { cause: error });
    }
    if (response.status === 401) {
      keepDrafts();
      // Several calls in flight meet the ended session together: the first one goes to the login form. Each later
      // assignment would start the navigation again and abort the one under way (Chromium: net::ERR_ABORTED).
      if (!sessionEnded) window.location.href = "/login?het-han=1";
      sessionEnded = true;
      throw new Error("Phiên đăng nhập đã hết hạn");
    }
    let body = null;
    try {
      body = response.headers.get("content-type")?.includes("json") ? await response.json()
        : options.file && response.ok ? await response.blob() : null;  // a file answered (options.file): its bytes
    } catch (error) {  // the answer stopped on the way (its body never came whole)
      if (stop.signal.aborted) throw stalled(read, Boolean(headers["Idempotency-Key"]), error);
      throw error;
    }
    if (!response.ok) {
      // The Vietnamese message alone (`detail` adds the English reason for other clients and the logs).
      const detail = body?.message ?? (Array.isArray(body?.detail) ? body.detail.map((d) => d.msg).join("; ") : body?.detail);
      const error = new Error(detail ? String(detail) : `Lỗi máy chủ (${response.status})`);
      error.status = response.status;
      error.code = body?.code;
      error.body = body;  // what else the refusal says (an import's report of every refused row)
      throw error;
    }
    options.onHeaders?.(response.headers);
    return body;
  } finally {
    clearTimeout(timer);
  }
}

// The StalledError of a request given up: a read is asked again at will, a change with its Idempotency-Key is stored
// once however often it is sent, another change may be stored already (sent again, it could be stored twice).
function stalled(read, keyed, cause) {
  const then = read ? "hãy thử lại" : keyed ? "hãy thử lại — gửi lại không bị lưu hai lần"
    : "việc này có thể đã được lưu — hãy tải lại trang để kiểm tra trước khi làm lại";
  const error = new StalledError(`Máy chủ chưa trả lời (mạng yếu hoặc mất sóng): ${then}`, { cause });
  error.mayBeStored = !read && !keyed;
  return error;
}

// A request with a body of files sent as fetch would, telling `options.onProgress` (if given) the share of its body
// sent (fetch cannot tell): its answer as a fetch Response, a network failure as fetch's TypeError, and a StalledError
// when no byte went out for TIMEOUTS.uploadStalled, or no answer came TIMEOUTS.uploadAnswer after the last byte.
function sendWithProgress(path, options, headers) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    let timer = null;
    let gaveUp = false;
    const giveUpAfter = (ms) => {
      clearTimeout(timer);
      timer = setTimeout(() => { gaveUp = true; request.abort(); }, ms);
    };
    request.open(options.method || "GET", path);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.responseType = "blob";
    request.upload.onprogress = (event) => {
      giveUpAfter(TIMEOUTS.uploadStalled);
      if (event.lengthComputable && options.onProgress) options.onProgress(event.loaded / event.total);
    };
    request.upload.onload = () => giveUpAfter(TIMEOUTS.uploadAnswer);
    request.onload = () => {
      clearTimeout(timer);
      resolve(new Response([204, 205, 304].includes(request.status) ? null : request.response, {
        status: request.status, headers: { "Content-Type": request.getResponseHeader("Content-Type") || "" },
      }));
    };
    request.onerror = request.onabort = () => {
      clearTimeout(timer);
      reject(gaveUp ? new StalledError("stalled") : new TypeError("network error"));
    };
    giveUpAfter(TIMEOUTS.uploadStalled);
    request.send(options.body);
  });
}

// What was typed and not yet sent (fields marked data-draft, e.g. a team's note in the field) outlives a session that
// ended on the way, and the tab a phone closed (keepDraftsWhenHidden): kept in this tab when the login form takes over
// or the page is hidden, put back for the same user when the page is opened again.
const DRAFTS = "diaban-drafts";
const viewerName = () => document.querySelector("#who .user")?.textContent || "";

function keepDrafts() {
  const drafts = {};
  for (const field of document.querySelectorAll("[data-draft]")) {
    if (field.value.trim()) drafts[field.dataset.draft] = field.value;
  }
  try {
    if (Object.keys(drafts).length) sessionStorage.setItem(DRAFTS, JSON.stringify({ user: viewerName(), drafts }));
  } catch { /* storage refused (private mode): nothing kept */ }
}

// Drafts kept whenever the page is hidden (to be called once the page's own were put back, restoreDrafts): a phone
// short of memory closes a hidden tab — while its camera takes the photo for a note, during a call — and loads it again
// when the team comes back, and the note typed was gone. Those sent meanwhile are not kept (empty fields: nothing kept).
function keepDraftsWhenHidden() {
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "hidden") return;
    try { sessionStorage.removeItem(DRAFTS); } catch { return; }
    keepDrafts();
  });
}

// Put kept drafts back into the page's fields (opening the section they are in); how many were put back.
function restoreDrafts() {
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(DRAFTS) || "null");
    sessionStorage.removeItem(DRAFTS);
  } catch { return 0; }
  if (!kept || kept.user !== viewerName()) return 0;
  let restored = 0;
  for (const field of document.querySelectorAll("[data-draft]")) {
    const text = kept.drafts[field.dataset.draft];
    if (!text || field.value.trim()) continue;
    field.value = text;
    field.closest("details")?.setAttribute("open", "");
    restored += 1;
  }
  if (restored) notify("Trang được mở lại: ghi chú chưa gửi đã được giữ lại — hãy xem lại và bấm gửi " +
    "(ảnh, nếu có, cần chọn lại)");
  return restored;
}

// The Idempotency-Key of what a form sends (kept in its hidden `field`, a draft like its note): the same key while the
// same content is sent again (a retry after a lost answer, after a new login), a new one when the content changed.
function sendingKey(field, content) {
  const what = JSON.stringify(content);
  let kept = null;
  try { kept = JSON.parse(field.value || "null"); } catch { /* not ours: a new key */ }
  if (kept?.what === what) return kept.key;
  const key = newKey();
  field.value = JSON.stringify({ key, what });
  return key;
}

// A fresh Idempotency-Key: crypto.randomUUID needs a secure context; a phone on the station's plain-HTTP address has
// getRandomValues only.
const newKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

// Dates and times as Hải Phòng sees them (dd/mm/yyyy, 24 h; the page's time zone), whatever the browser's own. The
// formatter is made again once the page's zone is known: one made by a call before diabanStart (a script's
// DOMContentLoaded) had the browser's zone, and kept it for every date the page showed after.
let localFormat = null;
function localParts(value) {
  const zone = window.diaban?.timeZone;
  if (!localFormat || localFormat.zone !== zone) {
    localFormat = new Intl.DateTimeFormat("en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    });
    localFormat.zone = zone;
  }
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
  const later = sentLater(e);
  return `<time>${viDateTime(whenMade(e))}</time> ${escapeHtml(e.actor)}: ${eventChange(e, eventLabels, stateLabels, from, to)}`
    + (later ? ` <small class="sent-later">${later}</small>` : "");
}

// What an event did, with its note: «chuyển trạng thái: Đang thực hiện → <b>Đã hoàn thành…</b> — «…»».
function eventChange(e, eventLabels, stateLabels, from, to) {
  const change = to && from !== to ? `: ${from ? escapeHtml(stateLabels[from] || from) + " → " : ""}` +
    `<b>${escapeHtml(stateLabels[to] || to)}</b>` : "";
  const what = e.event === "transition" ? `chuyển trạng thái${change}` : `${escapeHtml(eventLabels[e.event] || e.event)}${change}`;
  return `${what}${e.note ? ` — «${escapeHtml(e.note)}»` : ""}`;
}

// A change a phone kept without signal and sent later (a task event's `made_at`, gis.store.tasks.when_made) is told at
// the time it was made, with when it reached the server: «(làm khi mất sóng, gửi lúc 07/12/2026 15:02)». A minute or
// less apart (a request that failed and went again at once) it reads as any other.
const SENT_LATER_MS = 60_000;
const whenMade = (e) => (e.made_at && new Date(e.at) - new Date(e.made_at) > SENT_LATER_MS ? e.made_at : e.at);
const sentLater = (e) => (whenMade(e) === e.at ? "" : `(làm khi mất sóng, gửi lúc ${viDateTime(e.at)})`);

// A task's events as its history shows them: a task created and given to a team in one action (its «created» event
// and the assignment that follows it, by the same user at the same moment) is one line, «Tạo mới: Đã giao» with the
// notes of both; it read as two, «Tạo mới: Chưa giao» then «Chưa giao → Đã giao». The stored events stay as they are.
function taskHistory(events) {
  const lines = [];
  for (const original of events) {
    // A line of the checklist ticked (gis.services.tasks.tick_checklist): «Cập nhật — «đã xong: …»».
    const ticked = original.event === "updated" && original.details && "line" in original.details;
    const e = ticked ? { ...original, note: `${original.details.done ? "đã xong" : "chưa xong"}: ${original.details.line}` }
      : original;
    const made = lines[lines.length - 1];
    if (made && made.event === "created" && made.to_state === "unassigned" && e.event === "transition" &&
        e.from_state === "unassigned" && e.actor === made.actor && e.at === made.at) {
      lines[lines.length - 1] = { ...e, event: "created", from_state: null,
        note: [made.note, e.note].filter(Boolean).join(" — ") || null };
    } else {
      lines.push(e);
    }
  }
  return lines;
}

// A task's checklist (command's list of steps), each line ticked once done, and how many are: «Danh sách việc (1/2
// đã xong)». No page showed it. `tick(item, done)` sends a line's change (the holding team's page, while it works the
// task); it is refused → the box is unticked again and the page says why. Without `tick` the lines are only shown.
// None without a checklist.
function checklistBox(task, tick = null) {
  const lines = task.checklist || [];
  if (!lines.length) return null;
  const box = document.createElement("fieldset");
  box.className = "checklist";
  const legend = () => `Danh sách việc (${VI_NUMBER.format(lines.filter((l) => l.done).length)}/` +
    `${VI_NUMBER.format(lines.length)} đã xong)`;
  box.innerHTML = `<legend>${legend()}</legend>` + lines.map((l, i) => `<label><input type="checkbox" data-item="${i}"` +
    `${l.done ? " checked" : ""}${tick ? "" : " disabled"}> ${escapeHtml(l.item)}</label>`).join("");
  if (tick) {
    box.addEventListener("change", async (event) => {
      const input = event.target;
      const item = Number(input.dataset.item);
      input.disabled = true;
      try {
        await tick(item, input.checked);
        lines[item].done = input.checked;
        box.querySelector("legend").textContent = legend();
      } catch (error) {
        input.checked = !input.checked;
        notify(error.message, true);
      } finally {
        input.disabled = false;
      }
    });
  }
  return box;
}

// A detection run's entry as users read it: by «Hệ thống» (`detectionActor`) and that run, its note without the English
// it keeps for the logs («phát hiện qua phân cụm (found by clustering)»): the stored «detection run 3» and English
// showed as such.
function byDetectionRun(e, detectionActor) {
  return !e.run_id ? e : { ...e, actor: `${detectionActor}, lần chạy #${e.run_id}`,
    note: e.note && e.note.replace(/ \([^()]*\)$/, "") };
}

// The photos sent with one note of a task, as thumbnails (a small preview of each: a few kB, not the photo's MB on a
// phone's weak network) that open the full photo (the team's evidence, seen by the team and by command when it
// accepts or returns the work).
function evidencePhotos(taskId, photos) {
  return (photos || []).map((p) => `<a class="evidence" href="/api/tasks/${taskId}/photos/${p.id}" target="_blank" rel="noopener">` +
    `<img class="evidence" loading="lazy" src="/api/tasks/${taskId}/photos/${p.id}/preview" alt="Ảnh hiện trường #${p.id}" ` +
    `width="${Math.min(p.width, 160)}"></a>`).join("");
}

// A task's priority inside a line of the task («…; ưu tiên cao»), the label lower-cased as a word mid-sentence
// («ưu tiên Cao» read as a name); the labels stay capitalised where they stand alone (a list's choices).
// A task's due date matters until its team's work is done (TASK_WORK_DONE: reported, accepted, declined, cancelled;
// that work keeps its date in the history): command's registers and cards and the team's list alike.
const dueApplies = (state) => !window.diaban.workDoneTaskStates.includes(state);
const priorityWords = (priority, labels) => `ưu tiên ${escapeHtml(labels[priority].toLocaleLowerCase("vi"))}`;

function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// The status line, shown over the bottom of the panel whatever is scrolled (on a team's phone at the top: app.css); a
// click dismisses it, and so does its «×» (a button, reached by the keyboard: nothing said a tap would), a success also
// goes away by itself once read (SHOWN_MS). `tone`: false a success, true an error, "warning" a success with a warning
// (a change stored, what the page shows not loaded again: amber, never the red of a failure, which reads «not saved,
// send it again»); an error or a warning stays until the next message or a tap: it must be read. `retry`, if given, is
// offered as a «Thử lại» button (a message holding one stays too). `about` names the action an error is of: the same
// action succeeding later takes it away (settled), where nothing else would say it (a filter applied again).
let notifyTimer = null;
// A question before a change that cannot be taken back, asked in the page (a modal <dialog>, above the map and the
// panel): its buttons say what they do («Phê duyệt», «Quay lại»), in Vietnamese, 44 px high on a phone. The browser's
// confirm() asked under «127.0.0.1:8765 cho biết» with «OK» and «Hủy» (or «Cancel») in the browser's language, and a
// browser offers to stop a page's questions after a few, then answers «no» unasked. `no` is focused first: Enter or a
// second tap on the button that opened it does not say yes. Resolves true for `yes`; `no`, Esc or the dialog closed
// otherwise: false. A line break in the question starts a new line.
function ask(question, yes, no = "Quay lại") {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "ask";
    dialog.setAttribute("aria-label", "Xác nhận");
    dialog.innerHTML = '<p class="question"></p><form method="dialog" class="ask-buttons">' +
      '<button type="submit" value="no"></button><button type="submit" value="yes" class="yes"></button></form>';
    dialog.querySelector(".question").textContent = question;
    const [noButton, yesButton] = dialog.querySelectorAll("button");
    noButton.textContent = no;
    yesButton.textContent = yes;
    const opener = document.activeElement;
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener?.isConnected) opener.focus({ preventScroll: true });  // the keyboard's place kept
      resolve(dialog.returnValue === "yes");
    }, { once: true });
    document.body.append(dialog);
    dialog.showModal();
    noButton.focus();
  });
}

// How long a success stays: the time to read it (about 70 ms a character, a slow reader's pace on a phone), at least
// 6 s and at most 12 s (it used to be 12 s for the shortest «Đã lưu»).
const SHOWN_MS = (message) => Math.min(12_000, Math.max(6_000, 70 * message.length));
function notify(message, tone = false, retry = null, about = null) {
  const box = document.getElementById("message");
  const clear = () => { box.textContent = ""; delete box.dataset.about; };
  box.textContent = asSentence(message);
  box.className = tone === true ? "message error" : tone === "warning" ? "message warning" : "message";
  if (tone === true && about) box.dataset.about = about; else delete box.dataset.about;
  box.onclick = clear;
  if (retry) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "retry";
    button.textContent = "Thử lại";
    button.onclick = (event) => { event.stopPropagation(); clear(); retry(); };
    box.append(" ", button);
  }
  if (message) {
    // Its «×» drawn by app.css (::before): the message's text stays the message alone, as it is read and tested.
    const close = document.createElement("button");
    close.type = "button";
    close.className = "close";
    close.setAttribute("aria-label", "Đóng thông báo");
    close.title = "Đóng thông báo";
    close.onclick = (event) => { event.stopPropagation(); clear(); };
    box.prepend(close);
  }
  clearTimeout(notifyTimer);
  const shown = box.firstChild;
  if (!tone && !retry) notifyTimer = setTimeout(() => { if (box.firstChild === shown) clear(); }, SHOWN_MS(message));
}

// A message shown on its own starts with a capital: the server's refusals are worded to follow «…: » in a sentence
// («sai tên đăng nhập…», «điểm này nằm ngoài địa bàn…») and are capitalised here, where they stand alone (the login
// and password pages: maps.pages.as_sentence). A page's own message therefore starts with a word, never with a
// username or a code («Tài khoản chuyen-to: …», not «chuyen-to: …», which would read «Chuyen-to»).
const asSentence = (message) => (message ? message[0].toLocaleUpperCase("vi") + message.slice(1) : "");

// The action `about` (notify) has now succeeded: its error, if the band still shows it, is taken away.
function settled(about) {
  const box = document.getElementById("message");
  if (box.dataset.about === about) { box.textContent = ""; delete box.dataset.about; }
}

// A failed request told: its message, with «Thử lại» (`retry`) when it failed on the way (the network, a request
// given up: TypeError) rather than refused by the server (trying again would be refused again) — not for a change
// given up that may be stored already (its message says to look first). `about`: the action's name (notify, settled).
function failed(error, retry, about = null) {
  notify(error.message, true, error instanceof TypeError && !error.mayBeStored ? retry : null, about);
}

// Why a request failed, in a few words: given up (StalledError), the network's state, or the server's refusal.
const failure = (error) => (error instanceof StalledError ? "máy chủ chưa trả lời, mạng yếu hoặc mất sóng"
  : error instanceof TypeError ? "mạng yếu hoặc mất sóng" : error.message);

// After a change the server stored (`done` says what): what the page shows is loaded again by `refresh` (told
// «đang cập nhật …» meanwhile); whether it was. A failure to load is a success with a warning: the change IS saved,
// not to be sent again, and `how` says how to see it (it was told in red, as if the change had failed). `tone`
// "warning": `done` holds a «Lưu ý» to act on (amber, it stays until read instead of going by itself).
async function refreshAfterSave(done, refresh, how, tone = false) {
  notify(`${done} — đang cập nhật…`);
  try {
    await refresh();
    regainFocus();
  } catch (error) {
    if (error.status !== 401) {
      notify(`${done}: đã lưu, không cần gửi lại. Chưa cập nhật được nội dung trên trang (${failure(error)}): ${how}`,
        "warning", error instanceof TypeError ? () => refreshAfterSave(done, refresh, how, tone) : null);
    }
    return false;
  }
  notify(done, tone);
  return true;
}

// Only the answer to the newest of a series of requests counts (filters, a year, the map's view change faster than
// answers come: an older answer arriving last was drawn under the newer choice). `newestOnly()` gives a function
// that runs `request()` and answers what it answered, or STALE when a later request of the series was made meanwhile
// (a failure of such an older one too: it is nobody's to tell).
const STALE = Symbol("stale");
function newestOnly() {
  let last = 0;
  return async (request) => {
    const mine = ++last;
    try {
      const answer = await request();
      return mine === last ? answer : STALE;
    } catch (error) {
      if (mine !== last) return STALE;
      throw error;
    }
  };
}

// Changes on their way, by what they change (a key; several at once are counted): `during(key, send)` answers what
// `send()` answered, the key held meanwhile; `has(key)` says whether it is held; `onChange` is called whenever a key is
// taken or let go (a page shows its buttons disabled meanwhile: a second click sent the change twice).
function onTheirWay(onChange) {
  const held = new Map();
  return {
    has: (key) => held.has(key),
    async during(key, send) {
      held.set(key, (held.get(key) || 0) + 1);
      onChange();
      try { return await send(); } finally {
        if (held.get(key) > 1) held.set(key, held.get(key) - 1); else held.delete(key);
        onChange();
      }
    },
  };
}

// A local calendar day as YYYY-MM-DD (what the API's date filters take).
// Today in Hải Phòng (its calendar day at local midnight), as the server counts a day: the quick periods, a due date.
function localToday() {
  const p = localParts(Date.now());
  return new Date(Number(p.year), Number(p.month) - 1, Number(p.day));
}

function isoDay(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`;
}

// A dd/mm/yyyy field as an ISO day (empty when blank, malformed or not a day of the calendar, e.g. 31/02/2027).
function isoFromVi(text) {
  const match = String(text || "").trim().match(/^(\d{1,2})\/(\d{1,2})\/(\d{4})$/);
  if (!match) return "";
  const [day, month, year] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return "";
  return `${match[3]}-${match[2].padStart(2, "0")}-${match[1].padStart(2, "0")}`;
}

// A day field a card builds, read by dayField: typed dd/mm/yyyy, with a phone's numeric keyboard, as the panels' date
// fields (maps.panels: inputmode numeric; no `pattern`, whose refusal would be the browser's own bubble — dayField
// says it in Vietnamese). `day`: an ISO day to show (or none); `keep`: its name in a card drawn again (data-keep).
function dayInput(name, day, keep) {
  return `<input name="${name}" value="${day ? viDate(day) : ""}" placeholder="dd/mm/yyyy" inputmode="numeric"` +
    ` data-keep="${keep}">`;
}

// A typed day as an ISO day, "" when left blank; a Vietnamese error naming the field when it is not a day written
// dd/mm/yyyy (never silently dropped: a task without its due date, a map of every date instead of the period asked).
function dayField(input, label) {
  const typed = input.value.trim();
  if (!typed) return "";
  const iso = isoFromVi(typed);
  if (!iso) {
    input.focus();
    throw new Error(`${label}: «${typed}» không phải ngày hợp lệ — hãy ghi theo dạng dd/mm/yyyy, ví dụ 15/01/2027`);
  }
  return iso;
}

// The map flown to a place (the search, a register's row) — `target` a LatLng at `zoom`, or LatLngBounds at most at
// `zoom` — over `duration` seconds, then `arrived` called. Where the device asks for less motion (the system's «reduce
// motion», «remove animations» on a phone: a long zooming flight can make its user dizzy, WCAG 2.3.3) the map jumps
// there (Leaflet's flyTo without animation is setView) and `arrived` is called at once: a listener for the flight's
// end added after it would wait for the next move.
function flyMap(map, target, zoom, duration, arrived = null) {
  const animate = !matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (target instanceof L.LatLngBounds) map.flyToBounds(target, { duration, animate, maxZoom: zoom });
  else map.flyTo(target, zoom, { duration, animate });
  if (arrived && animate) map.once("moveend", arrived);
  else if (arrived) arrived();
}

// Map panes (inside the overlay pane: above any basemap, under markers and popups), bottom to top, so that all
// layers together stay readable: the land, the commune classes, the heat surface, Gi* and emerging cells, the commune
// lines, incidents, the communes' names, hotspots, the marks (the search's, a place's): a name never covers a marker.
// The units' polygons (the land, the classes, the lines; nation-wide 3,321 in each) are drawn on a canvas, one per
// pane: as SVG, a DOM path each, the Ministry's pages took seconds to draw them. bench_pages.py --national-only
// --baseline f6f8c9c (desktop, median of 3, first / later visit, load 8-10 on 2 cores): the planner's page painted
// 7.65 / 6.83 s after navigation, 4.39 / 3.40 s on canvases with its table drawn once (planner.js; long tasks
// 7.0 / 6.0 → 3.6 / 3.0 s), the admin's area editor 1.85 / 3.32 → 1.28 / 1.30 s; the command page (lines alone,
// classes hidden) the same, within the noise. A canvas covers the map and takes every pointer event over it, finding
// the polygon under the pointer itself (tooltips, clicks): a canvas pane whose polygons take none lets them through
// to the panes below (pointer-events none: the land, and the lines on a page that does not act on communes,
// communesLayer), so that the classes under the lines still get theirs. The few shapes people point at over them
// (hotspots, cells, the search's mark) stay SVG, whose empty parts let clicks through (app.css).
const PANES = { land: 1, classes: 2, heat: 3, cells: 4, lines: 5, incidents: 6, names: 7, hotspots: 8, labels: 9 };
const CANVAS_PANES = ["land", "classes", "lines"];
const paneRenderers = {};
// A canvas drawn at `pixelRatio` canvas pixels per CSS pixel: Leaflet's own draws at 2 on a high-density screen and 1
// elsewhere (L.Browser.retina), which the printer took as a ~96 dpi picture — the commune lines and classes came out
// soft on paper, where SVG had printed as vectors. Null: Leaflet's ratio; printing raises it (printPixels).
let RatioCanvas;  // a class made on first use: the login page loads this file without Leaflet
function ratioCanvas(pane) {
  RatioCanvas ??= L.Canvas.extend({
    pixelRatio: null,
    // Draws again at `ratio` (null: the screen's).
    setPixelRatio(ratio) {
      this.pixelRatio = ratio;
      if (this._map) this._update();
    },
    // Leaflet 1.9.4's Canvas._update, its ratio read from pixelRatio.
    _update() {
      if (this._map._animatingZoom && this._bounds) return;
      L.Renderer.prototype._update.call(this);
      const bounds = this._bounds, size = bounds.getSize(), canvas = this._container;
      const ratio = this.pixelRatio ?? (L.Browser.retina ? 2 : 1);
      L.DomUtil.setPosition(canvas, bounds.min);
      canvas.width = ratio * size.x;  // which clears it and its transform
      canvas.height = ratio * size.y;
      canvas.style.width = `${size.x}px`;
      canvas.style.height = `${size.y}px`;
      this._ctx.scale(ratio, ratio);
      this._ctx.translate(-bounds.min.x, -bounds.min.y);
      this._blank = true;
      this.fire("update");  // the paths draw themselves again
    },
    // Leaflet clears a canvas before it draws, a blank one too. Chromium prints what a canvas drew during
    // beforeprint as vectors, sharp, and replays a clear there as erasing the page under the canvas: the water, the
    // land, the classes and the heat came out white under the lines. Drawing goes through _redraw, clear then draw,
    // so a canvas is blank from its sizing to its next clear, which can be left out.
    _clear() {
      if (!this._blank) L.Canvas.prototype._clear.call(this);
      this._blank = false;
    },
  });
  return new RatioCanvas({ pane });
}
// Printing (the sheet's button, the browser's menu, a PDF) draws the canvases again at 3 pixels per CSS pixel, ~290
// dpi on paper, and at the screen's ratio after: the browser fires beforeprint before it lays the page out for paper,
// and the redraw is synchronous. Chromium prints what was drawn then as vectors; other browsers print the pictures,
// sharp at 3. Only while printing: at 3 an A3 sheet's canvas holds some 15 million pixels.
const PRINT_PIXEL_RATIO = 3;
function printPixels(ratio) {
  for (const renderer of Object.values(paneRenderers)) {
    renderer.setPixelRatio?.(ratio);  // the canvases
  }
}
window.addEventListener("beforeprint", () => printPixels(PRINT_PIXEL_RATIO));
window.addEventListener("afterprint", () => printPixels(null));
function makePanes(map) {
  for (const [name, z] of Object.entries(PANES)) {
    if (!map.getPane(name)) map.createPane(name, map.getPane("overlayPane")).style.zIndex = String(z);
  }
  map.getPane("labels").style.pointerEvents = "none";
  map.getPane("names").style.pointerEvents = "none";
  map.getPane("land").style.pointerEvents = "none";
}
// Options drawing a vector layer in a pane: the pane's own renderer (CANVAS_PANES: a canvas, else SVG).
function inPane(pane) {
  paneRenderers[pane] ??= CANVAS_PANES.includes(pane) ? ratioCanvas(pane) : L.svg({ pane });
  return { pane, renderer: paneRenderers[pane] };
}
// A fingertip covers some 40 px of a phone's map (touch targets of 44 px: WCAG 2.5.5, Apple's and Android's guides),
// while a hotspot's disc of the whole city is 6–15 px across and a team's marks 18 px: a tap that missed them all
// opened nothing. On a touch screen, the circle of `groups` (layer groups on the map, nested ones too) whose edge is
// nearest a map click and within TAP_REACH_PX of it, if it has a popup; null otherwise — and always with a mouse,
// which aims (a click beside a disc stays the map's: the incidents under the pointer).
const TAP_REACH_PX = 16;
function circleNear(map, groups, point) {
  if (!matchMedia("(pointer: coarse)").matches) return null;
  let nearest = null;
  let gap = TAP_REACH_PX;
  const visit = (layer) => {
    if (layer.eachLayer) { layer.eachLayer(visit); return; }
    if (!layer.getRadius || !layer.getPopup()) return;
    const away = map.latLngToContainerPoint(layer.getLatLng()).distanceTo(point) - layer.getRadius();
    if (away <= gap) { nearest = layer; gap = away; }
  };
  groups.filter((group) => map.hasLayer(group)).forEach(visit);
  return nearest;
}

// A name without accents, lower case, without the unit's kind in front, in full or short («phường», «P.», «X »,
// «ĐK», «TT.»: the vocabulary's pattern, in the page config): what a search compares.
function plain(text) {
  return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
    .toLowerCase().replace(/\s+/g, " ").trim();
}
let communeKind = null;
const withoutKind = (text) => plain(text).replace(communeKind ??= new RegExp(window.diaban.communeKindPattern), "");

// How a typed commune name is matched, by the map's search and by the pages' commune filters alike: accents, case
// and the kind («xã», «phường», «P.») left aside. `unit`: {name, full_name}; `text`: what was typed, as withoutKind
// reads it. Named exactly: its name or full name is the text; else a unit whose full name holds the text.
const namedExactly = (unit, text) => withoutKind(unit.name) === text || withoutKind(unit.full_name) === text;
const nameHolds = (unit, text) => withoutKind(unit.full_name).includes(text);

// The units (each {code, name, full_name}) a typed name names: those it names exactly, else those whose full name
// holds it (none for nothing typed).
function unitsNamed(units, typed) {
  const text = withoutKind(typed);
  if (!text) return [];
  const exact = units.filter((u) => namedExactly(u, text));
  return exact.length ? exact : units.filter((u) => nameHolds(u, text));
}

// Whether [lon, lat] lies inside a GeoJSON Polygon or MultiPolygon (even-odd rule, holes included).
function insideGeometry(point, geometry) {
  const [x, y] = point;
  const inRing = (ring) => {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  return polygons.some((rings) => rings.reduce((inside, ring) => inside !== inRing(ring), false));
}

// Commune names written on the map by zoom: none below zoom 11 (the city is a few hundred pixels wide), the short
// name up to 12, the full name from 13. Each name sits at its unit's label point (a point inside it) when that is on
// screen, else at a point of the unit that is on screen, the nearest to the view's centre: at street zoom the name of
// the commune under the view is always there. Never over the view's centre, where a search or a register row brings
// the hotspot or place it shows (the name was written over its marker): a name whose box would cover a marker there
// (CENTRE_CLEAR_PX) goes to the nearest point of the unit clear of it. Drawn under the markers (PANES.names). Larger
// units are named first; a name that would overlap one already written is left out.
const CENTRE_CLEAR_PX = 18;  // a hotspot's ring (14 px) and its stroke
function communeLabels(map, features) {
  const layer = L.layerGroup().addTo(map);
  const boxes = features.map((f) => L.geoJSON(f).getBounds());
  const order = features.map((f, n) => n).sort((a, b) => features[b].properties.area_km2 - features[a].properties.area_km2);
  function place() {
    layer.clearLayers();
    const zoom = map.getZoom();
    if (zoom < 11) return;
    const view = map.getBounds().pad(-0.06);
    const centre = map.getSize().divideBy(2);
    const taken = [];
    order.forEach((n) => {
      const f = features[n];
      const box = boxes[n];
      if (!view.intersects(box)) return;
      const name = zoom >= 13 ? f.properties.full_name : f.properties.name;
      const half = { x: name.length * 3.6 + 4, y: 9 };  // about 7 px a character at 12 px
      const coversCentre = (q) => Math.abs(q.x - centre.x) < half.x + CENTRE_CLEAR_PX
        && Math.abs(q.y - centre.y) < half.y + CENTRE_CLEAR_PX;
      let where = L.latLng(f.properties.label[1], f.properties.label[0]);
      if (!view.contains(where) || coversCentre(map.latLngToContainerPoint(where))) {
        const south = Math.max(view.getSouth(), box.getSouth()), north = Math.min(view.getNorth(), box.getNorth());
        const west = Math.max(view.getWest(), box.getWest()), east = Math.min(view.getEast(), box.getEast());
        let best = null;
        for (let i = 0; i <= 8; i += 1) {
          for (let j = 0; j <= 8; j += 1) {
            const p = [west + ((east - west) * i) / 8, south + ((north - south) * j) / 8];
            const q = map.latLngToContainerPoint([p[1], p[0]]);
            const d = q.distanceTo(centre);
            if ((!best || d < best.d) && !coversCentre(q) && insideGeometry(p, f.geometry)) best = { p, d };
          }
        }
        if (!best) return;
        where = L.latLng(best.p[1], best.p[0]);
      }
      const p = map.latLngToContainerPoint(where);
      if (taken.some((t) => Math.abs(t.x - p.x) < t.w + half.x && Math.abs(t.y - p.y) < half.y * 2)) return;
      taken.push({ x: p.x, y: p.y, w: half.x });
      L.marker(where, {
        pane: "names", interactive: false, keyboard: false,
        icon: L.divIcon({ className: "commune-label", html: `<span>${escapeHtml(name)}</span>`, iconSize: null }),
      }).addTo(layer);
    });
  }
  map.on("zoomend moveend", place);
  place();
  layer.on("remove", () => map.off("zoomend moveend", place));  // removed: its units are drawn again
  return layer;
}

// Commune boundaries and a code → name lookup. Without a basemap they are the base too: communes as land over
// water-coloured ground, the city's outline drawn as a casing under the land (only the outer edge stays visible).
// The name a unit goes by on a page: its full name, with its province's where the page's communes lie in several
// (nation-wide, 572 of the 3,321 units share their name with one of another province: «Phường An Phú» is in Gia Lai
// and in Hồ Chí Minh).
function communeTitle(properties) {
  return window.diaban.severalProvinces && properties.province
    ? `${properties.full_name} (${properties.province})` : properties.full_name;
}

// The units' detail follows the zoom on a page that opens wide (a view of several provinces: the Ministry's whole
// country opens at zoom 5): simplified by COARSE_M (nation-wide 0.6 MB compressed, against 4.7 MB at FINE_M) until the
// map is first zoomed in to FINE_ZOOM (a pixel of 300 m or less), then the FINE_M shapes once, put in place of the
// coarse ones in every layer drawn from them (and the page's own: the "communesrefined" event carries them by code).
// A province opens at zoom 7 or closer: FINE_M at once, one download.
const SHAPES = { FINE_M: 20, COARSE_M: 500, FINE_ZOOM: 9, WIDE_ZOOM: 7 };

// Each polygon of `group` (GeoJSON layers of the communes, nested groups too) given its unit's shape in `shapes`.
function reshape(group, shapes) {
  group.eachLayer((l) => {
    if (!l.feature) { if (l.eachLayer) reshape(l, shapes); return; }
    const shape = shapes[l.feature.properties.code];
    if (shape) l.setLatLngs(L.GeoJSON.coordsToLatLngs(shape.coordinates, shape.type === "MultiPolygon" ? 2 : 1));
  });
}

async function communesLayer(map, options = {}) {
  const wide = map.getZoom() < SHAPES.WIDE_ZOOM;
  const communes = await api(`/api/communes?simplify_m=${wide ? SHAPES.COARSE_M : SHAPES.FINE_M}`);
  window.diaban.severalProvinces = new Set(communes.features.map((f) => f.properties.province_code)).size > 1;
  const names = Object.fromEntries(communes.features.map((f) => [f.properties.code, communeTitle(f.properties)]));
  makePanes(map);
  const drawn = L.featureGroup();  // every layer drawn from the units' shapes (not added: each is on the map already)
  if (!window.diaban.basemap) {
    map.getContainer().classList.add("own-base");
    drawn.addLayer(L.geoJSON(communes, { ...inPane("land"), interactive: false, style: { color: "#1e293b", weight: 5, fill: false } })
      .addTo(map));
    drawn.addLayer(L.geoJSON(communes, { ...inPane("land"), interactive: false, style: { stroke: false, fillColor: "#f4f1e8", fillOpacity: 1 } })
      .addTo(map));
  }
  // The lines take clicks only on the pages that act on communes (they pass their own options); elsewhere their
  // canvas lets the pointer through to the classes and cells under it.
  const interactive = Object.keys(options).length > 0;
  map.getPane("lines").style.pointerEvents = interactive ? "" : "none";
  const layer = L.geoJSON(communes, { ...inPane("lines"), interactive,
    style: { color: "#64748b", weight: 1, fill: false }, ...options }).addTo(map);
  drawn.addLayer(layer);
  drawn.addLayer(communeLabels(map, communes.features));
  window.diaban.communes = communes.features;
  let refine = null;
  if (wide) {
    refine = async () => {
      if (map.getZoom() < SHAPES.FINE_ZOOM) return;
      map.off("zoomend", refine);
      let fine;
      try { fine = await api(`/api/communes?simplify_m=${SHAPES.FINE_M}`); } catch {
        map.on("zoomend", refine);  // the coarse shapes stay; the next zoom tries again
        return;
      }
      const shapes = Object.fromEntries(fine.features.map((f) => [f.properties.code, f.geometry]));
      reshape(drawn, shapes);
      for (const f of communes.features) f.geometry = shapes[f.properties.code] || f.geometry;  // search, labels
      map.fire("communesrefined", { shapes });
    };
    map.on("zoomend", refine);
  }
  // Everything drawn from these units taken off the map, the names and the finer shapes' wait with them: a page
  // drawing its units again (after a boundary import) calls it before drawing the new ones.
  const remove = () => {
    drawn.eachLayer((l) => l.remove());
    if (refine) map.off("zoomend", refine);
  };
  return { layer, names, features: communes.features, remove };
}

// ----------------------------------------------------------------------------------------------------- search
// What was typed, understood: coordinates (decimal, with a point or a decimal comma, or degrees-minutes-seconds
// with N/E or B/Đ), a hotspot ("#12", "điểm nóng 12", "12"), a task ("NV 7", "nhiệm vụ 7"), a commune code (5
// digits) or a commune name (with or without accents, with or without "xã"/"phường").
function parseSearch(text) {
  const raw = String(text || "").trim();
  const norm = plain(raw);
  const dms = [...raw.toUpperCase().matchAll(
    /(\d{1,3}(?:[.,]\d+)?)\s*°\s*(?:(\d{1,2}(?:[.,]\d+)?)\s*['′’]\s*)?(?:(\d{1,2}(?:[.,]\d+)?)\s*(?:["″”]|'')\s*)?([NSEWBĐ])?/g)];
  const number = (v) => (v ? Number(String(v).replace(",", ".")) : 0);
  if (dms.length === 2) {
    const values = dms.map((m) => {
      const v = number(m[1]) + number(m[2]) / 60 + number(m[3]) / 3600;
      return { v: m[4] === "S" || m[4] === "W" ? -v : v, axis: m[4] };
    });
    return coordinatesOf(values.map((x) => x.v), values.map((x) => x.axis));
  }
  const decimal = raw.match(/^(-?\d{1,3}(?:[.,]\d+)?)\s*(?:[,;]\s*|\s+)(-?\d{1,3}(?:[.,]\d+)?)$/);
  if (decimal && /[.,]/.test(raw)) return coordinatesOf([number(decimal[1]), number(decimal[2])], []);
  let m = norm.match(/^(?:#|dn|diem nong|diem|hotspot)\s*#?\s*(\d{1,6})$/);
  if (m) return { kind: "hotspot", id: Number(m[1]) };
  m = norm.match(/^(?:nv|nhiem vu|task)\s*#?\s*(\d{1,7})$/);
  if (m) return { kind: "task", id: Number(m[1]) };
  if (/^\d{5}$/.test(norm)) return { kind: "code", code: norm };
  if (/^\d{1,4}$/.test(norm)) return { kind: "hotspot", id: Number(norm) };
  return norm ? { kind: "name", text: withoutKind(raw) } : null;
}

function coordinatesOf(values, axes) {
  let [lat, lon] = values;
  if (axes[0] === "E" || axes[0] === "Đ" || axes[1] === "N" || axes[1] === "B" || Math.abs(lat) > 90) [lat, lon] = [lon, lat];
  return { kind: "point", lat, lon };
}

// What the search box takes, longest first: the box shows the longest that fits (a 360 px phone cut the first after
// "mã xã,"), and keeps the first as its tooltip.
const SEARCH_HINTS = [
  "Tìm xã/phường, mã xã, tọa độ, số điểm nóng (#12), nhiệm vụ (NV 7)",
  "Xã/phường, tọa độ, #12, NV 7",
  "Xã, tọa độ, #12, NV 7",
  "Xã, tọa độ, #12",
];
const hintRuler = document.createElement("canvas").getContext("2d");

function fitHint(input) {
  const style = getComputedStyle(input);
  hintRuler.font = style.font;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  input.placeholder = SEARCH_HINTS.find((hint) => hintRuler.measureText(hint).width <= room) ?? SEARCH_HINTS.at(-1);
}

// How long a search that matched a current name exactly waits for the former names before it flies there all the
// same: without the wait it flew at once, and a weak network must not hold it for a read's 20 s (TIMEOUTS.read).
const FORMER_WAIT_MS = 3000;

// The units before the 1 July 2025 reorganisation a typed name names (GET /api/communes/former: officers still say
// «Hạ Lý»), each as a choice of the current unit it became part of among the page's `features`: «Hạ Lý (cũ, Quận Hồng
// Bàng) → Phường Hồng Bàng», with the story as its tooltip. `exact`: the current units the name matched exactly,
// which the list already offers: an old unit is offered only for the other current units it lies in (an old commune
// «Ngô Quyền» of Huyện Thanh Miện, now in Xã Hải Hưng, beside today's Phường Ngô Quyền). `hurry`: the search flies
// to its one exact match unless a former name adds a choice, so the server is waited for at most FORMER_WAIT_MS.
// None when the server cannot be asked (no signal) or is late: the current names are searched all the same.
async function formerNames(text, features, exact = [], hurry = false) {
  if (text.length < 2) return [];
  const asked = api(`/api/communes/former?q=${encodeURIComponent(text.slice(0, 100))}`).catch(() => []);
  const late = new Promise((resolve) => { if (hurry) setTimeout(() => resolve([]), FORMER_WAIT_MS); });
  const rows = await Promise.race([asked, late]);
  const byCode = new Map(features.map((f) => [f.properties.code, f]));
  for (const f of exact) byCode.delete(f.properties.code);
  return rows.filter((row) => byCode.has(row.code)).map((row) => {
    const feature = byCode.get(row.code);
    const now = communeTitle(feature.properties);
    const part = row.split ? "một phần " : "";
    return { feature, label: `${row.name} (cũ, ${row.district}) → ${part}${now}`,
      title: `${row.absorbed ? `${row.name} đã nhập vào ${row.former}; ` : `${row.former}: `}nay ${part}thuộc ${now}` };
  });
}

// The search box over the map: flies to what was typed; several communes match → a short list to pick from.
// `open` (optional) shows a hotspot or a task the page has (its popup or its row) once the map is there; `found`
// (optional) hears each place the search went to, `{ latlng, label }` (a commune: the centre of its extent).
function searchControl(map, { open = {}, found = () => {} } = {}) {
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    const box = L.DomUtil.create("form", "map-search");
    box.setAttribute("role", "search");
    box.innerHTML = `<input type="search" name="q" aria-label="Tìm trên bản đồ" autocomplete="off"
      title="${SEARCH_HINTS[0]}"><button type="submit">Tìm</button><div class="search-choices" hidden></div>`;
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    box.addEventListener("submit", (event) => { event.preventDefault(); go(box); });
    return box;
  };
  control.addTo(map);
  const input = control.getContainer().elements.q;
  fitHint(input);
  window.addEventListener("resize", () => fitHint(input));
  let mark = null;
  // A place found, marked and flown to; `arrived` (a hotspot's or task's card to open) once there.
  function show(latlng, zoom, label, arrived = null) {
    if (mark) mark.remove();
    mark = L.circleMarker(latlng, { ...inPane("labels"), radius: 14, color: "#0f172a", weight: 3, dashArray: "4 3", fill: false,
      interactive: false }).addTo(map);
    flyMap(map, latlng, zoom, 0.8, arrived);
    notify(label);
    found({ latlng, label });
  }
  function showCommune(feature, arrived = null) {
    const bounds = L.geoJSON(feature).getBounds();
    if (mark) mark.remove();
    mark = L.geoJSON(feature, { ...inPane("labels"), interactive: false, style: { color: "#0f172a", weight: 4, fill: false,
      dashArray: "6 4" } }).addTo(map);
    flyMap(map, bounds, 15, 0.8, arrived);
    notify(`${communeTitle(feature.properties)} (mã ${feature.properties.code})`);
    found({ latlng: bounds.getCenter(), label: `giữa ${communeTitle(feature.properties)}` });
  }
  async function go(box) {
    const choices = box.querySelector(".search-choices");
    choices.hidden = true;
    const what = parseSearch(box.q.value);
    if (!what) return;
    const features = window.diaban.communes || [];
    try {
      if (what.kind === "point") {
        const where = L.latLng(what.lat, what.lon);
        if (!L.latLngBounds(window.diaban.maxBounds).contains(where)) {
          throw new Error(`Tọa độ ${what.lat.toFixed(5)}, ${what.lon.toFixed(5)} nằm ngoài ${window.diaban.area || "vùng bản đồ"}`);
        }
        const commune = features.find((f) => insideGeometry([what.lon, what.lat], f.geometry));
        show(where, 17, `Tọa độ ${what.lat.toFixed(5)}, ${what.lon.toFixed(5)}` +
          (commune ? ` — ${communeTitle(commune.properties)}` : " — ngoài địa giới các xã, phường"));
      } else if (what.kind === "hotspot") {
        const hotspot = await api(`/api/hotspots/${what.id}`);
        const [lon, lat] = hotspot.geometry.coordinates;
        show(L.latLng(lat, lon), 17, `Điểm nóng #${what.id}`, open.hotspot && (() => open.hotspot(what.id)));
      } else if (what.kind === "task") {
        const task = await api(`/api/tasks/${what.id}`);
        const opened = open.task && (() => open.task(what.id));
        if (task.lat === null || task.lat === undefined) {
          const commune = features.find((f) => f.properties.code === task.commune_code);
          if (!commune) throw new Error(`Nhiệm vụ #${what.id} không có vị trí trên bản đồ`);
          showCommune(commune, opened);
        } else {
          show(L.latLng(task.lat, task.lon), 17, `Nhiệm vụ #${what.id}`, opened);
        }
      } else if (what.kind === "code") {
        const commune = features.find((f) => f.properties.code === what.code);
        if (!commune) throw new Error(`Không có xã/phường mã ${what.code}`);
        showCommune(commune);
      } else {
        const query = box.q.value.trim();
        const exact = features.filter((f) => namedExactly(f.properties, what.text));
        const found = exact.length ? exact : features.filter((f) => nameHolds(f.properties, what.text));
        const choice = ({ feature, label, title = "" }) => {
          const button = document.createElement("button");
          button.type = "button";
          button.textContent = label;
          if (title) button.title = title;
          button.addEventListener("click", () => { choices.hidden = true; showCommune(feature); });
          return button;
        };
        const offer = (former) => {
          choices.replaceChildren(...[...found.slice(0, 8).map((f) => ({ feature: f, label: communeTitle(f.properties) })),
            ...former.slice(0, 8)].map(choice));
          choices.hidden = false;
        };
        if (found.length > 1) {
          // A list whatever the former names add: shown at once, theirs added when they come (a server slower than
          // FORMER_WAIT_MS had them dropped from a list that was shown anyway).
          offer([]);
          const former = await formerNames(query, features, exact);
          if (former.length && !choices.hidden && box.q.value.trim() === query) offer(former);
          return;
        }
        const former = await formerNames(query, features, exact, exact.length === 1);
        if (!found.length && !former.length) {
          throw new Error(`Không tìm thấy «${query}»: thử tên xã/phường (cả tên trước 1/7/2025), mã xã, tọa độ, #số điểm nóng`);
        }
        if (found.length === 1 && !former.length) { showCommune(found[0]); return; }
        offer(former);
      }
    } catch (error) {
      notify(error.message, true);
    }
  }
  return control;
}

// ---------------------------------------------------------------------------------------------- the device
// The device's position, `{ lat, lon, accuracy }` (metres). Browsers give it only in a secure context (https, or the
// machine itself): over the closed network's plain http, or refused by the user, or lost (no signal, too long), the
// promise fails with an Error saying so in Vietnamese — what the page says instead, never a fault.
function devicePosition() {
  return new Promise((resolve, reject) => {
    if (!window.isSecureContext || !navigator.geolocation) {
      reject(new Error("Trình duyệt chỉ cho lấy vị trí GPS qua kết nối bảo mật (https), trang này mở qua http"));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      ({ coords }) => resolve({ lat: coords.latitude, lon: coords.longitude, accuracy: coords.accuracy }),
      (error) => reject(new Error(error.code === 1 ? "Máy chưa cho phép trang lấy vị trí"
        : "Chưa lấy được vị trí GPS (mất tín hiệu hoặc quá lâu)")),
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 });
  });
}

// ----------------------------------------------------------------------------------------------- tip reports
// A hotspot reported from a tip or a patrol (maps/panels.py _tip_form): the place — the phone's position, a click on
// the map, or coordinates typed as the search box reads them (decimal degrees as users copy them) —, the kind and a
// short description (required: the API refuses a blank one, and one that names a person), sent with an
// Idempotency-Key kept with the draft, so that a second tap or a retry after a lost answer stores it once.
// `onCreated(hotspot)` shows the new hotspot (its card as the API answers it); `mayReport(where)`, if given, is asked
// before a report is sent (false: not sent, e.g. the team declined to report a place again); `send(report, key)`, if
// given, sends the report (`{ lon, lat, note, kind }`) with its key in place of POST /api/hotspots and answers the new
// hotspot, or null when it kept the report to send later (the team's phone without signal: the form is emptied, its
// page shows the report waiting). Returns `{ picking }`: while the map waits for the place, a page's own clicks on the
// map (the incidents under the pointer) wait too.
function tipForm(map, onCreated, { mayReport = null, send = null } = {}) {
  const form = document.getElementById("tip-form");
  const place = form.querySelector(".tip-place");
  const state = { picking: false };
  let mark = null;
  const away = (lat, lon) => !L.latLngBounds(window.diaban.maxBounds).contains(L.latLng(lat, lon));
  function show(lat, lon, how = "") {
    mark?.remove();
    mark = L.circleMarker([lat, lon], { ...inPane("labels"), radius: 11, color: "#b91c1c", weight: 3, fillOpacity: 0.25,
      interactive: false }).addTo(map);
    const commune = (window.diaban.communes || []).find((f) => insideGeometry([lon, lat], f.geometry));
    place.textContent = `Vị trí: ${lat.toFixed(5)}, ${lon.toFixed(5)} — ` +
      `${commune ? communeTitle(commune.properties) : "ngoài địa giới các xã, phường"}${how}`;
    // A team reports in its own area only (the server refuses the rest): said as soon as the place is known, where
    // it had been said once the description was written and sent (a walk-through's GPS point in the next ward).
    const area = window.diaban.teamCommunes;
    const outside = Boolean(area && commune && !area.includes(commune.properties.code));
    place.classList.toggle("late", outside);
    if (outside) place.textContent += ": ngoài địa bàn của tổ — tổ chỉ báo điểm mới trong địa bàn được giao, điểm ở nơi khác hãy báo ban chỉ huy";
  }
  function put(lat, lon, how) {
    if (away(lat, lon)) { notify(`Tọa độ ${lat.toFixed(5)}, ${lon.toFixed(5)} nằm ngoài ${window.diaban.area || "vùng bản đồ"}`, true); return; }
    form.where.value = `${lat.toFixed(6)}, ${lon.toFixed(6)}`;
    show(lat, lon, how);
    if (map.getZoom() < 15) map.setView([lat, lon], 15);
    form.scrollIntoView({ block: "nearest" });
  }
  // The place typed (or put there by a click or the GPS), checked: an error in Vietnamese says what to do.
  function typed() {
    const text = form.where.value.trim();
    const where = parseSearch(text);
    if (!text) throw new Error("Hãy chọn vị trí: bấm «Chọn trên bản đồ» rồi bấm vào bản đồ, hoặc gõ tọa độ, ví dụ 20.86, 106.68");
    if (where?.kind !== "point") throw new Error(`«${text}» không phải tọa độ: hãy gõ vĩ độ, kinh độ dạng 20.86, 106.68`);
    if (away(where.lat, where.lon)) {
      throw new Error(`Tọa độ ${where.lat.toFixed(5)}, ${where.lon.toFixed(5)} nằm ngoài ${window.diaban.area || "vùng bản đồ"}`);
    }
    return where;
  }
  form.where.addEventListener("change", () => {
    try { const where = typed(); show(where.lat, where.lon); map.setView([where.lat, where.lon], Math.max(map.getZoom(), 15)); }
    catch (error) { notify(error.message, true); }
  });
  // One click (a tap) on the map gives the place.
  function pick(why = "") {
    place.textContent = "Bấm (chạm) vào bản đồ tại vị trí điểm…";
    if (why) notify(`${why}: hãy chạm vào bản đồ tại vị trí điểm`, "warning");
    map.getContainer().scrollIntoView({ block: "nearest" });
    if (state.picking) return;  // already waiting for the click
    state.picking = true;
    map.getContainer().classList.add("picking");
    map.once("click", (e) => {
      state.picking = false;
      map.getContainer().classList.remove("picking");
      put(e.latlng.lat, e.latlng.lng, " (chọn trên bản đồ)");
    });
  }
  form.elements.pick.onclick = () => pick();
  // The phone's position (devicePosition); where the browser does not give it, a tap on the map gives the place.
  const locate = form.elements.locate;
  if (locate) {
    locate.onclick = async () => {
      locate.disabled = true;
      place.textContent = "Đang lấy vị trí của máy…";
      try {
        const { lat, lon, accuracy } = await devicePosition();
        put(lat, lon, ` (GPS, sai số khoảng ${VI_NUMBER.format(Math.round(accuracy))} m)`);
      } catch (error) {
        pick(error.message);
      } finally {
        locate.disabled = false;
      }
    };
  }
  const post = (report, key) => api("/api/hotspots", { method: "POST", headers: { "Idempotency-Key": key },
    body: JSON.stringify(report) });
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const note = form.note.value.trim();
    let where;
    try {
      where = typed();
      if (!note) { form.note.focus(); throw new Error("Hãy viết mô tả ngắn: nơi, dấu hiệu, thời gian (không ghi tên người)"); }
    } catch (error) { notify(error.message, true); return; }
    if (mayReport && !(await mayReport(where))) return;
    button.disabled = true;
    const kind = form.kind.value;
    const key = sendingKey(form.key, [where.lat, where.lon, note, kind]);
    let created;
    try {
      created = await (send ?? post)({ lon: where.lon, lat: where.lat, note, kind }, key);
    } catch (error) {
      failed(error, () => form.requestSubmit());  // the same place, note and key: stored once
      return;
    } finally { button.disabled = false; }
    form.reset();
    form.key.value = "";
    mark?.remove();
    place.textContent = "Chưa chọn vị trí";
    if (created) await onCreated(created);
  });
  return state;
}

// How far the map's own controls reach in from its top and bottom edges, in pixels, plus `margin`: the zoom buttons and
// the search over its top, «Bạch Long Vĩ», «Đất liền», «In bản đồ» and the scale over a phone's bottom.
function controlEdges(map, margin = 8) {
  const box = map.getContainer().getBoundingClientRect();
  const edge = (corner, side) => Math.max(0, ...[...map.getContainer().querySelectorAll(`.leaflet-${corner} .leaflet-control`)]
    .filter((c) => c.offsetHeight > 0).map(side)) + margin;
  return { top: edge("top", (c) => c.getBoundingClientRect().bottom - box.top),
    bottom: edge("bottom", (c) => box.bottom - c.getBoundingClientRect().top) };
}

// Fit `bounds` in the part of the map its controls leave clear: a team's area fitted with a plain padding lay under a
// phone's map buttons (the administrator's team map).
function fitClear(map, bounds, options = {}) {
  const { top, bottom } = controlEdges(map);
  map.fitBounds(bounds, { paddingTopLeft: L.point(10, top), paddingBottomRight: L.point(10, bottom), ...options });
}

// The map opens on the view's mainland; one button goes back to it and, where a far-off island has one of its own
// (Hải Phòng's Bạch Long Vĩ, ~130 km offshore), another goes to the island; the print button opens the printable sheet.
function mapButtons(map, cfg) {
  // On a phone the top left holds the zoom and the search: these buttons go to the bottom, over the scale bar.
  const control = L.control({ position: window.innerWidth < 760 ? "bottomleft" : "topleft" });
  control.onAdd = () => {
    const box = L.DomUtil.create("div", "map-buttons");
    if (cfg.bachLongVi) {
      const island = L.DomUtil.create("button", "map-button", box);
      island.textContent = "Bạch Long Vĩ";
      island.title = "Xem đặc khu Bạch Long Vĩ (cách đất liền khoảng 130 km)";
      L.DomEvent.on(island, "click", (e) => { L.DomEvent.stop(e); map.setView(cfg.bachLongVi, 13); });
    }
    // "Đất liền" where some units lie outside the opening view (far-off islands), else the whole area.
    const mainland = L.DomUtil.create("button", "map-button", box);
    mainland.textContent = cfg.offshore ? "Đất liền" : "Toàn địa bàn";
    const where = cfg.area || "cả nước";
    mainland.title = cfg.offshore ? `Xem toàn bộ đất liền ${where}` : `Xem toàn bộ địa bàn ${where}`;
    const print = L.DomUtil.create("button", "map-button print-open", box);
    print.textContent = "In bản đồ";
    print.title = "Bản in khổ A4 hoặc A3 ngang: tiêu đề, chú giải, thước tỷ lệ, hướng bắc, ngày, độ mật";
    L.DomEvent.on(mainland, "click", (e) => { L.DomEvent.stop(e); map.fitBounds(cfg.mainland); });
    L.DomEvent.on(print, "click", (e) => { L.DomEvent.stop(e); printSheet(map, cfg); });
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  control.addTo(map);
}

// ------------------------------------------------------------------------------------------------------ print
// The printable map: a sheet of the chosen paper (A4 or A3 landscape, in CSS pixels at 96 dpi so that it prints on
// one page) with the title, the date, the classification marking ("MẬT") and the demo marking, the map of the
// current view with its scale bar, a north arrow, and the legend of the layers shown. "In / Lưu PDF" opens the
// browser's print dialog (which saves a PDF too).
const PAPER = { A4: [1122, 793], A3: [1587, 1122] };  // 297 × 210 mm and 420 × 297 mm, rounded down
function printSheet(map, cfg) {
  if (document.querySelector(".print-sheet")) return;
  map.closePopup();
  map.eachLayer((layer) => layer.closeTooltip?.());  // a tooltip left by the pointer is not part of the map
  const container = map.getContainer();
  const home = { parent: container.parentNode, next: container.nextSibling, bounds: map.getBounds() };
  const sheet = document.createElement("div");
  sheet.className = "print-sheet";
  const now = new Date();
  const subtitle = cfg.printSubtitle ? cfg.printSubtitle() : "";
  sheet.innerHTML = `<div class="print-tools"><label>Khổ giấy <select name="paper"><option value="A4">A4 ngang</option>
      <option value="A3">A3 ngang</option></select></label>
      <button type="button" class="print-go">In / Lưu PDF</button><button type="button" class="print-close">Đóng</button></div>
    <div class="print-page">
      <div class="print-head"><div><h1>${escapeHtml(cfg.title)}</h1>
        ${subtitle ? `<p>${escapeHtml(subtitle)}</p>` : ""}</div>
        <div class="print-marks"><b class="secret-mark">MẬT</b>${cfg.synthetic ? "<b class=\"demo-mark\">Dữ liệu giả lập</b>" : ""}
        <span>Ngày in: ${viDateTime(now)}</span></div></div>
      <div class="print-body"><div class="print-map"><svg class="north-arrow" viewBox="0 0 40 56" aria-label="Hướng bắc">
          <polygon points="20,2 34,40 20,32 6,40" fill="#111827"/><text x="20" y="54" text-anchor="middle">B</text></svg></div>
        <div class="print-legend"><h2>Chú giải</h2></div></div>
      <div class="print-foot">Hệ tọa độ WGS 84 (EPSG:4326), hiển thị Web Mercator. Nguồn: hệ thống giám sát địa bàn, điểm nóng ma túy.
        ${cfg.synthetic ? "Số liệu giả lập để thử nghiệm, không phải số liệu thật." : ""}</div>
    </div>`;
  const shown = cfg.shownLayers ? cfg.shownLayers() : null;
  const legends = [...document.querySelectorAll("main.panel details.legend")]
    .filter((details) => !shown || shown.includes(details.dataset.layer));
  // A layer's legend on paper: a copy of the page's, with what the page adds under it there (the command page: how
  // the density was computed).
  function copied(details) {
    const copy = details.cloneNode(true);
    copy.open = true;
    copy.removeAttribute("id");
    copy.querySelectorAll("[id]").forEach((e) => e.removeAttribute("id"));
    const note = cfg.printLegendNote ? cfg.printLegendNote(details.dataset.layer) : "";
    if (note) {
      const line = document.createElement("p");
      line.className = "print-note";
      line.textContent = note;
      copy.appendChild(line);
    }
    return copy;
  }
  const copies = new Map(legends.map((details) => [details, copied(details)]));
  sheet.querySelector(".print-legend").append(...copies.values());
  document.body.appendChild(sheet);
  document.body.classList.add("print-preview");
  const page = sheet.querySelector(".print-page");
  const paper = sheet.querySelector("select[name=paper]");
  function size() {
    const [w, h] = PAPER[paper.value];
    page.style.width = `${w}px`;
    page.style.height = `${h}px`;
    // A phone shows the whole sheet made smaller, as a print preview does (at its own width an A4 sheet showed
    // only its top-left corner, the marking and the legend off screen); the paper keeps its size (app.css).
    page.style.zoom = String(Math.min(1, (sheet.clientWidth - 24) / w));
    document.body.dataset.paper = paper.value;
    // Many layers shown: the legend goes to two columns, then smaller type, so that the sheet stays one page. Laid
    // out first: two columns narrow the map, which was fitted before and lost the screen's eastern island.
    layOutLegend();
    map.invalidateSize({ animate: false });
    map.fitBounds(home.bounds, { animate: false });
  }
  // Whether the legend's layout changed (the map's room with it).
  function layOutLegend() {
    const legend = sheet.querySelector(".print-legend");
    const before = legend.className;
    legend.classList.remove("columns-2", "compact");
    // In two columns what does not fit makes a third, off to the side (scrollWidth), not a longer box (scrollHeight):
    // the trends' legend, its last rows and its note, was cut off the A4 sheet unseen.
    const overflows = () => legend.scrollHeight > legend.clientHeight + 1 || legend.scrollWidth > legend.clientWidth + 1;
    for (const step of ["columns-2", "compact"]) {
      if (overflows()) legend.classList.add(step);
    }
    return legend.className !== before;
  }
  // The sheet's map is another size than the screen's, at another zoom: the density is drawn again for it, and its
  // legend on the page says the new scale and spread. The copies follow the page's legends while the sheet is open —
  // they had kept the screen's («≥ 165,1 vụ/km²», «σ = 400 m») under a map drawn at «≥ 102 vụ/km²», 2.264 m.
  const follow = new MutationObserver(() => {
    for (const [details, copy] of copies) {
      const fresh = copied(details);
      if (fresh.innerHTML === copy.innerHTML) continue;
      copy.replaceWith(fresh);
      copies.set(details, fresh);
    }
    if (layOutLegend()) {
      map.invalidateSize({ animate: false });
      map.fitBounds(home.bounds, { animate: false });
    }
  });
  for (const details of legends) follow.observe(details, { subtree: true, childList: true, characterData: true });
  sheet.querySelector(".print-map").prepend(container);
  paper.addEventListener("change", size);
  window.addEventListener("resize", size);
  size();
  sheet.querySelector(".print-go").addEventListener("click", () => window.print());
  sheet.querySelector(".print-close").addEventListener("click", () => {
    follow.disconnect();
    window.removeEventListener("resize", size);
    home.parent.insertBefore(container, home.next);
    sheet.remove();
    document.body.classList.remove("print-preview");
    delete document.body.dataset.paper;
    map.invalidateSize({ animate: false });
    map.fitBounds(home.bounds, { animate: false });
  });
}

// An import's report under its form: the summary line, the warnings, then the rows refused, those left out as
// duplicates (the reason names the line kept) and those kept but flagged
// (line, ref or code, column by its Vietnamese name, reason) — the first ones of a long list, with how many in all.
// A dry run's report (fileCheck) is headed by what the import would do.
function importReport(box, report, failure = "") {
  const parts = report?.dry_run ? [`<h3 class="import-check">${escapeHtml(checkHeading(report))}</h3>`] : [];
  if (failure) parts.push(`<p class="import-failure">${escapeHtml(failure)}</p>`);
  if (report) {
    const countedInHeading = report.dry_run && countsChanges(report);  // a boundary file's check: not twice
    if (!countedInHeading) parts.push(`<p class="import-summary">${escapeHtml(report.summary)}</p>`);
    parts.push(...report.warnings.map((w) => `<p class="import-warning">Cảnh báo: ${escapeHtml(w)}</p>`));
    // models.vocabulary's lists, columns and a boundary file's feature
    const { reportLists: titles, reportRowHeaders: headers, reportFeature: feature } = window.diaban;
    const lists = [[titles.rejects, report.rejected], [titles.duplicated, report.duplicates],
      [titles.flagged, report.flagged]];
    // A boundary file's rows are features, numbered in the file.
    const features = countsChanges(report);
    const unit = features ? feature.unit : "dòng";
    const head = ["line", "ref", "field", "reason"]
      .map((column) => `<th>${column === "line" && features ? feature.header : headers[column]}</th>`).join("");
    for (const [title, list] of lists) {
      if (!list.total) continue;
      // A list counts reasons, a row refused for two having two: «Bị loại: 4 dòng» stood beside «3 dòng của tệp bị
      // loại». Whole, its rows are counted by line, the reasons beside when more; cut short, its reasons.
      const lines = new Set(list.rows.map((r) => r.line)).size;
      const whole = list.total === list.rows.length;
      const counted = !whole ? `${VI_NUMBER.format(list.total)} lý do (${VI_NUMBER.format(list.rows.length)} lý do đầu)`
        : `${VI_NUMBER.format(lines)} ${unit}` + (list.total > lines ? ` (${VI_NUMBER.format(list.total)} lý do)` : "");
      const rows = list.rows.map((r) => `<tr><td>${r.line}</td><td>${escapeHtml(r.ref ?? "")}</td>` +
        `<td>${escapeHtml(r.field_label ?? "—")}</td><td>${escapeHtml(r.message ?? "")}</td></tr>`).join("");
      parts.push(`<h3>${title}: ${counted}</h3><div class="import-rows">` +
        `<table class="register"><thead><tr>${head}</tr></thead>` +
        `<tbody>${rows}</tbody></table></div>`);
    }
  }
  box.innerHTML = parts.join("");
  box.hidden = false;
}

// Whether an import's report counts changes — a boundary file's units added, changed, closed — rather than rows
// imported (no `imported`).
const countsChanges = (report) => !("imported" in report.counts);

// What a dry run found: the rows the import would store and those it would refuse (nothing was written); for a
// boundary file (countsChanges), its summary («Ranh giới, nếu nhập: thêm mới 3», titled by the server).
function checkHeading(report) {
  const { imported, rejected = 0 } = report.counts;
  if (countsChanges(report)) return `Kiểm tra tệp — chưa ghi gì. ${report.summary}`;
  return `Kiểm tra tệp — chưa ghi gì: ${VI_NUMBER.format(imported)} dòng sẽ được nhập, ` +
    `${VI_NUMBER.format(rejected)} dòng bị từ chối`;
}

// An import form's fields as sent: its days (fields marked data-day, typed dd/mm/yyyy) as ISO days, a blank one left
// out (the server's default); null, the error told, when a day is malformed (never sent as something else).
function importBody(form) {
  const body = new FormData(form);
  try {
    for (const input of form.querySelectorAll("input[data-day]")) {
      const day = dayField(input, input.dataset.day);
      if (day) body.set(input.name, day); else body.delete(input.name);
    }
  } catch (error) { notify(error.message, true); return null; }
  return body;
}

// The chosen file of an import form sent to `path` (`verb`: «nhập», or «kiểm tra» for a dry run) while `button` waits:
// the answer (a report; with `{ file: true }` in `options` the file answered, as the accounts' password sheet), or null
// when there is no file, a malformed day (told) or a refusal, whose report (if any) is shown in `box` and `retry`
// offered.
async function sendImportFile(form, path, box, button, verb, retry, options = {}) {
  const file = form.elements.file.files[0];
  if (!file) { notify(`Hãy chọn tệp cần ${verb}`, true); return null; }
  const body = importBody(form);
  if (!body) return null;
  button.disabled = true;
  notify(`Đang ${verb} ${file.name}…`);
  try { return await api(path, { method: "POST", body, ...options }); } catch (error) {
    importReport(box, error.body?.report, error.message);
    failed(error, retry);
    return null;
  } finally { button.disabled = false; }
}

// «Kiểm tra tệp» of an import form: the chosen file sent to `path` with dry_run=true — the same import, rolled back —
// and its report (a refusal's too) shown in `box` under its heading. The form keeps the file: after a check without a
// refused row the import button, focused, imports it in one click.
function fileCheck(form, path, box) {
  const button = form.elements.check;
  button.addEventListener("click", async () => {
    const report = await sendImportFile(form, `${path}?dry_run=true`, box, button, "kiểm tra", () => button.click());
    if (!report) return;
    importReport(box, report);
    notify(checkHeading(report));
    if (!report.counts.rejected) form.querySelector("button[type=submit]").focus();
  });
}

// An import form (maps/panels.py _import_form): the chosen file goes up as a form with files; its report is shown
// under the form (a file refused whole shows the refusal, and the rows of a file none of whose rows was usable), and
// after an import `onImported` refreshes what the page shows.
// A file input worded in Vietnamese: the browser words its own button in the system's language ("Choose File",
// "No file chosen" on an English one). The input stays (forms and scripts read it), hidden behind a button.
function vietnameseFilePicker(input) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "file-pick";
  button.textContent = "Chọn tệp…";
  const chosen = document.createElement("span");
  chosen.className = "file-chosen";
  const show = () => { chosen.textContent = input.files?.length ? input.files[0].name : "Chưa chọn tệp"; };
  button.onclick = () => input.click();
  input.addEventListener("change", show);
  input.form?.addEventListener("reset", () => setTimeout(show));
  input.classList.add("file-native");
  input.after(button, chosen);
  show();
}

function importForm(formId, path, onImported) {
  const form = document.getElementById(formId);
  vietnameseFilePicker(form.elements.file);
  const box = document.getElementById(`${formId}-report`);
  fileCheck(form, path, box);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const report = await sendImportFile(form, path, box, button, "nhập", () => form.requestSubmit());
    if (!report) return;
    importReport(box, report);
    await refreshAfterSave(report.summary, () => onImported(report), "tải lại trang để xem bản đồ và danh sách mới");
  });
}

// The panel's tabs (nav.tabs buttons, section.tab-<name>), as the ARIA tabs pattern has them: the chosen tab alone in
// the Tab order (Tab goes from it into its panel), the arrow keys (and Home, End) move to the other tabs and show them.
// Returns a function showing one of them.
function panelTabs(onShow = () => {}) {
  const tabs = [...document.querySelectorAll("nav.tabs button")];
  for (const tab of tabs) {
    const panel = document.getElementById(tab.getAttribute("aria-controls"));
    panel.setAttribute("role", "tabpanel");
    panel.setAttribute("aria-labelledby", tab.id);
    panel.tabIndex = 0;
  }
  function show(name) {
    for (const tab of tabs) {
      const chosen = tab.dataset.tab === name;
      tab.setAttribute("aria-selected", String(chosen));
      tab.tabIndex = chosen ? 0 : -1;
    }
    for (const section of document.querySelectorAll("section.tab")) section.hidden = section.id !== `tab-${name}`;
    document.body.dataset.tab = name;
    onShow(name);
  }
  const keys = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };
  tabs.forEach((tab, i) => {
    tab.onclick = () => show(tab.dataset.tab);
    tab.onkeydown = (event) => {
      const to = event.key === "Home" ? 0 : event.key === "End" ? tabs.length - 1
        : keys[event.key] ? (i + keys[event.key] + tabs.length) % tabs.length : null;
      if (to === null) return;
      event.preventDefault();
      tabs[to].focus();
      show(tabs[to].dataset.tab);
    };
  });
  return show;
}

// Keyboard focus after an action or an opening: on what the user now works on — the card opened (its heading), the
// same control of a row or card drawn again, the panel a link showed. Rows and cards are drawn afresh after every
// change: the focused control went with the old drawing, the focus fell to the page's body and the next Tab started
// again at the top of the register, or on the map.
// `element` gets the focus (a heading, a panel: focusable by script alone, tabindex -1); scrolled to unless
// `preventScroll` (the same place drawn again). Whether it has it.
function focusWork(element, preventScroll = false) {
  if (!element) return false;
  if (!element.matches("a[href], button, input, select, textarea, summary, [tabindex]")) element.tabIndex = -1;
  element.focus({ preventScroll });
  return document.activeElement === element;
}

// Where the focus was last, as an address found again in a new drawing (focusKeeper): the item's card or row — the
// closest element of a task or hotspot (data-task-id, data-hotspot-id) — and the control in it, by its marks.
let lastFocus = null;
const controlMark = (e) => e.tagName.toLowerCase() + ["data-action", "data-to", "data-keep", "name", "type"]
  .filter((name) => e.hasAttribute(name)).map((name) => `[${name}="${CSS.escape(e.getAttribute(name))}"]`).join("")
  + [...e.classList].filter((c) => c !== "open").map((c) => `.${CSS.escape(c)}`).join("");
document.addEventListener("focusin", (event) => {
  const element = event.target;
  const holder = element.closest?.("[data-task-id], [data-hotspot-id]");
  let address = null;
  if (holder) {
    const id = holder.dataset.taskId !== undefined ? `[data-task-id="${CSS.escape(holder.dataset.taskId)}"]`
      : `[data-hotspot-id="${CSS.escape(holder.dataset.hotspotId)}"]`;
    const item = `${holder.tagName.toLowerCase()}${id}`;
    const within = [];  // the folds and forms around the control, outermost first
    for (let e = element.parentElement; e && e !== holder; e = e.parentElement) {
      if (e.tagName === "DETAILS" || e.tagName === "FORM") within.unshift(controlMark(e));
    }
    // The same control, else the card's heading, else the item itself (the row, when its card is gone).
    address = [element === holder ? item : `${item} ${[...within, controlMark(element)].join(" ")}`, `${item} h3`, item,
      id];
  }
  lastFocus = { element, address };
});

// Whether the focus was taken from the user by the page, not moved by the user: the control focused (or, none
// focused, the last one) drawn away, disabled or hidden (its tab left, its card closed) while its change was sent.
function focusLost() {
  const gone = (e) => !e.isConnected || e.disabled || !e.getClientRects().length;
  const active = document.activeElement;
  if (active && active !== document.body) return gone(active);
  return Boolean(lastFocus) && gone(lastFocus.element);
}

// Before `scope` (a register's body, a list) is drawn again: a function that, once it is, puts the focus back on the
// same control, or the card's heading, or the row (focusLost: only if it was there, or taken from the user there).
function focusKeeper(scope) {
  const active = document.activeElement;
  const inside = active && active !== document.body && scope.contains(active);
  const address = inside || focusLost() ? lastFocus?.address : null;
  return () => {
    if (!address || !focusLost()) return;
    for (const selector of address) {
      const found = [...scope.querySelectorAll(selector)].find((e) => e.getClientRects().length && !e.disabled);
      if (found && focusWork(found, true)) return;
    }
  };
}

// After a change the page stored and drew again: the focus taken from the user (focusLost: the button pressed drawn
// away or disabled) goes where the element pressed names (data-focus-after: the id of what now says the outcome), or
// on the message telling what was done; never left on the page's body, where the next Tab starts at the top.
function regainFocus() {
  if (!focusLost()) return;
  const after = lastFocus.element.dataset?.focusAfter;
  focusWork(document.getElementById(after) || document.getElementById("message"));
}

// A table row (or list item, column heading) that acts like a button: click, Enter or Space (as a button does; the
// page does not scroll). Keys pressed in a field inside it (a card's note) are the field's.
function clickable(element, action) {
  element.tabIndex = 0;
  element.onclick = action;
  element.onkeydown = (event) => {
    if (event.target !== element || (event.key !== "Enter" && event.key !== " ")) return;
    event.preventDefault();
    action();
  };
  return element;
}

// A table of items sorted by a click on a column header (again: the other way; blanks always last), filtered by
// a predicate, a row per item; a click on a row opens it (the detail, if any, shows under it) and calls onOpen.
// The columns of `largestFirst` list their largest first at the first click (the most serious class, the likeliest
// forecast), and say so: ▼ and aria-sort «descending» (they listed it first by a negated key, under ▲ «ascending»).
function sortableTable(table, { keys, row, detail = null, onOpen = () => {}, sort = null, idOf = (item) => item.id,
  counted = null, largestFirst = [] }) {
  // `drawn`: the item whose card is drawn under its row.
  const state = { items: [], sort, ascending: !largestFirst.includes(sort), open: null, drawn: null, keep: () => true };
  const rowOf = new Map();  // each item's row as drawn now, by its id
  const blank = (v) => v === null || v === undefined || v === "";
  for (const th of table.querySelectorAll("th[data-sort]")) {
    clickable(th, () => {
      state.ascending = state.sort === th.dataset.sort ? !state.ascending : !largestFirst.includes(th.dataset.sort);
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
      th.setAttribute("aria-sort", { asc: "ascending", desc: "descending" }[th.dataset.order] || "none");
    }
    const kept = state.open === state.drawn ? keptInCard() : null;
    const body = table.querySelector("tbody");
    const refocus = focusKeeper(body);
    rowOf.clear();
    body.replaceChildren(...shown.flatMap((item) => {
      const id = idOf(item);
      const tr = clickable(row(item), () => {
        state.open = state.open === id ? null : id;
        draw();
        onOpen(item, state.open === id);
        focusOpened(id);
      });
      rowOf.set(id, tr);
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
    state.drawn = state.open;
    if (kept) putBack(kept);
    refocus();
    if (counted) counted(shown.length, state.items.length);
  }
  // The user works on the card just opened (its heading, or the card itself), or on the row whose card was just closed.
  function focusOpened(id, preventScroll = false) {
    const tr = rowOf.get(id);
    if (!tr) return;
    const card = state.open === id && tr.nextElementSibling?.classList.contains("detail")
      ? tr.nextElementSibling.querySelector("td > *") : null;
    focusWork(card?.querySelector("h3") || card || tr, preventScroll);
  }
  // The open row's card drawn again (the list sorted, filtered, or loaded again after a change anywhere on the page)
  // keeps what the user opened and typed in it and has not sent: its parts marked data-keep (a history, a note, a form
  // folded in a <details>). It was drawn afresh: a history folded shut and a note half written lost, under the user's
  // finger. A choice whose options are asked for when its fold opens has none yet when put back: the chosen value
  // waits in its data-kept (still kept if drawn again meanwhile) for whoever fills the options (command.js offerTeams).
  function keptInCard() {
    const parts = [...table.querySelectorAll("tbody tr.detail [data-keep]")];
    return new Map(parts.map((part) => [part.dataset.keep,
      part.tagName === "DETAILS" ? part.open : part.value || part.dataset.kept]));
  }
  function putBack(kept) {
    for (const part of table.querySelectorAll("tbody tr.detail [data-keep]")) {
      const was = kept.get(part.dataset.keep);
      if (!was) continue;  // closed, blank, or not in the card before
      if (part.tagName === "DETAILS") { part.open = true; continue; }
      part.value = was;
      if (part.value !== was) part.dataset.kept = was;  // a choice without that option yet
    }
  }
  return {
    set(items) { state.items = items; draw(); },
    // From elsewhere (the map, the inbox): the row is shown where the user looks, its card focused when the focus was
    // in the table or taken away (the inbox item pressed is hidden with its tab), not from a field the user is in.
    open(id) {
      const refocus = focusLost() || table.contains(document.activeElement);
      state.open = id;
      draw();
      table.querySelector("tbody tr.open")?.scrollIntoView({ block: "center" });
      if (refocus) focusOpened(id, true);
    },
    filter(keep) { state.keep = keep; draw(); },
    sortBy(key) { state.sort = key; state.ascending = true; draw(); },  // null: in the order the items came
    row(id) { return state.items.find((item) => idOf(item) === id); },
  };
}

// Leaflet's buttons carry English titles ("Zoom in", "Layers", "Close popup"): name them in Vietnamese.
function nameControls() {
  const name = (selector, text) => document.querySelectorAll(selector).forEach((e) => {
    e.title = text;
    e.setAttribute("aria-label", text);
  });
  name(".leaflet-control-zoom-in", "Phóng to");
  name(".leaflet-control-zoom-out", "Thu nhỏ");
  name(".leaflet-control-layers-toggle", "Các lớp bản đồ");
}
function vietnameseControls(map) {
  nameControls();
  map.on("popupopen", (e) => {
    const close = e.popup.getElement()?.querySelector(".leaflet-popup-close-button");
    if (close) { close.title = "Đóng"; close.setAttribute("aria-label", "Đóng"); }
  });
}

// Where the team page keeps a member's changes made without signal (team.js changeQueue).
const CHANGES_DB = "diaban-changes";

// Called by the folium page once the map exists; the page's own script registered itself in diabanPages.
function diabanStart(cfg) {
  window.diaban = cfg;
  document.body.classList.add(cfg.page);
  // A member's changes waiting on this browser are theirs alone: the team page drops another member's, and any other
  // role's page — someone else logged in after the member's session ended — deletes them, notes and photos alike.
  if (cfg.page !== "team" && window.indexedDB) indexedDB.deleteDatabase(CHANGES_DB);
  // The map is a landmark of its own beside the panel (<main>), named so that a screen reader can jump to it.
  cfg.map.getContainer().setAttribute("role", "region");
  cfg.map.getContainer().setAttribute("aria-label", "Bản đồ");
  vietnameseControls(cfg.map);
  L.control.scale({ imperial: false }).addTo(cfg.map);  // metric only (folium's scale also shows miles)
  // The stylesheet sized the map after folium fitted it (stacked under the panel on a phone): measure and fit again,
  // to a quarter zoom level (whole levels left the mainland at half a phone's width), as a reset (an animated fit
  // still running from folium's swallowed a second one).
  cfg.map.options.zoomSnap = 0.25;
  cfg.map.invalidateSize({ pan: false });
  const mainland = L.latLngBounds(cfg.mainland);
  cfg.map.setView(mainland.getCenter(), cfg.map.getBoundsZoom(mainland, false, L.point(8, 8)), { reset: true });
  // Then zoom and pan stay around the view's units (Hải Phòng's: the city and Bạch Long Vĩ).
  cfg.map.setMinZoom(cfg.minZoom);
  cfg.map.setMaxZoom(cfg.maxZoom);
  cfg.map.setMaxBounds(cfg.maxBounds);
  cfg.map.options.maxBoundsViscosity = 0.8;
  cfg.map.attributionControl.setPrefix("Leaflet");  // no link out of a closed network
  const start = diabanPages[cfg.page];
  if (start) start(cfg.map, cfg).catch((error) => notify(error.message, true)).finally(nameControls);
}
