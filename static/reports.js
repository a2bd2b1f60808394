// The channel report's two charts, drawn by the vendored Chart.js from the JSON in the page's
// data-charts attribute: the CSP allows no inline script.
(function () {
  "use strict";

  // The period form: typing a date means a custom period.
  const periodForm = document.querySelector("[data-report-period]");
  periodForm?.addEventListener("change", (event) => {
    if (event.target.matches("input[type=date]")) periodForm.querySelector("select[name=period]").value = "custom";
  });

  const source = document.getElementById("report-charts");
  if (!source?.dataset.charts || typeof window.Chart === "undefined") return;
  const data = JSON.parse(source.dataset.charts);
  const locale = document.documentElement.lang || "en";

  // The same hues as the channel badges in app.css.
  const COLOURS = {
    whatsapp: "#16a34a", instagram: "#db2777", facebook: "#2563eb", tiktok: "#111827", x: "#475569",
    telegram: "#0284c7", email: "#d97706", phone: "#7c3aed", other: "#94a3b8",
  };
  const colour = (channel) => COLOURS[channel] || "#64748b";
  // "Rp 1.250.000" / "Rp 1,250,000", as the tables beside it write rupiah (Intl's en-US would say "IDR").
  const grouping = new Intl.NumberFormat(locale === "id" ? "id-ID" : "en-US", { maximumFractionDigits: 0 });
  const rupiah = { format: (value) => `Rp ${grouping.format(value)}` };
  const compact = new Intl.NumberFormat(locale === "id" ? "id-ID" : "en-US", { notation: "compact" });

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#374151";
  // Drawn once, at once: no animation to wait for, on a modest PC or in a test.
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  const weekly = document.getElementById("chart-weekly");
  if (weekly) {
    new Chart(weekly, {
      type: "line",
      data: {
        labels: data.weekly.labels,
        datasets: data.weekly.series.map((series) => ({
          label: series.label, data: series.counts, borderColor: colour(series.channel),
          backgroundColor: colour(series.channel), tension: 0, pointRadius: 3,
        })),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" } },
      },
    });
  }

  const revenue = document.getElementById("chart-revenue");
  if (revenue) {
    new Chart(revenue, {
      type: "bar",
      data: {
        labels: data.revenue.labels,
        datasets: [{
          data: data.revenue.values, backgroundColor: data.revenue.channels.map(colour), borderRadius: 4,
        }],
      },
      options: {
        scales: { y: { beginAtZero: true, ticks: { callback: (value) => compact.format(value) } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (item) => rupiah.format(item.parsed.y) } },
        },
      },
    });
  }
})();
