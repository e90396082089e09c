// Quiz page conveniences. The quiz works the same without this file: grading and the one-result-per-attempt
// rule live on the server. This file never sees anything about which answers are right.
(function () {
  "use strict";

  var form = document.querySelector("form[data-quiz-form]");
  if (!form) return;
  var button = form.querySelector("button[type=submit]");
  var label = button ? button.textContent : "";

  // After a submission with unanswered questions, move focus to the list of what is missing.
  var errors = document.getElementById("quiz-errors");
  if (errors) errors.focus();

  // Spare a learner the confusing second click; disabled after the submit event so the form still posts.
  form.addEventListener("submit", function () {
    if (!button) return;
    window.setTimeout(function () {
      button.disabled = true;
      button.textContent = "Submitting…";
    }, 0);
  });

  // Coming back with the browser's Back button restores the page as it was: make the button usable again.
  window.addEventListener("pageshow", function () {
    if (!button) return;
    button.disabled = false;
    button.textContent = label;
  });
})();
