// Site-wide conveniences: the dark/light toggle (remembered in localStorage; without a choice the system
// setting decides, through CSS alone), and the lesson reading-progress bar. Everything works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function effectiveTheme() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "dark" || chosen === "light") return chosen;
    return media && media.matches ? "dark" : "light";
  }

  function announce() {
    var theme = effectiveTheme();
    document.querySelectorAll(".theme-toggle").forEach(function (button) {
      button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    });
    document.dispatchEvent(new CustomEvent("themechange", { detail: { theme: theme } }));
  }

  document.querySelectorAll(".theme-toggle").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = effectiveTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-theme", next);
      try { window.localStorage.setItem("theme", next); } catch (e) { /* private mode: this page only */ }
      announce();
    });
  });
  if (media) {
    var onSystemChange = function () { if (!root.hasAttribute("data-theme")) announce(); };
    if (media.addEventListener) media.addEventListener("change", onSystemChange);
    else if (media.addListener) media.addListener(onSystemChange);
  }
  announce();

  // Reading progress: how far through the lesson text the reader is (the bar is decorative; the
  // contents button and headings carry the same information for assistive technology).
  var bar = document.querySelector(".reading-progress__bar");
  var article = document.querySelector(".lesson");
  var backToTop = document.querySelector(".back-to-top");
  if (!bar && !backToTop) return;
  var scheduled = false;
  function update() {
    scheduled = false;
    var top = 0;
    var span = 1;
    if (article) {
      var box = article.getBoundingClientRect();
      top = -box.top;
      span = Math.max(1, box.height - window.innerHeight);
    }
    var share = Math.min(1, Math.max(0, top / span));
    if (bar) bar.style.transform = "scaleX(" + share.toFixed(4) + ")";
    if (backToTop) backToTop.hidden = window.scrollY < window.innerHeight * 1.5;
  }
  window.addEventListener("scroll", function () {
    if (!scheduled) { scheduled = true; window.requestAnimationFrame(update); }
  }, { passive: true });
  window.addEventListener("resize", update);
  update();
})();
