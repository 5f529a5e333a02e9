/* Calibration: each click on the plate adds a point (in image pixels); its robot coordinates are
   typed in the table; the points go to the server as JSON with the form. */
(function () {
  "use strict";
  const img = document.getElementById("calib-img");
  if (!img) return;
  const body = document.querySelector("#points tbody");
  const hidden = document.getElementById("points-json");
  const points = JSON.parse(document.getElementById("points-data").textContent) || [];
  const errorsNode = document.getElementById("errors-data");
  const errors = errorsNode ? JSON.parse(errorsNode.textContent) : [];
  const box = document.getElementById("calib-image");

  function sync() { hidden.value = JSON.stringify(points); }

  function cell(point, key, label) {
    const input = document.createElement("input");
    input.type = "number"; input.step = "any"; input.required = key !== "robot_z";
    input.value = point[key] ?? ""; input.setAttribute("aria-label", label);
    input.addEventListener("input", () => { point[key] = input.value === "" ? null : Number(input.value); sync(); });
    const td = document.createElement("td"); td.appendChild(input); return td;
  }

  function draw() {
    body.innerHTML = "";
    box.querySelectorAll(".calib-dot").forEach((d) => d.remove());
    points.forEach((point, i) => {
      const tr = document.createElement("tr");
      const n = document.createElement("th"); n.scope = "row"; n.textContent = String(i + 1); tr.appendChild(n);
      const xy = document.createElement("td"); xy.textContent = point.x.toFixed(1) + ", " + point.y.toFixed(1); tr.appendChild(xy);
      tr.appendChild(cell(point, "robot_x", "point " + (i + 1) + " robot x"));
      tr.appendChild(cell(point, "robot_y", "point " + (i + 1) + " robot y"));
      tr.appendChild(cell(point, "robot_z", "point " + (i + 1) + " robot z"));
      const err = document.createElement("td"); err.textContent = errors[i] !== undefined ? errors[i].toFixed(3) : "–"; tr.appendChild(err);
      const rm = document.createElement("td"); const b = document.createElement("button");
      b.type = "button"; b.className = "small secondary"; b.textContent = "Remove"; b.setAttribute("aria-label", "remove point " + (i + 1));
      b.addEventListener("click", () => { points.splice(i, 1); errors.length = 0; sync(); draw(); });
      rm.appendChild(b); tr.appendChild(rm); body.appendChild(tr);
      const dot = document.createElement("span"); dot.className = "calib-dot"; dot.textContent = String(i + 1);
      dot.style.left = (100 * point.x / img.naturalWidth) + "%"; dot.style.top = (100 * point.y / img.naturalHeight) + "%";
      box.appendChild(dot);
    });
    sync();
  }

  img.addEventListener("click", (event) => {
    const rect = img.getBoundingClientRect();
    const x = (event.clientX - rect.left) * img.naturalWidth / rect.width;
    const y = (event.clientY - rect.top) * img.naturalHeight / rect.height;
    points.push({ x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10, robot_x: null, robot_y: null, robot_z: null });
    errors.length = 0;
    draw();
  });
  if (img.complete) draw(); else img.addEventListener("load", draw);
})();
