/* Ledger import progress: polls the job's status.json and moves the progress bar; reloads
   the page when the job is finished so the result (or the list of errors) is shown.
   Plain JavaScript, no libraries. The texts come translated from the server. */
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box || box.getAttribute("data-finished") === "1") {
    return;
  }
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("[data-role=bar]");
  var state = box.querySelector("[data-role=state]");
  var processed = box.querySelector("[data-role=processed]");
  var total = box.querySelector("[data-role=total]");
  var delay = 1000;
  var failures = 0;

  function show(status) {
    if (state) { state.textContent = status.state_label; }
    if (processed) { processed.textContent = status.processed_rows; }
    if (total) { total.textContent = status.total_rows; }
    if (bar) {
      if (status.state === "importing" || (status.state === "validating" && !status.total_rows)) {
        bar.removeAttribute("value");  /* indeterminate: the write is one transaction */
      } else {
        bar.value = status.progress;
      }
      bar.textContent = status.progress + "%";
    }
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) { return retry(); }
      var status;
      try { status = JSON.parse(request.responseText); } catch (e) { return retry(); }
      failures = 0;
      show(status);
      if (status.finished) {
        window.location.reload();
        return;
      }
      delay = Math.min(delay + 500, 5000);
      window.setTimeout(poll, delay);
    };
    request.onerror = retry;
    request.send();
  }

  function retry() {
    failures += 1;
    if (failures < 20) { window.setTimeout(poll, 5000); }
  }

  window.setTimeout(poll, delay);
})();
