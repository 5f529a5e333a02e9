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
  }

  viewer.addOnceHandler("open", () => {
    Object.keys(data.masks).forEach(addLayer);
    data.plants.forEach((plant) => {
      if (plant.start) mark(plant.start, "start", "plant " + plant.plant + " root start");
      if (plant.tip) {
        const acts = plant.tip.confidence >= data.threshold;
        mark(plant.tip, acts ? "act" : "unsure",
             "plant " + plant.plant + " tip, confidence " + plant.tip.confidence.toFixed(2));
      }
    });
    box.dataset.ready = "true";
  });

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
