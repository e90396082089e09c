// Remembers which section of a lesson a signed-in reader is reading, so the course and home pages can offer
// "Continue". Loaded only on signed-in lesson pages; the page is shared by every signed-in reader, so all it needs
// is on this script's own tag (lesson slug, endpoint) and the CSRF token of the page's forms.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !("IntersectionObserver" in window)) return;
  var endpoint = script.dataset.endpoint;
  var lesson = script.dataset.lesson;
  var tokenInput = document.querySelector('input[name="csrfmiddlewaretoken"]');
  var headings = Array.prototype.slice.call(document.querySelectorAll(".prose h2[id], .prose h3[id]"));
  if (!endpoint || !lesson || !tokenInput || !headings.length) return;

  // Send at most once per interval while reading, and once more when the page is hidden or left.
  var MIN_INTERVAL_MS = 12000;
  var current = null;  // anchor of the section in view
  var sent = null;  // anchor last sent
  var lastSentAt = 0;
  var timer = null;

  function send() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!current || current === sent) return;
    var body = new URLSearchParams();
    body.set("csrfmiddlewaretoken", tokenInput.value);
    body.set("lesson", lesson);
    body.set("section", current);
    // sendBeacon survives the page being closed and cannot set headers: the token travels in the body.
    var queued = navigator.sendBeacon && navigator.sendBeacon(endpoint, body);
    if (!queued) {
      fetch(endpoint, { method: "POST", body: body, credentials: "same-origin", keepalive: true }).catch(function () {});
    }
    sent = current;
    lastSentAt = Date.now();
  }

  function schedule() {
    if (current === sent || timer) return;
    var wait = Math.max(0, lastSentAt + MIN_INTERVAL_MS - Date.now());
    timer = setTimeout(send, wait);
  }

  // The section being read is the last heading above a line 30 % down the viewport.
  function sectionInView() {
    var line = window.innerHeight * 0.3;
    var found = null;
    for (var i = 0; i < headings.length; i++) {
      if (headings[i].getBoundingClientRect().top <= line) found = headings[i].id;
      else break;
    }
    return found;
  }

  var observer = new IntersectionObserver(function () {
    var section = sectionInView();
    if (section && section !== current) {
      current = section;
      schedule();
    }
  }, { rootMargin: "0px 0px -70% 0px" });
  headings.forEach(function (h) { observer.observe(h); });

  // A jump (e.g. End key) can carry every heading past the line without one crossing it: look again on leaving.
  function leave() {
    current = sectionInView() || current;
    send();
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") leave();
  });
  window.addEventListener("pagehide", leave);
})();
