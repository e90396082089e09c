// Lesson page enhancements. Everything works without this file; it only adds conveniences.
(function () {
  "use strict";

  // Copy buttons on code blocks.
  document.querySelectorAll(".code-block").forEach(function (block) {
    var toolbar = block.querySelector(".code-toolbar");
    var code = block.querySelector("pre code");
    if (!toolbar || !code || !navigator.clipboard) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy code to clipboard");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.innerText).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      }, function () {
        button.textContent = "Copy failed";
      });
    });
    toolbar.appendChild(button);
  });

  // Highlight the table-of-contents entry of the section being read.
  var links = {};
  document.querySelectorAll(".toc a").forEach(function (a) { links[a.getAttribute("href").slice(1)] = a; });
  if (!("IntersectionObserver" in window)) return;
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) return;
      Object.values(links).forEach(function (a) { a.removeAttribute("aria-current"); });
      var link = links[entry.target.id];
      if (link) link.setAttribute("aria-current", "location");
    });
  }, { rootMargin: "0px 0px -70% 0px" });
  document.querySelectorAll(".prose h2[id], .prose h3[id]").forEach(function (h) { observer.observe(h); });
})();
