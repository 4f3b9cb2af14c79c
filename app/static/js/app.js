/* MD Analytics page behaviour: open the tab named in the URL, and poll sync progress. */
(function () {
  "use strict";

  function openTabFromHash() {
    var hash = window.location.hash;
    if (!hash || !window.bootstrap) return;
    // compared as text, never put into a selector: the address bar is anyone's to write
    var buttons = document.querySelectorAll('[data-bs-toggle="tab"]');
    for (var i = 0; i < buttons.length; i++) {
      if (buttons[i].getAttribute("data-bs-target") === hash) {
        window.bootstrap.Tab.getOrCreateInstance(buttons[i]).show();
        return;
      }
    }
  }

  function rememberTab() {
    document.querySelectorAll('#network-tabs [data-bs-toggle="tab"]').forEach(function (button) {
      button.addEventListener("shown.bs.tab", function () {
        history.replaceState(null, "", button.getAttribute("data-bs-target"));
      });
    });
  }

  function describe(run) {
    if (run.paused_until) {
      var until = new Date(run.paused_until);
      return "Rate limited: paused until " + until.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    return "";
  }

  function poll(box) {
    var url = box.getAttribute("data-status-url");
    var timer = window.setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body || !body.run) return;
          var run = body.run;
          if (!run.active) {
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
          var stage = box.querySelector(".sync-stage");
          var count = box.querySelector(".sync-count");
          var paused = box.querySelector(".sync-paused");
          var bar = box.querySelector(".progress-bar");
          var meter = box.querySelector(".progress");
          if (stage) stage.textContent = (run.stage || run.status).replace(/^./, function (c) { return c.toUpperCase(); });
          if (count) count.textContent = run.total ? run.done + " / " + run.total : (run.done ? String(run.done) : "");
          if (paused) paused.textContent = describe(run);
          if (bar) {
            var percent = run.percent === null ? 5 : run.percent;
            bar.style.width = percent + "%";
            bar.textContent = run.percent === null ? "" : run.percent + "%";
          }
          if (meter) meter.setAttribute("aria-valuenow", String(run.percent || 0));
        })
        .catch(function () { /* a missed poll is retried on the next tick */ });
    }, 1500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    openTabFromHash();
    rememberTab();
    document.querySelectorAll('.sync-status[data-active="true"]').forEach(poll);
  });
})();
