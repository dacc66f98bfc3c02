// Administration page: users (create with a password shown once, move to another team or role, deactivate, reset the
// password, unlock), teams (renamed, dissolved) and their areas picked on the map or in a searchable list, effective
// from a date with the history kept, the boundaries loaded from a file, the admin audit and the access log (who read
// which detailed data), each filtered by days and exported to Excel.
"use strict";

diabanPages.admin = async function startAdmin(map, cfg) {
  const selected = new Set();  // commune codes of the area being edited
  // The current units by code: their polygon on the map, their name, their province (drawUnits fills them).
  const byCode = {}, names = {}, provinceOf = {};
  let units = null;  // what communesLayer drew
  mapButtons(map, cfg);
  // The access log is read when its tab is first opened (each read of it is itself a line of the log). The users and
  // the admin audit, read as the page opens, are read again each time their tab is opened: a user's own password
  // change or a colleague's action since then showed only after a reload («Chưa đổi mật khẩu được cấp» stayed).
  let accessShown = false;
  let opened = false;  // the page's first reads done
  const again = { users: () => loadUsers(), audit: () => loadAudit() };
  const showTab = panelTabs((name) => {
    drawArea();
    if (name === "access" && !accessShown) { accessShown = true; loadAccess().catch((error) => failed(error)); }
    if (opened && again[name]) again[name]().catch((error) => failed(error));
  });

  // -------------------------------------------------------------------------------------------------- the area
  const list = document.getElementById("commune-list");
  const search = document.getElementById("commune-search");
  const count = document.getElementById("area-count");
  // The current units drawn, listed for the area editor and looked up by code; drawn again after a boundary import
  // (the former drawing taken off once the new one is there).
  async function drawUnits() {
    const drawn = await communesLayer(map, { style: () => ({ color: "#475569", weight: 1, fillOpacity: 0 }) });
    units?.remove();
    units = drawn;
    for (const lookup of [byCode, names, provinceOf]) for (const code of Object.keys(lookup)) delete lookup[code];
    Object.assign(names, drawn.names);
    for (const f of drawn.features) provinceOf[f.properties.code] = f.properties.province_code;
    drawn.layer.eachLayer((l) => {
      const code = l.feature.properties.code;
      byCode[code] = l;
      l.bindTooltip(escapeHtml(l.feature.properties.full_name), { sticky: true });
      l.on("click", () => {
        if (document.body.dataset.tab === "teams") toggle(code, !selected.has(code));
      });
    });
    const ordered = Object.entries(names).sort((a, b) => a[1].localeCompare(b[1], "vi"));
    list.replaceChildren(...ordered.map(([code, name]) => {
      const label = document.createElement("label");
      label.dataset.code = code;
      label.dataset.search = `${name} ${code}`.toLocaleLowerCase("vi");
      label.innerHTML = `<input type="checkbox" value="${code}"> ${escapeHtml(name)} <small>(${code})</small>` +
        ' <small class="holders"></small>';
      label.querySelector("input").onchange = (event) => toggle(code, event.target.checked);
      return label;
    }));
    drawArea();
  }
  search.addEventListener("input", () => {
    const words = search.value.trim().toLocaleLowerCase("vi");
    for (const label of list.children) label.hidden = Boolean(words) && !label.dataset.search.includes(words);
  });

  // The other working teams holding each commune today (the team being edited left out), by code: shown beside each
  // commune in the list and the map's tooltip, and shaded grey on the map, so an administrator picking an area sees
  // which communes another team already answers for (a walk-through learnt it only after saving, «Lưu ý: … cũng
  // thuộc địa bàn tổ khác»). Sharing stays allowed. Set by pickTeam.
  let holders = {};
  function drawArea() {
    const editing = document.body.dataset.tab === "teams";
    for (const [code, layer] of Object.entries(byCode)) {
      const on = editing && selected.has(code);
      const other = editing && holders[code];
      layer.setStyle(on ? { color: "#1d4ed8", weight: 2, fillColor: "#2563eb", fillOpacity: 0.35 }
        : other ? { color: "#475569", weight: 1, fillColor: "#94a3b8", fillOpacity: 0.3 }
          : { color: "#475569", weight: 1, fillOpacity: 0 });
      const full = escapeHtml(layer.feature.properties.full_name);
      layer.setTooltipContent(other ? `${full}<br><small>Địa bàn của ${escapeHtml(other.join(", "))}</small>` : full);
    }
    for (const box of list.querySelectorAll("input")) box.checked = selected.has(box.value);
    count.textContent = VI_NUMBER.format(selected.size);
    document.getElementById("area-names").textContent = [...selected].map((code) => names[code] || code)
      .sort((a, b) => a.localeCompare(b, "vi")).join(", ");
  }

  function toggle(code, on) {
    if (on) selected.add(code); else selected.delete(code);
    drawArea();
  }
  await drawUnits();

  // ------------------------------------------------------------------------------------------------ the teams
  const teamPick = document.getElementById("team-pick");
  const teamForm = document.getElementById("team-form");
  const summary = document.getElementById("team-summary");
  const renameForm = document.getElementById("team-rename");
  const dissolveBox = document.getElementById("team-dissolve");
  let teams = [];

  async function loadTeams(keep = teamPick.value) {
    teams = await api("/api/teams");
    const options = teams.map((t) => `<option value="${t.id}">${escapeHtml(t.name)}</option>`).join("");
    teamPick.innerHTML = `<option value="">— Tạo tổ mới —</option>${options}`;
    teamPick.value = teams.some((t) => String(t.id) === keep) ? keep : "";
    const userTeam = document.querySelector("#new-user select[name=team]");
    userTeam.innerHTML = `<option value="">—</option>${options}`;
    showUnheld();
    await pickTeam();
  }

  // Communes another team also holds ("Phường A (Tổ B)"): allowed, but the administrator should mean it.
  function sharedText(shared) {
    if (!shared.length) return "";
    const named = shared.slice(0, 3).map((c) => `${c.commune_name || c.commune_code} (${c.teams.join(", ")})`);
    return `Lưu ý: ${shared.length} xã/phường cũng thuộc địa bàn tổ khác: ${named.join("; ")}${shared.length > 3 ? "; …" : ""}`;
  }

  // Open tasks the team keeps in the communes taken from it: still its own, unseen by the commune's new team.
  function keptText(kept) {
    if (!kept.length) return "";
    const total = kept.reduce((sum, c) => sum + c.tasks, 0);
    const named = kept.map((c) => `${c.commune_name || c.commune_code}: ${c.tasks}`).join("; ");
    return `. Lưu ý: tổ vẫn giữ ${total} nhiệm vụ đang mở ở xã/phường bớt đi (${named}); ` +
      "chỉ huy giao lại cho tổ phụ trách mới nếu cần";
  }

  // Communes an area change or a dissolution left to no team (the answer's left_without_team): nobody answers for them.
  function withoutTeamText(left) {
    if (!left.length) return "";
    const named = left.map((c) => c.commune_name || c.commune_code).join(", ");
    return `. Lưu ý: không còn tổ nào phụ trách ${left.length} xã/phường: ${named}`;
  }

  // The current communes no working team holds today, on the teams tab: those an area change or a dissolution left
  // (or never given one). At most a few are named, with how many more.
  const NAMED_AT_MOST = 10;
  function showUnheld() {
    const held = new Set(teams.flatMap((t) => t.communes));
    const unheld = Object.keys(names).filter((code) => !held.has(code)).map((code) => names[code])
      .sort((a, b) => a.localeCompare(b, "vi"));
    const line = document.getElementById("team-unheld");
    line.hidden = !teams.length || !unheld.length;
    line.textContent = `Xã/phường chưa có tổ phụ trách: ${unheld.slice(0, NAMED_AT_MOST).join(", ")}` +
      (unheld.length > NAMED_AT_MOST ? ` và ${VI_NUMBER.format(unheld.length - NAMED_AT_MOST)} xã/phường khác` : "");
  }

  // The same, today, from the teams already loaded.
  function sharedToday(team) {
    return team.communes.flatMap((code) => {
      const others = teams.filter((t) => t.id !== team.id && t.communes.includes(code)).map((t) => t.name);
      return others.length ? [{ commune_code: code, commune_name: names[code], teams: others }] : [];
    });
  }

  // The save button's name for a new team (the audit's name of the action), which the sentence above the form names.
  const CREATE_TEAM = cfg.adminActionLabels.create_team;
  let picked = 0;  // only the latest pick's history is shown (a team picked meanwhile, a save: answers may cross)
  async function pickTeam() {
    const mine = ++picked;
    const team = teams.find((t) => String(t.id) === teamPick.value);
    holders = {};
    for (const other of teams.filter((t) => t !== team)) {
      for (const code of other.communes) (holders[code] ||= []).push(other.name);
    }
    for (const label of list.children) {
      const held = holders[label.dataset.code];
      label.querySelector(".holders").textContent = held ? `— ${held.join(", ")}` : "";
      label.dataset.search = `${names[label.dataset.code]} ${label.dataset.code} ${held ? held.join(" ") : ""}`
        .toLocaleLowerCase("vi");
    }
    selected.clear();
    teamForm.valid_from.value = viDate(new Date());
    document.getElementById("team-name").hidden = Boolean(team);
    renameForm.hidden = !team;
    dissolveBox.hidden = !team;
    if (team) renameForm.name.value = team.name;
    document.getElementById("team-save").textContent = team ? "Lưu địa bàn mới" : CREATE_TEAM;
    const history = document.querySelector("#area-history tbody");
    history.replaceChildren();
    document.getElementById("area-history-block").hidden = !team;
    if (!team) { summary.textContent = `Đặt tên, chọn địa bàn trên bản đồ hoặc trong danh sách, rồi bấm «${CREATE_TEAM}».`; drawArea(); return; }
    // Units of the area a boundary import closed (merged away, re-coded): no longer drawn nor listed, so they are
    // not selected — kept, they could not be unticked and every save was refused («không có … hiện hành mã») — and
    // the administrator is told to choose the area again.
    const closed = team.communes.filter((code) => !(code in names));
    team.communes.filter((code) => code in names).forEach((code) => selected.add(code));
    const shared = sharedText(sharedToday(team));
    const inactive = team.members - team.active_members;  // deactivated accounts count as members, work no task
    summary.textContent = `${team.members} người dùng${inactive ? ` (${inactive} ngừng kích hoạt)` : ""}; ` +
      `${team.unfinished_tasks} nhiệm vụ chưa kết thúc; ` +
      `đang phụ trách ${team.communes.length - closed.length} xã/phường` +
      (team.next_change ? `; địa bàn thay đổi từ ${viDate(team.next_change)}` : "") + (shared ? `. ${shared}` : "") +
      (closed.length ? `. Lưu ý: địa bàn còn ghi ${closed.length} đơn vị đã khép lại theo ranh giới mới ` +
        `(${closed.join(", ")}): hãy chọn lại địa bàn rồi bấm «Lưu địa bàn mới»` : "");
    drawArea();
    const bounds = L.latLngBounds(team.communes.map((code) => byCode[code]?.getBounds()).filter(Boolean));
    if (bounds.isValid()) fitClear(map, bounds);
    const periods = await api(`/api/teams/${team.id}/areas`);
    if (mine !== picked) return;
    // A period planned from a later day has not started: said so, not «01/01/2027 | nay» («until now»).
    const { year, month, day } = localParts(new Date());
    const today = `${year}-${month}-${day}`;
    history.replaceChildren(...periods.map((p) => {
      const planned = p.valid_from > today;
      const tr = document.createElement("tr");
      tr.innerHTML = `<td>${escapeHtml(p.commune_name || p.commune_code)}</td><td class="day">${viDate(p.valid_from)}` +
        `${planned ? ' <small class="planned">(chưa có hiệu lực)</small>' : ""}</td>` +
        `<td class="day">${p.valid_to ? viDate(p.valid_to) : planned ? "—" : "nay"}</td>`;
      return tr;
    }));
  }
  teamPick.addEventListener("change", pickTeam);

  teamForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    // «31/02/2026» written right was told «phải theo dạng dd/mm/yyyy»: dayField says the day does not exist.
    let validFrom;
    try { validFrom = dayField(teamForm.valid_from, "Ngày có hiệu lực"); } catch (error) { notify(error.message, true); return; }
    if (!validFrom) { notify("Hãy ghi ngày có hiệu lực theo dạng dd/mm/yyyy", true); return; }
    if (!selected.size) { notify("Hãy chọn ít nhất một xã/phường", true); return; }
    const communesChosen = [...selected].sort();
    try {
      if (teamPick.value) {
        const change = await api(`/api/teams/${teamPick.value}/area`, { method: "PUT",
          body: JSON.stringify({ communes: communesChosen, valid_from: validFrom }) });
        const team = teamPick.value;
        await refreshAfterSave(`Đã lưu địa bàn từ ${viDate(change.valid_from)}: thêm ${change.added.length}, bớt ` +
          `${change.removed.length} xã/phường` + (change.planned_replaced.length
          ? `; thay cho thay đổi đã định từ ${change.planned_replaced.map(viDate).join(", ")}` : "") +
          (change.shared.length ? `. ${sharedText(change.shared)}` : "") + keptText(change.open_tasks_kept) +
          withoutTeamText(change.left_without_team),
        () => Promise.all([loadTeams(team), loadAudit()]), TO_SEE,
        change.shared.length || change.open_tasks_kept.length || change.left_without_team.length ? "warning" : false);
      } else {
        const name = teamForm.name.value.trim();
        if (!name) { notify("Hãy đặt tên tổ công tác", true); return; }
        const team = await api("/api/teams", { method: "POST",
          body: JSON.stringify({ name, communes: communesChosen, valid_from: validFrom }) });
        teamForm.name.value = "";
        await refreshAfterSave(`Đã tạo tổ «${team.name}» phụ trách ${communesChosen.length} xã/phường từ ` +
          `${teamForm.valid_from.value}` + (team.shared.length ? `. ${sharedText(team.shared)}` : ""),
        () => Promise.all([loadTeams(String(team.id)), loadAudit()]), TO_SEE, team.shared.length ? "warning" : false);
      }
    } catch (error) { failed(error, () => teamForm.requestSubmit()); }
  });
  // A new name for the team picked: the same team (members, area, tasks, history), the audit names both.
  renameForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const team = teams.find((t) => String(t.id) === teamPick.value);
    try {
      const renamed = await api(`/api/teams/${team.id}/name`, { method: "PUT",
        body: JSON.stringify({ name: renameForm.name.value.trim(), version: team.version }) });
      await refreshAfterSave(`Đã đổi tên tổ «${renamed.before}» thành «${renamed.name}»`,
        () => Promise.all([loadTeams(String(team.id)), loadUsers(), loadAudit()]), TO_SEE);
    } catch (error) { failed(error, () => renameForm.requestSubmit()); }
  });
  // Dissolving the team picked, asked first: refused by the server (its message says what to do first) while the team
  // holds unfinished tasks or members; its area ends today, it leaves every list and picker, its history stays.
  const dissolveButton = document.getElementById("dissolve-team");
  dissolveButton.addEventListener("click", async () => {
    const team = teams.find((t) => String(t.id) === teamPick.value);
    // A team with members or unfinished work (as the summary above says) is refused by the server, with what to do
    // first: sent without the question — «Không hoàn tác được» was asked, then nothing could be done.
    const refusable = team.members || team.unfinished_tasks;
    if (!refusable && !(await ask(`Giải thể tổ «${team.name}»? Địa bàn của tổ (${team.communes.length} xã/phường) kết thúc hôm nay;` +
      " tổ không còn được chọn để giao nhiệm vụ hay thêm người dùng. Nhiệm vụ cũ và nhật ký vẫn ghi tên tổ." +
      " Không hoàn tác được.", "Giải thể tổ"))) return;
    dissolveButton.disabled = true;
    try {
      const done = await api(`/api/teams/${team.id}/dissolution`, { method: "POST",
        body: JSON.stringify({ version: team.version }) });
      await refreshAfterSave(`Đã giải thể tổ «${done.name}»: địa bàn ${done.communes.length} xã/phường kết thúc ngày ` +
        `${viDate(done.dissolved_on)}${withoutTeamText(done.left_without_team)}`,
        () => Promise.all([loadTeams(""), loadAudit()]), TO_SEE, done.left_without_team.length ? "warning" : false);
    } catch (error) { failed(error, () => dissolveButton.click()); }
    dissolveButton.disabled = false;
  });
  // How to see what was saved when the lists could not be loaded again after it (refreshAfterSave).
  const TO_SEE = "tải lại trang để xem danh sách mới";

  // ------------------------------------------------------------------------------------------------ the users
  const secret = document.getElementById("secret");
  function showPassword(username, password) {
    secret.hidden = false;
    secret.innerHTML = `Mật khẩu của <b>${escapeHtml(username)}</b>: <code class="password">${escapeHtml(password)}</code>
      <br><small>Chỉ hiển thị một lần: hãy trao tận tay người dùng. Hệ thống chỉ lưu bản băm. Khi đăng nhập, người dùng
      phải đổi mật khẩu này trước khi làm việc.</small>
      <button type="button">Đã ghi nhận, ẩn đi</button>`;
    secret.querySelector("button").onclick = () => { secret.hidden = true; secret.replaceChildren(); };
  }

  // A command or planner user sees one province, or the whole country («Toàn quốc») only when the administrator
  // chooses it: never by default (least privilege; the API refuses such a role without one or the other).
  const NATION = "nation";  // the level's code (models.vocabulary.AreaLevel)
  const WHOLE_COUNTRY = cfg.areaLevelLabels[NATION];
  // The provinces (GET /api/provinces) by code, those with units, and the scope lists' options (loadProvinces).
  let provinceName = {}, loaded = [], provinceOptions = "";
  // The narrowest scope for user `u` (null: a new user): their own province, else that of the team they leave (its
  // communes' province), else the only province the database holds; else none, for the administrator to choose.
  // (An administrator has no province of their own: only command and planner users are limited to one.)
  function leastProvince(u) {
    if (u?.province_code) return u.province_code;
    const team = u && teams.find((t) => t.id === u.team_id);
    const ofTeam = new Set((team?.communes ?? []).map((code) => provinceOf[code]).filter(Boolean));
    if (ofTeam.size === 1) return [...ofTeam][0];
    return loaded.length === 1 ? loaded[0].code : "";
  }
  // A form's role (for user `u`, null: a new user) with its team and scope: the team for the team role only, the scope
  // for command and planner only — the user's own while the role stays theirs, else leastProvince(u).
  function fitRole(form, u) {
    const role = form.role.value;
    const provincial = cfg.provincialRoles.includes(role);
    form.team.disabled = role !== "team";
    if (form.team.disabled) form.team.value = "";
    form.province.disabled = !provincial;
    form.province.value = !provincial ? "" : u && role === u.role ? u.province_code ?? NATION : leastProvince(u);
  }
  // The scope sent with `role` ({province_code, national}); null, the administrator told, when none is chosen.
  function scopeOf(role, select) {
    if (!cfg.provincialRoles.includes(role)) return { province_code: null, national: false };
    if (!select.value) { notify(`Hãy chọn phạm vi: một tỉnh, thành phố hoặc «${WHOLE_COUNTRY}»`, true); return null; }
    return select.value === NATION ? { province_code: null, national: true } : { province_code: select.value, national: false };
  }
  // A user's scope as the page says it: their team, or for command and planner their province or «Toàn quốc».
  const scopeText = (u) => u.team || (cfg.provincialRoles.includes(u.role)
    ? (u.province_code ? provinceName[u.province_code] ?? u.province_code : WHOLE_COUNTRY) : "");

  const newUser = document.getElementById("new-user");
  const fitNewUser = () => fitRole(newUser, null);
  newUser.role.addEventListener("change", fitNewUser);
  // The provinces, loaded at the start and again after a boundary import (a province whose units it loaded is then
  // offered, and becomes the default scope when it is the only one loaded); the new-user form keeps a scope chosen.
  async function loadProvinces() {
    const provinces = await api("/api/provinces");
    provinceName = Object.fromEntries(provinces.map((p) => [p.code, p.full_name]));
    loaded = provinces.filter((p) => p.units > 0);
    provinceOptions = "<option value=\"\">— Chọn tỉnh, thành phố —</option>" +
      provinces.map((p) => `<option value="${p.code}">${escapeHtml(p.full_name)}</option>`).join("") +
      `<option value="${NATION}">${WHOLE_COUNTRY} (mọi tỉnh, thành phố)</option>`;
    const chosen = newUser.province.value;
    newUser.province.innerHTML = provinceOptions;
    newUser.province.value = chosen;
    if (!newUser.province.value) fitNewUser();
  }
  await loadProvinces();
  // No role is chosen beforehand: «Ban chỉ huy», the first of the list, was — the widest powers short of an
  // administrator's given to whoever was created without a look at the field.
  newUser.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!newUser.role.value) { notify("Hãy chọn vai trò của người dùng mới", true); newUser.role.focus(); return; }
    // Said here, with what to do: the server's refusal read «Dữ liệu gửi lên không hợp lệ — nội dung: …».
    if (newUser.role.value === "team" && !newUser.team.value) {
      notify(`Người dùng vai trò ${cfg.roleLabels.team} phải thuộc một tổ: hãy chọn tổ (chưa có tổ thì tạo ở thẻ ` +
        "«Tổ, địa bàn» trước)", true);
      newUser.team.focus();
      return;
    }
    const scope = scopeOf(newUser.role.value, newUser.province);
    if (!scope) return;
    try {
      const created = await api("/api/users", { method: "POST", body: JSON.stringify({
        username: newUser.username.value.trim(), role: newUser.role.value,
        team_id: newUser.team.value ? Number(newUser.team.value) : null, ...scope,
      }) });
      showPassword(created.username, created.password);
      newUser.reset();
      fitNewUser();
      const where = scopeText({ ...created, team: null });
      await refreshAfterSave(`Đã tạo người dùng ${created.username} (${cfg.roleLabels[created.role]}` +
        `${where ? `, ${where}` : ""})`, () => Promise.all([loadUsers(), loadAudit()]), TO_SEE);
    } catch (error) { failed(error, () => newUser.requestSubmit()); }
  });

  // A city's teams and users from one file, all or nothing: a refused file shows every refused row (nothing was
  // created); a file imported answers the one-time password sheet, offered once as a download and forgotten when the
  // administrator says it is handed out (the page keeps no copy: reloading it loses the sheet, the server has none).
  const userImport = document.getElementById("user-import");
  const importBox = document.getElementById("user-import-report");
  const importSheet = document.getElementById("user-import-sheet");
  vietnameseFilePicker(userImport.elements.file);
  fileCheck(userImport, "/api/users/import", importBox);
  userImport.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = userImport.elements.file.files[0];
    const sheet = await sendImportFile(userImport, "/api/users/import", importBox,
      userImport.querySelector("button[type=submit]"), "nhập", () => userImport.requestSubmit(), { file: true });
    if (!sheet) return;
    importBox.hidden = true;
    userImport.reset();
    const link = URL.createObjectURL(sheet);
    importSheet.hidden = false;
    importSheet.innerHTML = `Đã tạo các tổ công tác và người dùng của tệp <b>${escapeHtml(file.name)}</b>.
      <a href="${link}" download="mat-khau-lan-dau.xlsx">Tải bảng mật khẩu dùng một lần (Excel)</a>
      <br><small>Chỉ tải được lúc này: hệ thống không lưu mật khẩu. Giao riêng từng dòng cho đúng cán bộ, rồi hủy bảng
      (xóa tệp, hủy bản in). Mỗi người phải đổi mật khẩu khi đăng nhập lần đầu.</small>
      <button type="button">Đã giao xong, ẩn đi</button>`;
    importSheet.querySelector("button").onclick = () => {
      URL.revokeObjectURL(link);
      importSheet.hidden = true;
      importSheet.replaceChildren();
    };
    await refreshAfterSave(`Đã nhập tệp ${file.name}`, () => Promise.all([loadUsers(), loadTeams(), loadAudit()]), TO_SEE);
  });

  // Tasks belong to teams, not people: the team a user left keeps its open tasks, with nobody to work them once it
  // has no active member left (command gives them to another team).
  // A team left with no active member is said also when it holds no open task: command's assignment list still offers
  // it, and a task given to it would reach nobody.
  function leftText(former) {
    if (!former) return "";
    if (!former.open_tasks) {
      return former.active_members ? "" : `. Tổ «${former.name}» không còn ai hoạt động: đừng giao nhiệm vụ cho tổ này` +
        " cho đến khi có thành viên";
    }
    return `. Nhiệm vụ thuộc về tổ, không thuộc người: ${former.open_tasks} nhiệm vụ đang mở ở lại tổ «${former.name}»` +
      (former.active_members ? "" : "; tổ không còn ai hoạt động, chỉ huy cần giao lại các nhiệm vụ này");
  }

  // A user's new place: the same role with another team moves a team user, the same command or planner role with
  // another scope changes their province (PUT …/province; for both their session goes on, the next request reads the
  // new area); another role asks first, as it logs the person out everywhere. What it did, or null.
  async function savePlace(u, role, teamId, scope) {
    if (role === "team" && !teamId) { notify("Hãy chọn tổ công tác", true); return null; }
    if (role === u.role && cfg.provincialRoles.includes(role)) {
      if (scope.province_code === u.province_code) { notify("Hãy chọn phạm vi khác hoặc vai trò khác", true); return null; }
      const changed = await api(`/api/users/${u.id}/province`, { method: "PUT",
        body: JSON.stringify({ province_code: scope.province_code, version: u.version }) });
      return `Phạm vi của ${u.username} từ nay: ${scopeText(changed)} (áp dụng từ yêu cầu tiếp theo)`;
    }
    if (role === u.role) {
      if (teamId === u.team_id || !teamId) { notify("Hãy chọn tổ khác hoặc vai trò khác", true); return null; }
      const moved = await api(`/api/users/${u.id}/team`, { method: "PUT",
        body: JSON.stringify({ team_id: teamId, version: u.version }) });
      return `Đã chuyển ${u.username} từ tổ «${moved.former_team.name}» sang tổ «${moved.team}»` + leftText(moved.former_team);
    }
    const to = cfg.roleLabels[role];
    const where = scopeText({ role, team: null, ...scope });
    if (!(await ask(`Đổi vai trò của ${u.username} từ «${cfg.roleLabels[u.role]}» sang «${to}»` +
      `${where ? ` (phạm vi: ${where})` : ""}? Người dùng bị đăng xuất ngay trên mọi thiết bị và phải đăng nhập lại.`,
    "Đổi vai trò"))) return null;
    const changed = await api(`/api/users/${u.id}/role`, { method: "PUT", body: JSON.stringify({ role, team_id: teamId,
      ...scope, version: u.version }) });
    const place = changed.team ? `, tổ «${changed.team}»` : where ? `, phạm vi ${scopeText(changed)}` : "";
    return `Tài khoản ${u.username}: vai trò «${to}»${place}, đã đăng xuất khỏi mọi thiết bị` + leftText(changed.former_team);
  }

  // Runs a user's action from its control `b` (a button, a form's button): what it did is told and the lists follow;
  // nothing (cancelled): usable again. Once done it stays disabled even when the lists cannot be loaded (a second
  // «Cấp lại mật khẩu» would make another password).
  async function act(b, run, retry) {
    b.disabled = true;
    let done;
    try { done = await run(); } catch (error) {
      b.disabled = false;
      failed(error, retry);
      return;
    }
    if (done) await refreshAfterSave(done, () => Promise.all([loadUsers(), loadTeams(), loadAudit()]), TO_SEE);
    else b.disabled = false;
  }

  // «Chuyển tổ / đổi vai trò» under a user's row: a role, a team for the team role, a scope for command and planner.
  function placeForm(u) {
    const box = document.createElement("details");
    box.className = "place";
    box.dataset.keep = "place";
    const roles = Object.entries(cfg.roleLabels).map(([code, label]) => `<option value="${code}">${escapeHtml(label)}</option>`);
    const teamOptions = teams.map((t) => `<option value="${t.id}">${escapeHtml(t.name)}</option>`);
    box.innerHTML = `<summary>Chuyển tổ / đổi vai trò</summary><form class="stack">
      <label>Vai trò <select name="role">${roles.join("")}</select></label>
      <label>Tổ công tác (chỉ với vai trò tổ công tác) <select name="team"><option value="">—</option>${teamOptions.join("")}
      </select></label><label>Phạm vi (chỉ với vai trò ban chỉ huy, tham mưu) <select name="province">${provinceOptions}
      </select></label><p class="hint">Đổi vai trò: người dùng bị đăng xuất. Chuyển tổ: nhiệm vụ đang mở ở lại tổ cũ
      (nhiệm vụ thuộc về tổ, không thuộc người).</p><button type="submit" data-action="place">Lưu</button></form>`;
    const form = box.querySelector("form");
    form.role.value = u.role;
    form.team.value = u.team_id ?? "";
    form.role.addEventListener("change", () => fitRole(form, u));
    fitRole(form, u);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const role = form.role.value;
      const scope = scopeOf(role, form.province);
      if (!scope) return;
      act(form.querySelector("button"), () => savePlace(u, role, form.team.value ? Number(form.team.value) : null, scope),
        () => form.requestSubmit());
    });
    return box;
  }

  const userState = (u) => (!u.active ? "Ngừng hoạt động" : u.locked ? `Bị khóa đến ${viDateTime(u.locked_until)}`
    : u.must_change_password ? "Chưa đổi mật khẩu được cấp" : "Hoạt động");
  // The day the user last logged in, under the state on a desktop (the time in its tooltip), and in the card opened:
  // an account nobody uses is found by it (sessions are deleted once ended, so nothing said it before). Not in a
  // phone's rows: the column took the room of the names, «thammuu2» broken across two lines at 360 px.
  const lastLogin = (u) => (u.last_login_at ? `đăng nhập ${viDate(u.last_login_at)}` : "chưa đăng nhập");
  // A user's actions, under its row once opened (act).
  function userActions(u) {
    const box = document.createElement("div");
    box.className = "card actions";
    box.dataset.username = u.username;
    const seen = document.createElement("p");
    seen.className = "last-login";
    seen.textContent = u.last_login_at ? `Đăng nhập gần nhất: ${viDateTime(u.last_login_at)}` : "Chưa đăng nhập lần nào";
    box.appendChild(seen);
    const button = (label, action, run) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.action = action;
      b.onclick = () => act(b, run, () => b.click());
      box.appendChild(b);
    };
    if (u.locked) {
      button(cfg.adminActionLabels.unlock_user, "unlock", async () => {
        await api(`/api/users/${u.id}/unlock`, { method: "POST" });
        return `Đã mở khóa ${u.username}`;
      });
    }
    // One's own account: the server refuses giving oneself a new password (it takes the current one, on the
    // password page), deactivating oneself and changing one's own role; the row offered the buttons all the same.
    if (u.username === cfg.username) {
      const own = document.createElement("p");
      own.className = "own-account";
      own.innerHTML = "Tài khoản của bạn: đổi mật khẩu ở trang <a href=\"/password\">Đổi mật khẩu</a> (cần mật khẩu " +
        "hiện tại); không tự ngừng kích hoạt hay đổi vai trò của mình — nhờ một quản trị viên khác.";
      box.appendChild(own);
      return box;
    }
    button(cfg.adminActionLabels.reset_password, "password", async () => {
      if (!(await ask(`Cấp mật khẩu mới cho ${u.username}? Mật khẩu cũ sẽ không dùng được nữa.`, "Cấp mật khẩu mới"))) {
        return null;
      }
      const reset = await api(`/api/users/${u.id}/password`, { method: "POST" });
      showPassword(reset.username, reset.password);
      return `Đã cấp lại mật khẩu cho ${u.username}`;
    });
    button(cfg.adminActionLabels[u.active ? "deactivate_user" : "activate_user"], u.active ? "deactivate" : "activate", async () => {
      if (u.active && !(await ask(`Ngừng kích hoạt ${u.username}? Mọi phiên đăng nhập của tài khoản kết thúc ngay.`,
        "Ngừng kích hoạt"))) return null;
      const changed = await api(`/api/users/${u.id}`, { method: "PATCH",
        body: JSON.stringify({ active: !u.active, version: u.version }) });
      return `Tài khoản ${u.username}: ${u.active ? "đã ngừng kích hoạt" : "đã kích hoạt lại"}` + leftText(changed.former_team);
    });
    box.appendChild(placeForm(u));
    return box;
  }

  const users = sortableTable(document.getElementById("user-table"), { sort: "username", keys: {
    username: (u) => u.username, role: (u) => cfg.roleLabels[u.role], team: scopeText, state: userState,
  }, row: (u) => {
    const tr = document.createElement("tr");
    tr.dataset.username = u.username;
    if (!u.active || u.locked) tr.className = "overdue";
    tr.innerHTML = `<td>${escapeHtml(u.username)}</td><td>${escapeHtml(cfg.roleLabels[u.role])}</td>` +
      `<td>${escapeHtml(scopeText(u) || "—")}</td><td class="state">${escapeHtml(userState(u))}` +
      `<br><small class="last-login"${u.last_login_at ? ` title="Đăng nhập gần nhất: ${viDateTime(u.last_login_at)}"` : ""}>` +
      `${escapeHtml(lastLogin(u))}</small></td>`;
    return tr;
  }, detail: userActions, idOf: (u) => u.username });
  const userSearch = document.getElementById("user-search");
  userSearch.addEventListener("input", () => {
    const words = userSearch.value.trim().toLocaleLowerCase("vi");
    users.filter((u) => !words || `${u.username} ${cfg.roleLabels[u.role]} ${scopeText(u)}`.toLocaleLowerCase("vi").includes(words));
  });

  async function loadUsers() {
    const listed = await api("/api/users");
    users.set(listed);
    document.getElementById("usernames").replaceChildren(...listed.map((u) => Object.assign(
      document.createElement("option"), { value: u.username })));
  }

  // ------------------------------------------------------------------------------------------- the two trails
  // A filter form's query (days typed dd/mm/yyyy sent as ISO days; a malformed day is told, never dropped), which the
  // list is read with and the Excel link exports; null when a day is malformed.
  function trailQuery(form) {
    const query = new URLSearchParams();
    try {
      for (const [name, label] of [["from", "Từ ngày"], ["to", "Đến ngày"]]) {
        const day = dayField(form[name], label);
        if (day) query.set(name, day);
      }
    } catch (error) { notify(error.message, true); return null; }
    for (const name of ["username", "what"]) if (form[name]?.value.trim()) query.set(name, form[name].value.trim());
    return query;
  }
  // How many lines are shown: all of them, or the newest `limit` (the Excel file holds up to 50 000).
  const LIMIT = 200;
  const countText = (n) => (n === LIMIT ? `${LIMIT} dòng mới nhất — thu hẹp bộ lọc, hoặc tải về Excel để có đủ`
    : `${VI_NUMBER.format(n)} dòng`);

  // The admin audit: who did what to which user or team, what changed in words (the server's, as the Excel says it).
  const auditForm = document.getElementById("audit-filters");
  async function loadAudit() {
    const query = trailQuery(auditForm);
    if (!query) return;
    document.getElementById("audit-xlsx").href = `/api/audit.xlsx?${query}`;
    const entries = await api(`/api/audit?${query}&limit=${LIMIT}`);
    document.getElementById("audit-count").textContent = countText(entries.length);
    document.getElementById("audit").innerHTML = entries.map((a) => {
      const target = [a.target_user, a.target_team].filter(Boolean).map(escapeHtml).join(", ");
      return `<li><time>${viDateTime(a.at)}</time> ${escapeHtml(a.actor_shown)}: ${escapeHtml(a.action_label)}` +
        `${target ? " — " + target : ""}${a.details_text ? ` (${escapeHtml(a.details_text)})` : ""}</li>`;
    }).join("") || "<li class=\"none\">Chưa có thao tác nào.</li>";
  }
  auditForm.addEventListener("submit", (event) => { event.preventDefault(); loadAudit().catch((error) => failed(error)); });

  // The access log: who read what (named as the page names it, not by route), when, how many rows, from where.
  const accessForm = document.getElementById("access-filters");
  async function loadAccess() {
    const query = trailQuery(accessForm);
    if (!query) return;
    document.getElementById("access-xlsx").href = `/api/access-log.xlsx?${query}`;
    const lines = await api(`/api/access-log?${query}&limit=${LIMIT}`);
    document.getElementById("access-count").textContent = countText(lines.length);
    document.getElementById("access-log").innerHTML = lines.map((line) => {
      const rows = line.rows === null ? "" : ` · ${VI_NUMBER.format(line.rows)} dòng`;
      return `<li data-what="${escapeHtml(line.what ?? "")}"><time>${viDateTime(line.at)}</time> ` +
        `<b>${escapeHtml(line.username)}</b> (${escapeHtml(line.role_label)}): ${escapeHtml(line.what_label)}${rows}` +
        `${line.address ? ` · ${escapeHtml(line.address)}` : ""}` +
        `${line.params_text ? `<br><small>${escapeHtml(line.params_text)}</small>` : ""}</li>`;
    }).join("") || "<li class=\"none\">Không có lượt xem nào theo bộ lọc này.</li>";
  }
  accessForm.addEventListener("submit", (event) => { event.preventDefault(); loadAccess().catch((error) => failed(error)); });

  // Boundaries from a file (as `diaban boundaries import`), checked first or not: after an import the units are drawn
  // and listed again (a merged commune gone, a new one there to pick) and the new-user form's provinces loaded again.
  importForm("boundary-import", "/api/imports/boundaries", () => Promise.all([drawUnits(), loadProvinces()]));

  await Promise.all([loadTeams(), loadUsers(), loadAudit()]);
  showTab("users");
  opened = true;
  document.body.dataset.ready = "true";
};
