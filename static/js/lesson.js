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

  // The contents button (below the sidebar breakpoint) opens the outline over the page from anywhere;
  // choosing a section, Close, or Escape shuts it and gives focus back.
  var contentsButton = document.querySelector(".contents-button");
  var toc = document.getElementById("lesson-toc");
  if (contentsButton && toc) {
    var closeButton = toc.querySelector(".toc__close");
    var setOpen = function (open, returnFocus) {
      toc.classList.toggle("toc--open", open);
      contentsButton.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var current = toc.querySelector("a[aria-current]") || toc.querySelector("a");
        if (current) current.focus();
      } else if (returnFocus) {
        contentsButton.focus();
      }
    };
    contentsButton.hidden = false;
    toc.classList.add("toc--sheet");  // below the sidebar breakpoint the outline now waits behind the button
    contentsButton.addEventListener("click", function () { setOpen(!toc.classList.contains("toc--open"), false); });
    if (closeButton) closeButton.addEventListener("click", function () { setOpen(false, true); });
    toc.addEventListener("click", function (event) {
      if (event.target.closest("a")) setOpen(false, false);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toc.classList.contains("toc--open")) setOpen(false, true);
    });
  }

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
