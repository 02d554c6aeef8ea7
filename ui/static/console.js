// Latchkey web console: copy buttons. The pages work without this script; it only shows
// the buttons that copy a key value, which can otherwise be selected and copied by hand.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.getElementById(button.getAttribute("data-copy").replace("-value", "-status"));
    if (!input) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        button.textContent = "Copied";
        if (status) {
          status.textContent = "The key is on your clipboard.";
        }
      };
      var fallback = function () {
        input.focus();
        input.select();
        if (document.execCommand && document.execCommand("copy")) {
          done();
        } else if (status) {
          status.textContent = "Press Ctrl+C (or ⌘C) to copy the selected key.";
        }
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
});
