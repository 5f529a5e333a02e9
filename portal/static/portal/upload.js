/* Upload: drop files on the zone (or choose them); files over the size limit or not images are
   named before anything is sent, and the server checks the same again. */
(function () {
  "use strict";
  const form = document.getElementById("upload-form");
  const input = document.getElementById("images");
  const zone = document.getElementById("drop");
  const said = document.getElementById("chosen");
  const limit = Number(form.dataset.limit);
  const TYPES = /\.(png|jpe?g|tiff?|bmp)$/i;

  function problems(files) {
    const out = [];
    for (const file of files) {
      if (!TYPES.test(file.name)) out.push(file.name + " is not a plate image (PNG, JPEG, TIFF or BMP)");
      else if (file.size > limit) out.push(file.name + " is larger than the limit of " + form.dataset.limitShown);
    }
    return out;
  }

  function show() {
    const files = Array.from(input.files);
    const found = problems(files);
    said.textContent = found.length ? found.join("; ") : files.map((f) => f.name).join(", ");
    said.className = found.length ? "error" : "muted";
    return found.length === 0;
  }

  ["dragenter", "dragover"].forEach((type) => zone.addEventListener(type, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    input.files = event.dataTransfer.files;
    show();
  });
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  input.addEventListener("change", show);
  form.addEventListener("submit", (event) => {
    if (!show()) { event.preventDefault(); return; }
    document.getElementById("predict").textContent = "Predicting…";
  });
})();
