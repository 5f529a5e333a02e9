/* A version's page: say what a stage change will do before it happens; draw the training curves. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  const source = document.getElementById("curve-data");
  if (!source || typeof Chart === "undefined") return;
  const curves = JSON.parse(source.textContent);
  const palette = ["#2f7d4f", "#b3261e", "#1a73e8", "#d97706", "#7b1fa2"];
  const datasets = Object.entries(curves).map(([name, points], i) => ({
    label: name,
    data: points.map(([step, value]) => ({ x: step, y: value })),
    borderColor: palette[i % palette.length],
    backgroundColor: palette[i % palette.length],
    yAxisID: name.includes("loss") ? "loss" : "score",
    tension: 0.2,
  }));
  new Chart(document.getElementById("curves"), {
    type: "line",
    data: { datasets: datasets },
    options: {
      animation: false,
      parsing: false,
      scales: {
        x: { type: "linear", title: { display: true, text: "epoch" } },
        loss: { position: "left", title: { display: true, text: "loss" } },
        score: { position: "right", min: 0, max: 1, title: { display: true, text: "IoU / F1" },
                 grid: { drawOnChartArea: false } },
      },
    },
  });
})();
