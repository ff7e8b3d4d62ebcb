// The report page's copy button; without this file the sentence is still there to select.
(function () {
  "use strict";
  var button = document.getElementById("copy-summary");
  var source = document.getElementById("summary");
  var status = document.getElementById("copy-status");
  if (!button || !source || !status) { return; }

  function report(copied) {
    status.textContent = copied ? button.getAttribute("data-done") : button.getAttribute("data-failed");
  }

  function copyBySelection() {
    source.focus();
    source.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    report(copied);
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = "";
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.value).then(function () { report(true); }, copyBySelection);
    } else {
      copyBySelection();
    }
  });
})();
