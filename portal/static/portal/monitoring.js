/* The monitoring page's charts: confidence, drift and live accuracy over time per model version. */
(function () {
  "use strict";
  const source = document.getElementById("monitoring-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const line = (label, points, colour) => ({
    label: label, data: points, borderColor: colour, backgroundColor: colour, tension: 0.2,
    spanGaps: true,
  });
  const draw = {
    confidence: (s) => ({
      labels: s.confidence.map((d) => d.day),
      datasets: [
        line("image confidence (mean)", s.confidence.map((d) => d.image_confidence), "#1a73e8"),
        line("tips at robot confidence", s.confidence.map((d) => d.confident_tips), "#2f7d4f"),
      ],
      title: "Confidence per day",
    }),
    drift: (s) => ({
      labels: s.drift.map((d) => d.at.slice(0, 16).replace("T", " ")),
      datasets: [line("share of features drifted", s.drift.map((d) => d.share), "#b3261e")],
      title: "Input drift per check",
    }),
    accuracy: (s) => ({
      labels: s.accuracy.map((d) => d.day),
      datasets: [line("reviewed tips within 1 mm", s.accuracy.map((d) => d.within_1mm), "#d97706")],
      title: "Live accuracy per day",
    }),
  };
  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const series = data[canvas.dataset.version];
    if (!series) return;
    const spec = draw[canvas.dataset.chart](series);
    new Chart(canvas, {
      type: "line",
      data: { labels: spec.labels, datasets: spec.datasets },
      options: {
        animation: false,
        plugins: { title: { display: true, text: spec.title } },
        scales: { y: { min: 0, max: 1 } },
      },
    });
  });
})();
