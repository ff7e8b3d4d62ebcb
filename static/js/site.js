// Small enhancements; every page works without this file.
(function () {
  "use strict";
  document.querySelectorAll(".js-print").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // After a failed submission, move focus to the error summary so screen readers read it.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
