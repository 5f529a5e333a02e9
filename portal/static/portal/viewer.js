/* The plate viewer: the full-resolution plate in OpenSeadragon, mask layers tinted per class
   (toggle, opacity), tips and starts marked and coloured by the robot's confidence threshold. */
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("plate-data").textContent);
  const box = document.getElementById("viewer");
  const COLOURS = { root: [255, 212, 0], shoot: [53, 199, 89], seed: [255, 107, 61],
                    occluded_root: [0, 200, 255] };
  const viewer = OpenSeadragon({
    element: box,
    prefixUrl: box.dataset.prefix || "/static/vendor/openseadragon/images/",
    tileSources: { type: "image", url: data.image, buildPyramid: true },
    showNavigator: true,
    maxZoomPixelRatio: 4,
    crossOriginPolicy: false,
    gestureSettingsMouse: { clickToZoom: false },
  });
  const layers = {};

  function tinted(url, colour) {
    return fetch(url, { credentials: "same-origin" })
      .then((answer) => { if (!answer.ok) throw new Error(url + ": " + answer.status); return answer.blob(); })
      .then((blob) => createImageBitmap(blob))
      .then((bitmap) => {
        const canvas = document.createElement("canvas");
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        const context = canvas.getContext("2d");
        context.drawImage(bitmap, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        const p = pixels.data;
        for (let i = 0; i < p.length; i += 4) {
          const on = p[i] > 127;
          p[i] = colour[0]; p[i + 1] = colour[1]; p[i + 2] = colour[2]; p[i + 3] = on ? 255 : 0;
        }
        context.putImageData(pixels, 0, 0);
        return new Promise((resolve) => canvas.toBlob((out) => resolve(URL.createObjectURL(out))));
      });
  }

  function opacityOf(name) {
    const slider = document.querySelector('.layer-opacity[data-layer="' + name + '"]');
    const toggle = document.querySelector('.layer-toggle[data-layer="' + name + '"]');
    return toggle && !toggle.checked ? 0 : Number(slider ? slider.value : 0.5);
  }

  function addLayer(name) {
    tinted(data.masks[name], COLOURS[name] || [255, 0, 255]).then((url) => {
      viewer.addTiledImage({
        tileSource: { type: "image", url: url }, x: 0, y: 0, width: 1, opacity: opacityOf(name),
        success: (event) => { layers[name] = event.item; box.dataset["layer" + name] = "ready"; },
      });
    }).catch((error) => console.error("mask layer", name, error));
  }

  function mark(point, kind, label) {
    const element = document.createElement("div");
    element.dataset.x = point.x;
    element.dataset.y = point.y;
    element.className = "mark " + kind;
    element.title = label;
    element.setAttribute("role", "img");
    element.setAttribute("aria-label", label);
    viewer.addOverlay({
      element: element,
      location: viewer.viewport.imageToViewportCoordinates(point.x, point.y),
      placement: OpenSeadragon.Placement.CENTER,
      checkResize: false,
    });
    return element;
  }
  const tipMarks = {};

  viewer.addOnceHandler("open", () => {
    Object.keys(data.masks).forEach(addLayer);
    data.plants.forEach((plant) => {
      if (plant.start) mark(plant.start, "start", "plant " + plant.plant + " root start");
      if (plant.tip) {
        const acts = plant.tip.confidence >= data.threshold;
        tipMarks[plant.plant] = mark(plant.tip, acts ? "act" : "unsure",
             "plant " + plant.plant + " tip, confidence " + plant.tip.confidence.toFixed(2));
      }
    });
    if (data.can_review) startReview();
    box.dataset.ready = "true";
  });

  /* -- review: accept, reject, drag or add tips; saved as a new review beside the prediction -- */
  function startReview() {
    const state = {};
    const predicted = {};
    data.plants.forEach((p) => { predicted[p.plant] = p; });
    if (data.review) {
      data.review.plants.forEach((e) => { state[e.plant] = { verdict: e.verdict, tip: e.tip }; });
    }
    const status = document.getElementById("review-status");
    const row = (plant) => document.querySelector('#plants tbody tr[data-plant="' + plant + '"]');

    function show(plant) {
      const entry = state[plant];
      const tr = row(plant);
      if (tr) tr.querySelector(".verdict-text").textContent = entry ? entry.verdict : "–";
      const element = tipMarks[plant];
      if (!element) return;
      element.classList.toggle("rejected", Boolean(entry && entry.verdict === "rejected"));
      element.classList.toggle("reviewed", Boolean(entry && entry.verdict !== "rejected"));
      if (entry && entry.tip) {
        viewer.updateOverlay(element, viewer.viewport.imageToViewportCoordinates(entry.tip.x, entry.tip.y));
      }
    }

    function place(plant, x, y, verdict) {
      state[plant] = { verdict: verdict, tip: { x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10 } };
      show(plant);
      status.textContent = "plant " + plant + ": tip " + verdict + ", not saved yet";
    }

    function draggable(plant, element) {
      element.tabIndex = 0;
      element.classList.add("movable");
      const verdict = () => (predicted[plant] ? "moved" : "added");
      element.addEventListener("pointerdown", (event) => {
        event.preventDefault();
        event.stopPropagation();
        viewer.setMouseNavEnabled(false);
        const move = (e) => {
          const rect = box.getBoundingClientRect();
          const at = viewer.viewport.viewerElementToImageCoordinates(
            new OpenSeadragon.Point(e.clientX - rect.left, e.clientY - rect.top));
          place(plant, at.x, at.y, verdict());
        };
        const up = (e) => {
          move(e);
          window.removeEventListener("pointermove", move);
          window.removeEventListener("pointerup", up);
          viewer.setMouseNavEnabled(true);
        };
        window.addEventListener("pointermove", move);
        window.addEventListener("pointerup", up);
      });
      element.addEventListener("keydown", (event) => {
        const steps = { ArrowLeft: [-2, 0], ArrowRight: [2, 0], ArrowUp: [0, -2], ArrowDown: [0, 2] };
        const step = steps[event.key];
        if (!step) return;
        event.preventDefault();
        const entry = state[plant] && state[plant].tip ? state[plant].tip
          : { x: Number(element.dataset.x), y: Number(element.dataset.y) };
        place(plant, entry.x + step[0], entry.y + step[1], verdict());
      });
    }

    Object.entries(tipMarks).forEach(([plant, element]) => draggable(Number(plant), element));
    Object.keys(state).forEach((plant) => show(Number(plant)));

    document.querySelectorAll("#plants .accept").forEach((button) => button.addEventListener("click", () => {
      const plant = Number(button.dataset.plant);
      state[plant] = { verdict: "accepted", tip: null };
      show(plant);
    }));
    document.querySelectorAll("#plants .reject").forEach((button) => button.addEventListener("click", () => {
      const plant = Number(button.dataset.plant);
      state[plant] = { verdict: "rejected", tip: null };
      show(plant);
    }));

    let adding = false;
    const addButton = document.getElementById("add-tip");
    addButton.addEventListener("click", () => {
      adding = !adding;
      addButton.setAttribute("aria-pressed", String(adding));
      status.textContent = adding ? "click the plate where the missed tip is" : "";
    });
    viewer.addHandler("canvas-click", (event) => {
      if (!adding || !event.quick) return;
      event.preventDefaultAction = true;
      adding = false;
      addButton.setAttribute("aria-pressed", "false");
      const at = viewer.viewport.viewerElementToImageCoordinates(event.position);
      const numbers = Object.keys(predicted).concat(Object.keys(state)).map(Number);
      const plant = Math.max(0, ...numbers) + 1;
      tipMarks[plant] = mark(at, "added", "plant " + plant + " tip, added by you");
      draggable(plant, tipMarks[plant]);
      place(plant, at.x, at.y, "added");
    });

    function token() {
      try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; }
      catch (error) { return ""; }
    }

    document.getElementById("save-review").addEventListener("click", () => {
      const plants = [];
      data.plants.forEach((p) => {
        const entry = state[p.plant] || { verdict: p.tip ? "accepted" : "rejected", tip: null };
        plants.push({ plant: p.plant, verdict: entry.verdict,
                      tip: entry.verdict === "moved" ? entry.tip : null });
      });
      Object.entries(state).forEach(([plant, entry]) => {
        if (!predicted[plant]) plants.push({ plant: Number(plant), verdict: "added", tip: entry.tip });
      });
      status.textContent = "saving…";
      fetch(data.review_url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token() },
        body: JSON.stringify({ base: data.review ? data.review.number : 0, plants: plants }),
      }).then((answer) => answer.json().then((body) => ({ ok: answer.ok, body: body })))
        .then(({ ok, body }) => {
          if (!ok) { status.textContent = body.detail || "the review was not saved"; status.className = "error"; return; }
          data.review = { number: body.number, plants: body.plants };
          status.className = "";
          status.textContent = "review " + body.number + " saved; exports now use it";
        })
        .catch((error) => { status.textContent = "the review was not saved: " + error; status.className = "error"; });
    });
  }

  document.querySelectorAll(".layer-toggle, .layer-opacity").forEach((input) => {
    input.addEventListener("input", () => {
      const name = input.dataset.layer;
      if (layers[name]) layers[name].setOpacity(opacityOf(name));
    });
  });
  const marks = document.getElementById("toggle-marks");
  marks.addEventListener("change", () => box.classList.toggle("hide-marks", !marks.checked));
  window.plateViewer = viewer;
  window.plateLayers = layers;
})();
