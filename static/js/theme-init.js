// Runs in <head>, before the stylesheet paints, so a reader who chose a theme never sees a flash of the other.
// An external file (not inline) because the Content-Security-Policy allows only our own scripts.
(function () {
  "use strict";
  try {
    var choice = window.localStorage.getItem("theme");
    if (choice === "dark" || choice === "light") document.documentElement.setAttribute("data-theme", choice);
  } catch (e) { /* storage blocked: follow the system setting */ }
})();
