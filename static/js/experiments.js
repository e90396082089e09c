// Live experiment panels on lesson pages (templates/experiments/panel.html).
// Without this file a panel still shows its latest result as a data table and its form still posts; with it,
// the result is drawn as a chart (plotly.js from our own static files, loaded only when a chart is due), the
// Run button posts JSON and the run is followed to its end without a page reload.
// No inline script anywhere: the Content-Security-Policy forbids it; figures come from json_script blocks.
(function () {
  "use strict";

  var POLL_MS = { queued: 2000, running: 1000, hidden: 5000, maxBackoff: 15000 };
  var plotlyPromise = null;

  function loadPlotly(src) {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyPromise) {
      plotlyPromise = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.async = true;
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { plotlyPromise = null; reject(new Error("plotly.js could not be loaded")); };
        document.head.appendChild(script);
      });
    }
    return plotlyPromise;
  }

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|;\\s*)" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return cookie("csrftoken") || (input ? input.value : "");
  }

  // Same as the experiment_cell template filter: floats to 4 significant digits, lists comma-separated.
  function formatCell(value) {
    if (value === null || value === undefined) return "—";
    if (typeof value === "boolean") return value ? "yes" : "no";
    if (Array.isArray(value)) return value.map(formatCell).join(", ");
    if (typeof value === "number") {
      if (!isFinite(value)) return "—";
      if (Number.isInteger(value)) return String(value);
      return String(Number(value.toPrecision(4)));
    }
    return String(value);
  }

  // Phones: smaller type and margins, a little more height for the legend, so the plot keeps its room.
  function narrowLayout(layout) {
    layout.margin = Object.assign({}, layout.margin || {}, { l: 48, r: 8 });
    layout.font = Object.assign({ size: 10 }, layout.font || {});
    layout.title = Object.assign({}, typeof layout.title === "string" ? { text: layout.title } : layout.title || {},
      { font: { size: 12 } });
    layout.legend = Object.assign({}, layout.legend || {}, { font: { size: 10 } });
    if (layout.height) layout.height = Math.round(layout.height * 1.15);
  }

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function Panel(root) {
    this.root = root;
    this.name = root.getAttribute("data-experiment");
    this.plotlySrc = root.getAttribute("data-plotly-src");
    this.chart = root.querySelector("[data-role=chart]");
    this.data = root.querySelector("[data-role=data]");
    this.table = root.querySelector("[data-role=table]");
    this.meta = root.querySelector("[data-role=meta]");
    this.notesBox = root.querySelector("[data-role=notes-box]");
    this.notes = root.querySelector("[data-role=notes]");
    this.progressBox = root.querySelector("[data-role=progress-box]");
    this.progress = root.querySelector("[data-role=progress]");
    this.status = root.querySelector("[data-role=status]");
    this.form = root.querySelector("[data-role=form]");
    this.button = root.querySelector("[data-role=run-button]");
    this.formError = root.querySelector("[data-role=form-error]");
    this.etag = null;
    this.pollTimer = null;
    this.failures = 0;
    this.lastAnnounced = "";
    var figureId = root.id + "-figure";
    var figureScript = document.getElementById(figureId);
    this.figure = figureScript ? JSON.parse(figureScript.textContent) : null;
    if (this.form) this.form.addEventListener("submit", this.onSubmit.bind(this));
    var active = root.getAttribute("data-active-run-url");
    if (active) this.follow(active);
  }

  Panel.prototype.drawWhenVisible = function () {
    var panel = this;
    if (!panel.figure) return;
    if (!("IntersectionObserver" in window)) { panel.draw(panel.figure); return; }
    var observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (entry) { return entry.isIntersecting; })) {
        observer.disconnect();
        panel.draw(panel.figure);
      }
    }, { rootMargin: "400px 0px" });
    observer.observe(panel.root);
  };

  Panel.prototype.draw = function (figure) {
    var panel = this;
    panel.figure = figure;
    return loadPlotly(panel.plotlySrc).then(function (Plotly) {
      panel.chart.hidden = false;
      var layout = Object.assign({}, figure.layout || {}, { autosize: true });
      delete layout.width;
      if (panel.chart.clientWidth < 560) narrowLayout(layout);
      return Plotly.react(panel.chart, figure.data || [], layout, {
        responsive: true, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"]
      });
    }).then(function () {
      // The chart is hidden from assistive technology (the data table is its accessible form), so nothing in it
      // may take keyboard focus either: plotly's toolbar stays a mouse convenience.
      panel.chart.querySelectorAll("a, button, input, [tabindex]").forEach(function (node) {
        node.setAttribute("tabindex", "-1");
      });
      // The chart now shows the numbers; the table stays one click away (and is what screen readers get).
      if (panel.data) panel.data.open = false;
    }).catch(function () {
      panel.chart.hidden = true;
      if (panel.data) panel.data.open = true;
    });
  };

  Panel.prototype.announce = function (text, isError) {
    // Only real changes reach the live region, so a screen reader is not flooded by every poll.
    if (text === this.lastAnnounced) return;
    this.lastAnnounced = text;
    this.status.textContent = text;
    this.status.classList.toggle("experiment-status--error", Boolean(isError));
  };

  Panel.prototype.setBusy = function (busy) {
    if (this.button) this.button.disabled = busy;
    if (this.progressBox) this.progressBox.hidden = !busy;
  };

  Panel.prototype.clearErrors = function () {
    this.root.querySelectorAll("[data-role=error]").forEach(function (node) { node.hidden = true; node.textContent = ""; });
    this.root.querySelectorAll(".field--error").forEach(function (node) { node.classList.remove("field--error"); });
    this.root.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
    if (this.formError) { this.formError.hidden = true; this.formError.textContent = ""; }
  };

  Panel.prototype.showErrors = function (errors, message) {
    var panel = this;
    var firstInvalid = null;
    var unplaced = [];
    Object.keys(errors || {}).forEach(function (name) {
      var field = panel.form.querySelector('[data-field="' + name + '"]');
      if (!field) {
        // A refusal for the whole run (too much memory) is already the headline: do not repeat it.
        if (!(message && message.indexOf(errors[name]) !== -1)) unplaced.push(name + ": " + errors[name]);
        return;
      }
      field.classList.add("field--error");
      var error = field.querySelector("[data-role=error]");
      error.textContent = errors[name];
      error.hidden = false;
      var input = field.querySelector("input, select");
      if (input) {
        input.setAttribute("aria-invalid", "true");
        firstInvalid = firstInvalid || input;
      }
    });
    if (firstInvalid) {
      var params = panel.root.querySelector("[data-role=params]");
      if (params) params.open = true;
      firstInvalid.focus();
    }
    var text = [message].concat(unplaced).filter(Boolean).join(" ");
    if (text && panel.formError) { panel.formError.textContent = text; panel.formError.hidden = false; }
  };

  Panel.prototype.collectParams = function () {
    var params = {};
    this.form.querySelectorAll("[data-field]").forEach(function (field) {
      var name = field.getAttribute("data-field");
      var input = field.querySelector("input, select");
      if (!input) return;
      if (input.type === "checkbox") params[name] = input.checked;
      else if (input.getAttribute("data-type") === "int" || input.getAttribute("data-type") === "float") {
        // An empty or malformed number goes to the server as typed, so its message names the problem.
        params[name] = input.value !== "" && isFinite(Number(input.value)) ? Number(input.value) : input.value;
      } else params[name] = input.value;
    });
    return params;
  };

  Panel.prototype.onSubmit = function (event) {
    event.preventDefault();
    var panel = this;
    panel.clearErrors();
    panel.setBusy(true);
    panel.progress.value = 0;
    panel.announce("Sending your run to the server…");
    fetch(panel.form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken(panel.form) },
      body: JSON.stringify({ experiment: panel.name, params: panel.collectParams() })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        panel.onSubmitted(response.status, body);
      });
    }).catch(function () {
      panel.setBusy(false);
      panel.announce("The server could not be reached. Check your connection and try again.", true);
    });
  };

  Panel.prototype.onSubmitted = function (status, body) {
    if (status === 202 || status === 200) {
      if (body.reused) this.announce(body.status === "succeeded"
        ? "These parameters were measured on this server recently; showing that run (#" + body.id + ")."
        : "An identical run (#" + body.id + ") is already in progress; following it.");
      else this.announce("Run #" + body.id + " is queued.");
      this.follow(body.url);
      return;
    }
    this.setBusy(false);
    if (status === 400) {
      this.showErrors(body.errors, body.error || "The run was not started: please check the parameters.");
      this.announce("The run was not started: please check the parameters.", true);
    } else if (status === 401) {
      this.announce(body.error || "Sign in to run experiments on this server.", true);
    } else if (status === 403) {
      this.announce("Your session has expired or this page is out of date. Reload the page and try again.", true);
    } else if (status === 429 && body.run && body.run.experiment === this.name && body.run.status !== "succeeded") {
      this.announce(body.error, true);
      this.follow(body.run.url);
    } else {
      this.announce(body.error || "The run could not be started (HTTP " + status + "). Please try again later.", true);
    }
  };

  Panel.prototype.follow = function (url) {
    this.runUrl = url;
    this.etag = null;
    this.failures = 0;
    this.setBusy(true);
    this.poll();
  };

  Panel.prototype.schedule = function (ms) {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(this.poll.bind(this), document.hidden ? Math.max(ms, POLL_MS.hidden) : ms);
  };

  Panel.prototype.poll = function () {
    var panel = this;
    var headers = { "Accept": "application/json" };
    if (panel.etag) headers["If-None-Match"] = panel.etag;
    fetch(panel.runUrl, { credentials: "same-origin", cache: "no-store", headers: headers }).then(function (response) {
      if (response.status === 304) { panel.failures = 0; panel.schedule(panel.lastInterval || POLL_MS.running); return null; }
      if (!response.ok) throw new Error("HTTP " + response.status);
      panel.etag = response.headers.get("ETag");
      return response.json();
    }).then(function (run) {
      if (!run) return;
      panel.failures = 0;
      panel.update(run);
    }).catch(function () {
      panel.failures += 1;
      panel.announce("Lost contact with the server; retrying…", true);
      panel.schedule(Math.min(POLL_MS.maxBackoff, 1000 * Math.pow(2, panel.failures)));
    });
  };

  Panel.prototype.update = function (run) {
    var percent = Math.round((run.progress || 0) * 100);
    this.progress.value = percent;
    this.progress.textContent = percent + "%";
    if (run.status === "queued") {
      this.announce("Run #" + run.id + " is queued" + (run.queue_position ? " (position " + run.queue_position + ")" : "") +
        ": waiting for the experiment worker.");
      this.lastInterval = POLL_MS.queued;
      this.schedule(POLL_MS.queued);
    } else if (run.status === "running") {
      // Announce in steps of 10% so a screen reader hears progress without hearing every poll.
      this.announce("Run #" + run.id + " is running: " + Math.floor(percent / 10) * 10 + "% done" +
        (run.progress_message ? " (" + run.progress_message + ")" : "") + ".");
      this.lastInterval = POLL_MS.running;
      this.schedule(POLL_MS.running);
    } else if (run.status === "succeeded") {
      this.setBusy(false);
      this.showResult(run);
      this.announce("Run #" + run.id + " finished" + (run.duration_s ? " in " + run.duration_s.toFixed(1) + " s" : "") +
        ". The chart and the data table now show its result.");
    } else {
      this.setBusy(false);
      this.announce("Run #" + run.id + " failed: " + (run.error || "no reason was given."), true);
    }
  };

  Panel.prototype.showResult = function (run) {
    var result = run.result || {};
    var env = run.environment || {};
    this.meta.textContent = "";
    this.meta.appendChild(document.createTextNode("Latest run (#" + run.id + ") measured on "));
    this.meta.appendChild(el("strong", env.device_name || env.device || run.device_class));
    var details = [env.device || run.device_class];
    if (env.torch) details.push("PyTorch " + env.torch);
    if (env.num_threads) details.push(env.num_threads + (env.num_threads === 1 ? " thread" : " threads"));
    var time = el("time", "just now");
    time.setAttribute("datetime", run.finished_at || "");
    this.meta.appendChild(document.createTextNode(" (" + details.join(", ") + ") · "));
    this.meta.appendChild(time);
    if (run.duration_s) this.meta.appendChild(document.createTextNode(" · took " + run.duration_s.toFixed(1) + " s"));

    this.renderTable(run.id, result.table);
    this.renderNotes(result.notes || []);
    if (run.figure) this.draw(run.figure);
  };

  Panel.prototype.renderTable = function (runId, table) {
    if (!this.table || !table || !table.columns) return;
    this.table.textContent = "";
    var caption = el("caption", "Measured values of run #" + runId);
    caption.className = "visually-hidden";
    this.table.appendChild(caption);
    var head = el("thead");
    var headRow = el("tr");
    table.columns.forEach(function (column) {
      var th = el("th", column);
      th.setAttribute("scope", "col");
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    var body = el("tbody");
    (table.rows || []).forEach(function (row) {
      var tr = el("tr");
      row.forEach(function (cell) { tr.appendChild(el("td", formatCell(cell))); });
      body.appendChild(tr);
    });
    this.table.appendChild(head);
    this.table.appendChild(body);
    this.data.hidden = false;
    var summary = this.data.querySelector("summary");
    if (summary) summary.textContent = "Data table of run #" + runId + " (the numbers behind the chart)";
  };

  Panel.prototype.renderNotes = function (notes) {
    if (!this.notes) return;
    this.notes.textContent = "";
    notes.forEach(function (note) { this.notes.appendChild(el("li", note)); }, this);
    this.notesBox.hidden = notes.length === 0;
  };

  document.querySelectorAll(".experiment-panel[data-experiment]").forEach(function (root) {
    new Panel(root).drawWhenVisible();
  });
})();
