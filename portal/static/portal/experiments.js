/* An experiment's charts: every plant's root length per condition (a strip chart showing the
   spread) and the median root length of one plate over its imaging dates. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  const data = JSON.parse(document.getElementById("experiment-data").textContent);
  const labels = data.conditions.map((c) => c.condition);
  const points = [];
  data.conditions.forEach((c, i) => c.lengths.forEach((length, j) => {
    points.push({ x: i + ((j % 7) - 3) * 0.04, y: length });
  }));
  new Chart(document.getElementById("spread"), {
    type: "scatter",
    data: { datasets: [{ label: "plant", data: points, backgroundColor: "#2f7d4f" }] },
    options: {
      animation: false,
      plugins: { legend: { display: false } },
      scales: {
        x: {
          min: -0.5, max: labels.length - 0.5,
          afterBuildTicks: (axis) => { axis.ticks = labels.map((_, i) => ({ value: i })); },
          ticks: { callback: (value) => labels[value] ?? "" },
          title: { display: true, text: "condition" },
        },
        y: { title: { display: true, text: "primary-root length (mm)" }, beginAtZero: true },
      },
    },
  });
  new Chart(document.getElementById("growth"), {
    type: "line",
    data: {
      labels: data.growth.map((g) => g.date),
      datasets: [{ label: "plate " + data.plate + " median", data: data.growth.map((g) => g.median),
                   borderColor: "#1a73e8", backgroundColor: "#1a73e8" }],
    },
    options: { animation: false, scales: { y: { title: { display: true, text: "median root length (mm)" }, beginAtZero: true } } },
  });
})();
