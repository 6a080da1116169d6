// The report's charts and table, drawn from the inline JSON (amounts in whole cents: the page adds
// integers only and formats them the way fibank_report.page.money does).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const SYMBOLS = { EUR: "€", BGN: "лв.", USD: "$", GBP: "£", CHF: "CHF" };
  const COLORS = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d",
    "#dc2626", "#4b5563", "#ca8a04", "#9ca3af"];
  const DEBIT = "#c0392b", CREDIT = "#27ae60", NET = "#1f2937";
  const euroMonth = data.euroDay.slice(0, 7);

  function money(cents, currency) {
    if (cents === null || cents === undefined) return "–";
    const abs = Math.abs(cents);
    const whole = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0");
    const part = String(abs % 100).padStart(2, "0");
    return (cents < 0 ? "-" : "") + whole + "," + part + "\u00a0" + (SYMBOLS[currency] || currency);
  }
  const eur = (cents) => money(cents, "EUR");
  const short = (text) => (text.length > 24 ? text.slice(0, 23) + "…" : text);
  const units = (cents) => (cents === null ? null : cents / 100);
  const tooltip = { callbacks: { label: (c) => c.dataset.label + ": " + eur(Math.round(c.parsed.y * 100)) } };
  const axisEur = { ticks: { callback: (v) => eur(Math.round(v * 100)).replace(",00", "") } };

  // A dashed vertical line at the euro changeover on a category axis.
  const euroLine = {
    id: "euroLine",
    afterDatasetsDraw(chart, _args, opts) {
      if (!opts || !opts.label) return;
      const labels = chart.data.labels, index = labels.indexOf(opts.label);
      if (index < 0) return;
      const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      const at = index === 0 ? x.getPixelForValue(0) : (x.getPixelForValue(index - 1) + x.getPixelForValue(index)) / 2;
      ctx.save();
      ctx.strokeStyle = "#2563eb"; ctx.setLineDash([5, 4]); ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(at, area.top); ctx.lineTo(at, area.bottom); ctx.stroke();
      ctx.fillStyle = "#2563eb"; ctx.font = "12px sans-serif"; ctx.fillText("BGN → EUR", at + 4, area.top + 12);
      ctx.restore();
    },
  };
  Chart.register(euroLine);
  Chart.defaults.maintainAspectRatio = false;
  if (window.matchMedia("(prefers-reduced-motion: reduce)").matches) Chart.defaults.animation = false;
  Chart.defaults.font.family = "system-ui, 'Segoe UI', Roboto, 'Noto Sans', 'DejaVu Sans', sans-serif";

  // --- debit against credit ---------------------------------------------------------------------
  const monthly = new Chart(document.getElementById("chart-monthly"), {
    data: { labels: [], datasets: [] },
    options: { plugins: { tooltip, euroLine: { label: euroMonth }, legend: { labels: { sort: (a, b) => a.datasetIndex - b.datasetIndex } } }, scales: { y: axisEur } },
  });
  function showMonths(key) {
    const rows = data.months[key] || [];
    monthly.data.labels = rows.map((r) => r.m);
    monthly.data.datasets = [
      { type: "bar", label: "Debit (out)", data: rows.map((r) => units(r.debit)), backgroundColor: DEBIT, order: 1 },
      { type: "bar", label: "Credit (in)", data: rows.map((r) => units(r.credit)), backgroundColor: CREDIT, order: 1 },
      { type: "line", label: "Net", data: rows.map((r) => units(r.net)), borderColor: NET, backgroundColor: NET, order: 0 },
    ];
    monthly.update();
    const body = document.querySelector("#monthly-table tbody");
    body.replaceChildren(...rows.slice().reverse().map((r) => {
      const tr = document.createElement("tr");
      tr.dataset.month = r.m;
      for (const [col, text] of [["month", r.m], ["debit", eur(r.debit)], ["credit", eur(r.credit)],
        ["net", eur(r.net)], ["entries", String(r.n)]]) {
        const td = document.createElement("td");
        td.dataset.col = col; td.textContent = text;
        if (col === "net") td.className = r.net < 0 ? "debit" : "credit";
        tr.append(td);
      }
      return tr;
    }));
    const other = rows.reduce((n, r) => n + r.other, 0);
    document.getElementById("monthly-note").textContent = other
      ? other + " entries in currencies without a fixed EUR rate are counted but not in these sums." : "";
  }
  const accountSelect = document.getElementById("monthly-account");
  accountSelect.addEventListener("change", () => showMonths(accountSelect.value));
  showMonths("all");

  // --- spending by category and counterparty, in a period ------------------------------------------
  const months = [...new Set(data.spending.map((s) => s[0]))].sort();
  const from = document.getElementById("period-from"), to = document.getElementById("period-to");
  for (const select of [from, to]) select.replaceChildren(...months.map((m) => new Option(m, m)));
  from.value = months[Math.max(0, months.length - 12)] || "";
  to.value = months[months.length - 1] || "";
  const categories = new Chart(document.getElementById("chart-categories"), {
    type: "doughnut", data: { labels: [], datasets: [] },
    options: { plugins: { legend: { position: "bottom" }, tooltip: { callbacks: { label: (c) => c.label + ": " + eur(c.raw * 100) } } } },
  });
  const parties = new Chart(document.getElementById("chart-counterparties"), {
    type: "bar", data: { labels: [], datasets: [] },
    options: { indexAxis: "y", plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => eur(Math.round(c.raw * 100)) } } },
      scales: { x: axisEur, y: { ticks: { autoSkip: false, callback: (_v, i) => short(parties.data.labels[i]) } } } },
  });
  function totals(index, first, last) {
    const sums = new Map();
    for (const s of data.spending) if (s[0] >= first && s[0] <= last) sums.set(s[index], (sums.get(s[index]) || 0) + s[3]);
    return [...sums.entries()].sort((a, b) => b[1] - a[1]);
  }
  function showSpending() {
    const first = from.value <= to.value ? from.value : to.value, last = from.value <= to.value ? to.value : from.value;
    const byCategory = totals(1, first, last);
    categories.data.labels = byCategory.map((c) => c[0].replace(/_/g, " "));
    categories.data.datasets = [{ data: byCategory.map((c) => c[1] / 100), backgroundColor: COLORS }];
    categories.update();
    const byParty = totals(2, first, last), top = byParty.slice(0, 10);
    const rest = byParty.slice(10).reduce((n, p) => n + p[1], 0);
    if (rest) top.push(["Everyone else (" + (byParty.length - 10) + ")", rest]);
    parties.data.labels = top.map((p) => p[0]);
    parties.data.datasets = [{ data: top.map((p) => p[1] / 100), backgroundColor: top.map((_p, i) => COLORS[i % COLORS.length]) }];
    parties.update();
    const sum = byCategory.reduce((n, c) => n + c[1], 0);
    document.getElementById("spending-total").textContent = "Spent " + first + " – " + last + ": " + eur(sum);
  }
  from.addEventListener("change", showSpending);
  to.addEventListener("change", showSpending);
  showSpending();

  // --- fees and commissions -------------------------------------------------------------------------
  new Chart(document.getElementById("chart-fees"), {
    type: "bar",
    data: { labels: data.charges.map((c) => c.m), datasets: [
      { label: "Fees", data: data.charges.map((c) => units(c.fees)), backgroundColor: "#d97706" },
      { label: "Commissions", data: data.charges.map((c) => units(c.commissions)), backgroundColor: "#7c3aed" },
    ] },
    options: { plugins: { tooltip, euroLine: { label: euroMonth } }, scales: { x: { stacked: true }, y: { ...axisEur, stacked: true } } },
  });
  const charged = data.charges.reduce((n, c) => n + c.total, 0);
  document.getElementById("fees-total").textContent = "In all, " + data.charges.length + " months: " + eur(charged);

  // --- daily balances ---------------------------------------------------------------------------------
  const labelOf = Object.fromEntries(data.accounts.map((a) => [a.iban, a.label]));
  new Chart(document.getElementById("chart-balances"), {
    type: "line",
    data: { labels: data.balances.days, datasets: Object.entries(data.balances.eur).map(([iban, values], i) => ({
      label: labelOf[iban] || iban, data: values.map(units), borderColor: COLORS[i % COLORS.length],
      backgroundColor: COLORS[i % COLORS.length], pointRadius: 0, borderWidth: 1.5, spanGaps: false,
    })) },
    options: { interaction: { mode: "index", intersect: false }, plugins: { tooltip, legend: { position: "bottom" }, euroLine: { label: data.euroDay } },
      scales: { x: { ticks: { maxTicksLimit: 12 } }, y: axisEur } },
  });

  // --- the transactions table ---------------------------------------------------------------------------
  window.entriesTable = new simpleDatatables.DataTable("#entries", {
    searchable: true, searchAnd: true, perPage: 25, perPageSelect: [25, 50, 100, 500],
    columns: [{ select: [5, 6], type: "number" }],
    labels: { placeholder: "Search (counterparty, category, text…)", noRows: "No entries", info: "{start}–{end} of {rows} entries" },
  });
})();
