// Certificate page: "Copy link" and an in-browser check of a PDF's SHA-256 against the published one.
// Both are enhancements: without JavaScript the link sits in a read-only field and the page explains sha256sum.
(function () {
  "use strict";

  function copyLink(button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.querySelector(".certificate-copy-status");
    if (!input) { return; }
    function done(message) { if (status) { status.textContent = message; } }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(
        function () { done("Link copied."); },
        function () { input.select(); done("Press Ctrl+C (or Cmd+C) to copy the selected link."); }
      );
    } else {
      input.select();
      done("Press Ctrl+C (or Cmd+C) to copy the selected link.");
    }
  }

  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copyLink(button); });
  });

  var check = document.querySelector(".certificate-check");
  if (check && window.crypto && window.crypto.subtle && window.FileReader) {
    var expected = check.getAttribute("data-expected-sha256");
    var input = check.querySelector("input[type=file]");
    var result = check.querySelector(".certificate-check__result");
    check.hidden = false;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) { return; }
      result.textContent = "Checking…";
      file.arrayBuffer().then(function (buffer) {
        return window.crypto.subtle.digest("SHA-256", buffer);
      }).then(function (digest) {
        var hex = Array.prototype.map.call(new Uint8Array(digest), function (byte) {
          return byte.toString(16).padStart(2, "0");
        }).join("");
        var earlier = check.querySelector('[data-sha256="' + hex + '"]');
        if (hex === expected) {
          result.textContent = "Match: this file is the certificate as issued.";
          result.className = "certificate-check__result certificate-check__result--ok";
        } else if (earlier) {
          result.textContent = "Earlier version: this file is genuine but was superseded on " +
            earlier.getAttribute("data-superseded") + " (name corrected). The current version is the one above.";
          result.className = "certificate-check__result certificate-check__result--old";
        } else {
          result.textContent = "No match: this file differs from the certificate as issued (SHA-256 " + hex + ").";
          result.className = "certificate-check__result certificate-check__result--bad";
        }
      }, function () {
        result.textContent = "This browser could not read the file.";
      });
    });
  }
})();
