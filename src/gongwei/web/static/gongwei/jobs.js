/* A job's progress page: ask the server for the job's state every second until it has finished.
   A static file (no inline script: the Content-Security-Policy forbids it); works without htmx. */
(function () {
  "use strict";
  var box = document.querySelector("[data-job-status]");
  if (!box) { return; }
  var url = box.getAttribute("data-job-status");

  function field(name) { return box.querySelector("[data-field=" + name + "]"); }

  function show(s) {
    var bar = box.querySelector(".jobbar");
    bar.setAttribute("aria-valuenow", s.progress);
    bar.firstElementChild.style.width = s.progress + "%";
    field("percent").textContent = s.progress + " %";
    field("status_text").textContent = s.status_text;
    field("status_text").className = "jobstate " + s.status;
    field("step").textContent = s.step;
    field("duration").textContent = s.duration || "—";
    field("started").textContent = s.started || "—";
    field("summary").textContent = s.summary || "—";
    field("error").textContent = s.error;
    field("download").hidden = !s.download;
    box.setAttribute("data-state", s.status);
    box.setAttribute("data-finished", s.finished ? "true" : "false");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (s) { show(s); if (!s.finished) { window.setTimeout(poll, 1000); } })
      .catch(function () { window.setTimeout(poll, 3000); });
  }

  if (box.getAttribute("data-finished") !== "true") { window.setTimeout(poll, 1000); }
})();
