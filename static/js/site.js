// Small enhancements; every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // Check the chosen files before they are sent: a letter with a 100 MB video would
  // otherwise travel for minutes only to be refused. The server checks again.
  document.querySelectorAll("input[type=file][data-max-files]").forEach(function (input) {
    var message = document.getElementById(input.id + "-check");
    function problem() {
      var files = Array.prototype.slice.call(input.files || []);
      var total = 0;
      if (files.length > Number(input.dataset.maxFiles)) { return input.dataset.tooMany; }
      for (var i = 0; i < files.length; i++) {
        total += files[i].size;
        if (files[i].size > Number(input.dataset.maxBytes)) {
          return input.dataset.tooBig.replace("{name}", files[i].name);
        }
      }
      return total > Number(input.dataset.totalBytes) ? input.dataset.tooMuch : "";
    }
    function show() {
      var text = problem();
      message.textContent = text;
      message.hidden = !text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
      return text;
    }
    input.addEventListener("change", show);
    input.form.addEventListener("submit", function (event) {
      if (show()) { event.preventDefault(); input.focus(); }
    });
  });
  // After a failed submission, move focus to the error summary so screen readers read it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
