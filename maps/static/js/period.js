// diaban pages, «Báo cáo định kỳ» of the command and planner pages (maps.panels.period_report_form): a period picked
// (this week, month, quarter, half year or year, each ending today — Hải Phòng's day —, or last month whole) or typed
// dd/mm/yyyy, its figures beside the same period of the previous year (GET /api/reports/period), the day its incident
// data reaches with a warning when the period goes on past it, and its Excel file (/api/reports/period.xlsx).
// Self-contained: it needs only common.js (api, localParts, isoDay, dayField, failed, escapeHtml, the VI_ formats).
"use strict";

// Today in Hải Phòng as a local calendar Date (the browser's own clock may be in another zone).
// The first day of a quick pick ending `today`: Monday of this week, the 1st of this month, of this quarter, of this
// half year (01/01 or 01/07), of this year.
function periodStart(pick, today) {
  const [y, m] = [today.getFullYear(), today.getMonth()];
  return {
    week: new Date(y, m, today.getDate() - ((today.getDay() + 6) % 7)),
    month: new Date(y, m, 1),
    last_month: new Date(y, m - 1, 1),
    quarter: new Date(y, m - (m % 3), 1),
    half: new Date(y, m < 6 ? 0 : 6, 1),
    year: new Date(y, 0, 1),
  }[pick];
}

// Its last day: today, but for last month, whole (the day before this month's first).
const periodEnd = (pick, today) => (pick === "last_month" ? new Date(today.getFullYear(), today.getMonth(), 0) : today);

const viIso = (iso) => iso.split("-").reverse().join("/");
const viDay = (date) => viIso(isoDay(date));  // a local calendar day as dd/mm/yyyy

// A figure of the report: the count, or why there is none (never a 0 for a figure not known).
function periodFigure(value) {
  return value === null ? `<span class="kpi-blank">${escapeHtml(window.diaban.kpiBlank.noData)}</span>` : VI_NUMBER.format(value);
}

// The change as a report writes it: «+12 (+8,5 %)», «−3 (−20 %)», «0»; from 0 the relative change is not computed,
// said in the Excel file's words («+3 (cùng kỳ bằng 0, không tính tỷ lệ)»: a bare «(—)» read as a figure missing).
function periodChange(line) {
  if (line.change === null) return periodFigure(null);
  const signed = (text, value) => (value > 0 ? `+${text}` : value < 0 ? `−${text.replace("-", "")}` : text);
  const count = signed(VI_NUMBER.format(line.change), line.change);
  if (line.change_pct !== null) return `${count} (${signed(VI_PERCENT.format(line.change_pct), line.change_pct)})`;
  return line.previous === 0 && line.change !== 0
    ? `${count} <span class="kpi-blank">(${escapeHtml(window.diaban.periodFromZero)})</span>` : count;
}

function showPeriodReport(report) {
  const table = document.getElementById("period-table");
  table.tBodies[0].innerHTML = report.sections.map((section) =>
    `<tr class="section"><th colspan="4" scope="rowgroup">${escapeHtml(section.title)}</th></tr>` +
    (section.lines.length ? section.lines.map((line) => `<tr data-key="${escapeHtml(line.key)}">` +
      `<td>${escapeHtml(line.label)}</td><td>${periodFigure(line.current)}</td><td>${periodFigure(line.previous)}</td>` +
      `<td>${periodChange(line)}</td></tr>`).join("")
      : `<tr><td colspan="4" class="none">${escapeHtml(section.empty)}</td></tr>`)).join("");
  table.hidden = false;
  const { period, previous } = report;
  document.getElementById("period-summary").textContent =
    `${report.province || window.diaban.areaLevelLabels.nation}: từ ${viIso(period.from)} đến ${viIso(period.to)} ` +
    `(${VI_NUMBER.format(period.days)} ngày), so với cùng kỳ năm trước từ ${viIso(previous.from)} đến ${viIso(previous.to)}.` +
    (report.notes.length ? ` ${report.notes.join(" ")}` : "");
  // The day the incident data reaches, the days of the period after it not yet loaded (never shown as none), and the
  // days of last year its incident figures are then compared with (the same days, not the whole period).
  const told = [["period-data-until", report.data_until_line], ["period-data-gap", report.data_gap],
    ["period-compared", report.compared_line]];
  for (const [id, text] of told) {
    const line = document.getElementById(id);
    line.textContent = text || "";
    line.hidden = !text;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("period-form");
  if (!form) return;
  const link = document.getElementById("period-xlsx");
  async function load() {
    const first = dayField(form.elements.from, "Từ ngày");
    const last = dayField(form.elements.to, "Đến ngày");
    if (!first || !last) throw new Error("Hãy chọn kỳ báo cáo, hoặc ghi cả ngày đầu và ngày cuối (dd/mm/yyyy)");
    const query = new URLSearchParams({ from: first, to: last });
    const report = await api(`/api/reports/period?${query}`);
    showPeriodReport(report);
    link.href = `/api/reports/period.xlsx?${query}`;
    link.hidden = false;
  }
  // A period refused (a wrong day, the server's refusal): the report on screen is another period's, and stayed under
  // the new dates with its Excel link — taken away, only the error said.
  function withdraw() {
    for (const id of ["period-table", "period-xlsx", "period-data-until", "period-data-gap", "period-compared"]) {
      document.getElementById(id).hidden = true;
    }
    document.getElementById("period-summary").textContent = "";
  }
  // A refusal is told about the report (`about`), and settled once a report loads: a wrong day's red message stayed
  // over the next period's figures.
  const run = () => load().then(() => settled("period-report"))
    .catch((error) => { withdraw(); failed(error, run, "period-report"); });
  form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
  // «6 tháng» read as the last six months; reports say which half of the year it is («sơ kết 6 tháng đầu năm»).
  // Named when the report is opened: Hải Phòng's day is known once the page has started (diabanStart).
  const half = document.querySelector('#period-report [data-period="half"]');
  document.getElementById("period-report").addEventListener("toggle", () => {
    half.textContent = localToday().getMonth() < 6 ? "6 tháng đầu năm" : "6 tháng cuối năm";
  });
  document.querySelectorAll("#period-report [data-period]").forEach((button) => button.addEventListener("click", () => {
    const today = localToday();
    form.elements.from.value = viDay(periodStart(button.dataset.period, today));
    form.elements.to.value = viDay(periodEnd(button.dataset.period, today));
    run();
  }));
});
