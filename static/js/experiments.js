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

  // ---- Chart layout: the browser half of experiments/bench/chart_layout.py, for every experiment's figure. ----
  // The server fixes what does not depend on the screen (legend below, decade ticks, hover units); here the figure
  // is fitted to the width it gets: subplots stack below NARROW_PX, side-by-side subplots get room for their axis
  // labels, long titles and legend entries wrap, and the top and bottom margins are measured from the drawn text.
  var NARROW_PX = 640;
  var FIT_PASSES = 4;
  var LEGEND_LIFT_PX = 12;  // the last legend row's text hangs a little below the legend's own box
  var TITLE_DROP_PX = 10;   // and the title's first line needs this much above it
  var measureContext = null;
  // Redrawn by this script on resize (a new layout, not a stretched one), hence not plotly's own "responsive".
  var PLOT_CONFIG = { responsive: false, displaylogo: false, modeBarButtonsToRemove: ["sendDataToCloud"] };

  function clone(value) { return JSON.parse(JSON.stringify(value)); }

  function plainText(html) { return String(html).replace(/<[^>]*>/g, ""); }

  function textWidth(text, size, family) {
    measureContext = measureContext || document.createElement("canvas").getContext("2d");
    measureContext.font = size + "px " + family;
    return measureContext.measureText(text).width;
  }

  function titleText(title) { return title && typeof title === "object" ? title.text || "" : title || ""; }

  function setTitleText(owner, text) {
    owner.title = Object.assign({}, typeof owner.title === "object" ? owner.title : {}, { text: text });
  }

  // Word-wraps a plotly text (lines split by <br>; a whole line may be <sup>…</sup>) to at most maxPx per line.
  function wrapText(text, maxPx, size, family) {
    if (!text || maxPx <= 0) return text;
    return String(text).split(/<br\s*\/?>/i).map(function (line) {
      var sup = /^\s*<sup>([\s\S]*)<\/sup>\s*$/i.exec(line);
      var inner = sup ? sup[1] : line;
      if (/</.test(inner)) return line;  // other markup: splitting it between words could break a tag
      var px = sup ? size * 0.7 : size;
      var lines = [];
      var current = "";
      inner.split(/\s+/).filter(Boolean).forEach(function (word) {
        var candidate = current ? current + " " + word : word;
        if (current && textWidth(candidate, px, family) > maxPx) { lines.push(current); current = word; }
        else current = candidate;
      });
      if (current) lines.push(current);
      return lines.map(function (part) { return sup ? "<sup>" + part + "</sup>" : part; }).join("<br>");
    }).join("<br>");
  }

  function axisKey(ref, letter) { return letter + "axis" + (ref ? String(ref).slice(1) : ""); }

  // The subplots that hold traces: their axes and their domains as drawn side by side.
  function subplotsOf(data, layout) {
    var seen = {};
    var cells = [];
    var categorical = {};  // axes that show names (bars of "MHA", "L1 H2"...), not a quantity
    data.forEach(function (trace) {
      var x = axisKey(trace.xaxis, "x");
      var y = axisKey(trace.yaxis, "y");
      if (trace.x && typeof trace.x[0] === "string") categorical[x] = true;
      if (trace.y && typeof trace.y[0] === "string") categorical[y] = true;
      if (seen[x + y]) return;
      layout[x] = layout[x] || {};
      layout[y] = layout[y] || {};
      if (layout[x].overlaying || layout[y].overlaying) return;
      seen[x + y] = true;
      cells.push({ x: x, y: y, xd: (layout[x].domain || [0, 1]).slice(), yd: (layout[y].domain || [0, 1]).slice() });
    });
    cells.forEach(function (cell) { cell.categorical = { x: !!categorical[cell.x], y: !!categorical[cell.y] }; });
    // make_subplots' titles: paper annotations centred just above a subplot.
    (layout.annotations || []).forEach(function (note) {
      if ((note.xref || "paper") !== "paper" || (note.yref || "paper") !== "paper") return;
      cells.forEach(function (cell) {
        if (!cell.title && Math.abs(note.x - (cell.xd[0] + cell.xd[1]) / 2) < 0.01 &&
            Math.abs(note.y - cell.yd[1]) < 0.03) cell.title = note;
      });
    });
    return cells;
  }

  function columnsOf(cells) {
    var starts = [];
    cells.forEach(function (cell) {
      var start = Math.round(cell.xd[0] * 1000);
      if (starts.indexOf(start) < 0) starts.push(start);
    });
    return starts.length;
  }

  // An axis without a title borrows the title of an axis in the same column (x) or row (y) of the original grid,
  // so that each stacked subplot says what it shows; only between axes of one kind of quantity (same scale), never
  // to or from an axis of names, which is untitled on purpose ("MHA, GQA, MQA" need no "key position" below).
  function borrowTitles(layout, cells, letter) {
    var domainOf = letter === "x" ? "xd" : "yd";
    function scale(cell) { return layout[cell[letter]].type || "linear"; }
    cells.forEach(function (cell) {
      var axis = layout[cell[letter]];
      if (titleText(axis.title) || cell.categorical[letter]) return;
      var donor = cells.filter(function (other) {
        return other[domainOf][0] === cell[domainOf][0] && titleText(layout[other[letter]].title) &&
          !other.categorical[letter] && scale(other) === scale(cell);
      })[0];
      if (donor) axis.title = clone(layout[donor[letter]].title);
    });
  }

  function lineCount(text) { return text ? String(text).split(/<br\s*\/?>/i).length : 0; }

  // One subplot below the other, full width. The gaps are first estimates (tick labels, x title, next subplot's
  // title); fitStackGaps widens any that the drawn text does not fit in.
  function stackSubplots(layout, cells, width, font) {
    // Column by column: the subplots of one column share their x axis and belong together (make_subplots).
    cells.sort(function (a, b) { return (a.xd[0] - b.xd[0]) || (b.yd[1] - a.yd[1]); });
    borrowTitles(layout, cells, "x");
    borrowTitles(layout, cells, "y");
    var tallest = Math.max.apply(null, cells.map(function (cell) { return cell.yd[1] - cell.yd[0]; }));
    var base = Math.max(200, Math.min(280, width * 0.65));
    var plotWidth = width - 90;
    var gaps = [];
    cells.forEach(function (cell, i) {
      var xAxis = layout[cell.x];
      var yAxis = layout[cell.y];
      xAxis.showticklabels = true;
      yAxis.showticklabels = true;
      xAxis.domain = [0, 1];
      setTitleText(xAxis, wrapText(titleText(xAxis.title), plotWidth, font.size, font.family));
      if (cell.title) cell.title.text = wrapText(cell.title.text, plotWidth, font.size + 1, font.family);
      cell.titleIndex = cell.title ? layout.annotations.indexOf(cell.title) : -1;
      cell.h = Math.max(130, base * (cell.yd[1] - cell.yd[0]) / tallest);
      setTitleText(yAxis, wrapText(titleText(yAxis.title), cell.h, font.size, font.family));
      var previous = i > 0 ? layout[cells[i - 1].x] : null;
      gaps.push(previous
        ? 36 + 18 * lineCount(titleText(previous.title)) + (cell.title ? 20 * lineCount(cell.title.text) : 0)
        : 0);
    });
    var stack = { cells: cells, gaps: gaps };
    var margin = layout.margin || {};
    layout.height = Math.round(applyStack(layout, stack) + (margin.t || 80) + (margin.b || 60));
    return stack;
  }

  // Sets the subplots' vertical domains (and their titles) from the stack's heights and gaps; returns its height.
  function applyStack(layout, stack) {
    var total = 0;
    var offsets = stack.cells.map(function (cell, i) {
      total += stack.gaps[i];
      var offset = total;
      total += cell.h;
      return offset;
    });
    stack.cells.forEach(function (cell, i) {
      var top = 1 - offsets[i] / total;
      layout[cell.y].domain = [Math.max(0, 1 - (offsets[i] + cell.h) / total), top];
      // Lifted clear of the subplot's own top y tick label, which plotly centres on the plot's top edge.
      if (cell.title) { cell.title.x = 0.5; cell.title.y = top; cell.title.yshift = 10; }
    });
    return total;
  }

  function shortName(axis) { return axis.replace("axis", ""); }

  // How many pixels each gap of a stack lacks: the previous subplot's tick labels and x title (turned sideways by
  // plotly when they crowd) against this subplot's title and plot area.
  function stackDeficits(gd, layout, stack) {
    var host = gd.getBoundingClientRect();
    var size = gd._fullLayout._size;
    return stack.cells.map(function (cell, i) {
      if (i === 0) return 0;
      var above = shortName(stack.cells[i - 1].x);
      var bottom = -Infinity;
      gd.querySelectorAll(".xaxislayer-above ." + above + "tick text, .g-" + above + "title text").forEach(function (n) {
        var box = relativeBox(n, host);
        if (!box.empty) bottom = Math.max(bottom, box.bottom);
      });
      var top = size.t + (1 - layout[cell.y].domain[1]) * size.h;
      var note = cell.titleIndex >= 0 ? gd.querySelector('g.annotation[data-index="' + cell.titleIndex + '"]') : null;
      if (note) top = Math.min(top, relativeBox(note, host).top);
      return bottom === -Infinity ? 0 : Math.max(0, Math.ceil(bottom + 6 - top));
    });
  }

  function fitStackGaps(Plotly, gd, fitted, pass) {
    var stack = fitted.stack;
    if (!stack || !gd._fullLayout || pass >= FIT_PASSES) return Promise.resolve();
    var deficits = stackDeficits(gd, fitted.layout, stack);
    if (!deficits.some(function (d) { return d > 0; })) return Promise.resolve();
    deficits.forEach(function (d, i) { stack.gaps[i] += d; });
    var size = gd._fullLayout._size;
    fitted.plotHeight = applyStack(fitted.layout, stack);
    fitted.layout.height = Math.round(size.t + size.b + fitted.plotHeight);
    fitted.layout.margin = Object.assign({}, fitted.layout.margin, { t: size.t, b: size.b });
    placeColorbars(fitted.data, fitted.layout);
    // react compares against what it drew last: hand it fresh objects so that every change is seen.
    return Plotly.react(gd, clone(fitted.data), clone(fitted.layout), PLOT_CONFIG).then(function () {
      return fitStackGaps(Plotly, gd, fitted, pass + 1);
    });
  }

  // Side by side: each later column needs room on its left for its own y tick labels and title.
  function spaceColumns(layout, cells, width, font, barred) {
    var columns = [];
    cells.forEach(function (cell) {
      var column = columns.filter(function (c) { return c.xd[0] === cell.xd[0]; })[0];
      if (!column) { column = { xd: cell.xd.slice(), cells: [] }; columns.push(column); }
      column.cells.push(cell);
    });
    columns.sort(function (a, b) { return a.xd[0] - b.xd[0]; });
    var plotWidth = Math.max(200, width - 90);
    function hasBar(column) {
      return column.cells.some(function (cell) { return barred.indexOf(cell.x) >= 0; });
    }
    var grid = {
      columns: columns,
      widths: columns.map(function (column) { return column.xd[1] - column.xd[0]; }),
      needs: columns.map(function (column, j) {  // pixels left of each column for its y labels (estimates)
        if (j === 0) return 0;
        var bar = hasBar(columns[j - 1]) ? COLORBAR_PX : 0;
        var labelled = column.cells.some(function (cell) { return layout[cell.y].showticklabels !== false; });
        var titled = column.cells.some(function (cell) { return titleText(layout[cell.y].title); });
        return 24 + bar + (labelled ? 52 : 0) + (titled ? 22 : 0);
      })
    };
    var roomy = columns.every(function (column, j) {
      return !j || (column.xd[0] - columns[j - 1].xd[1]) * plotWidth >= grid.needs[j];
    });
    applyColumns(layout, grid, plotWidth, font, roomy);
    return grid;
  }

  // Sets each column's x domain (unless keepDomains: the figure's own leave room enough) and fits its titles to it.
  function applyColumns(layout, grid, plotWidth, font, keepDomains) {
    var columns = grid.columns;
    if (!keepDomains) {
      var needed = grid.needs.reduce(function (a, b) { return a + b; }, 0) / plotWidth;
      var scale = (1 - needed) / grid.widths.reduce(function (a, b) { return a + b; }, 0);
      var start = 0;
      columns.forEach(function (column, j) {
        start += grid.needs[j] / plotWidth;
        column.xd = [start, start + grid.widths[j] * scale];
        start = column.xd[1];
      });
    }
    columns.forEach(function (column) {
      var share = (column.xd[1] - column.xd[0]) * plotWidth;
      column.cells.forEach(function (cell) {
        layout[cell.x].domain = column.xd.slice();
        setTitleText(layout[cell.x], wrapText(titleText(layout[cell.x].title), share, font.size, font.family));
        if (cell.title) {
          cell.title.x = (column.xd[0] + column.xd[1]) / 2;
          cell.title.text = wrapText(cell.title.text, share, font.size + 1, font.family);
        }
      });
    });
  }

  // Pixels each column of a side-by-side grid lacks on its left: its y tick labels and title against the previous
  // column's plot area and colour bar (labels can be far wider than the estimate: long category names).
  function columnDeficits(gd, fitted) {
    var host = gd.getBoundingClientRect();
    var size = gd._fullLayout._size;
    var full = gd._fullData || [];
    var columns = fitted.grid.columns;
    return columns.map(function (column, j) {
      if (j === 0) return 0;
      var previous = columns[j - 1];
      var right = size.l + previous.xd[1] * size.w;
      fitted.data.forEach(function (trace, i) {
        var inPrevious = previous.cells.some(function (cell) { return cell.x === axisKey(trace.xaxis, "x"); });
        var bar = inPrevious && colorbarOwner(trace) && full[i] ? gd.querySelector(".cb" + full[i].uid) : null;
        if (bar) right = Math.max(right, bar.getBoundingClientRect().right - host.left);
      });
      var left = Infinity;
      column.cells.forEach(function (cell) {
        var y = shortName(cell.y);
        gd.querySelectorAll(".yaxislayer-above ." + y + "tick text, .g-" + y + "title text").forEach(function (n) {
          var box = n.getBoundingClientRect();
          if (box.width) left = Math.min(left, box.left - host.left);
        });
      });
      return left === Infinity ? 0 : Math.max(0, Math.ceil(right + 8 - left));
    });
  }

  function fitColumnGaps(Plotly, gd, fitted, pass) {
    if (!fitted.grid || fitted.grid.columns.length < 2 || !gd._fullLayout || pass >= FIT_PASSES) {
      return Promise.resolve();
    }
    var deficits = columnDeficits(gd, fitted);
    if (!deficits.some(function (d) { return d > 0; })) return Promise.resolve();
    deficits.forEach(function (d, j) { fitted.grid.needs[j] += d; });
    var size = gd._fullLayout._size;
    applyColumns(fitted.layout, fitted.grid, size.w, fitted.font, false);
    fitted.layout.margin = Object.assign({}, fitted.layout.margin, { t: size.t, b: size.b });
    fitted.layout.height = Math.round(size.t + size.b + fitted.plotHeight);
    placeColorbars(fitted.data, fitted.layout);
    return Plotly.react(gd, clone(fitted.data), clone(fitted.layout), PLOT_CONFIG).then(function () {
      return fitColumnGaps(Plotly, gd, fitted, pass + 1);
    });
  }

  var COLORBAR_PX = 76;  // a colour bar with its tick labels and its title turned sideways
  var SCALE_TYPES = ["heatmap", "contour", "histogram2d", "histogram2dcontour"];

  // The colour-bar settings of a trace that draws one (heatmaps, or markers with showscale), else null.
  function colorbarOwner(trace) {
    if (trace.coloraxis) return null;
    if (SCALE_TYPES.indexOf(trace.type) >= 0 && trace.showscale !== false) return trace;
    if (trace.marker && trace.marker.showscale) return trace.marker;
    return null;
  }

  // Plotly puts every colour bar at the right edge of the figure at full height: with more than one subplot they
  // would sit on each other. Each goes beside its own subplot instead, its title turned along the bar.
  function placeColorbars(data, layout) {
    data.forEach(function (trace) {
      var owner = colorbarOwner(trace);
      if (!owner) return;
      var x = axisKey(trace.xaxis, "x");
      var y = axisKey(trace.yaxis, "y");
      var xd = layout[x].domain || [0, 1];
      var yd = layout[y].domain || [0, 1];
      var bar = owner.colorbar = Object.assign({}, owner.colorbar);
      bar.title = Object.assign({}, typeof bar.title === "object" ? bar.title : { text: bar.title || "" },
        { side: "right" });
      Object.assign(bar, { x: xd[1], xref: "paper", xanchor: "left", xpad: 6, y: (yd[0] + yd[1]) / 2,
        yref: "paper", yanchor: "middle", len: yd[1] - yd[0], lenmode: "fraction", thickness: 12 });
    });
  }

  // Charts take their colours from the page (site.css custom properties), so they follow light and dark mode:
  // transparent backgrounds, text in the ink colour, grid and axis lines in the line colour.
  function cssColor(name, fallback) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  // "#333", "#444444", "rgb(85, 85, 85)" -> [r, g, b] in 0..1, or null for anything else.
  function rgbOf(colour) {
    var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour.trim());
    if (hex) {
      var digits = hex[1].length === 3 ? hex[1].replace(/(.)/g, "$1$1") : hex[1];
      return [0, 2, 4].map(function (i) { return parseInt(digits.slice(i, i + 2), 16) / 255; });
    }
    var rgb = /^rgba?\(([^)]+)\)$/i.exec(colour.trim());
    if (rgb) return rgb[1].split(",").slice(0, 3).map(function (part) { return parseFloat(part) / 255; });
    if (colour.trim().toLowerCase() === "black") return [0, 0, 0];
    return null;
  }

  function luminance(colour) {
    var rgb = rgbOf(colour);
    return rgb ? 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] : 1;
  }

  function isGrey(colour) {
    var rgb = rgbOf(colour);
    return !!rgb && Math.max.apply(null, rgb) - Math.min.apply(null, rgb) < 0.08;
  }

  function applyTheme(layout, data) {
    var ink = cssColor("--ink", "#1c1b29");
    var muted = cssColor("--ink-soft", "#4a4860");
    var line = cssColor("--line", "#e3e2ee");
    layout.paper_bgcolor = "rgba(0,0,0,0)";
    layout.plot_bgcolor = "rgba(0,0,0,0)";
    layout.font = Object.assign({}, layout.font || {}, { color: ink });
    layout.legend = Object.assign({}, layout.legend, { bgcolor: "rgba(0,0,0,0)" });
    layout.hoverlabel = Object.assign({ bgcolor: cssColor("--paper", "#fff"), bordercolor: line,
      font: { color: ink } }, layout.hoverlabel || {});
    if (layout.title && typeof layout.title === "object" && layout.title.font) delete layout.title.font.color;
    Object.keys(layout).forEach(function (key) {
      if (!/^[xy]axis\d*$/.test(key)) return;
      var axis = layout[key] = Object.assign({}, layout[key]);
      axis.gridcolor = line;
      axis.linecolor = line;
      axis.zerolinecolor = line;
      if (axis.title && typeof axis.title === "object" && axis.title.font) delete axis.title.font.color;
      if (axis.tickfont) delete axis.tickfont.color;
    });
    // Notes written in a fixed grey (readable only on white) take the page's secondary text colour.
    (layout.annotations || []).forEach(function (note) {
      if (note.font && note.font.color) note.font = Object.assign({}, note.font, { color: muted });
    });
    // Greys and blacks drawn for white paper (claims, reference lines) would vanish on a dark page: they take the
    // page's secondary text colour instead. Brighter colours (the series' hues) are kept as they are.
    var darkPage = luminance(cssColor("--paper", "#ffffff")) < 0.3;
    function recolour(owner) {
      if (darkPage && owner && typeof owner.color === "string" && luminance(owner.color) < 0.4 && isGrey(owner.color)) {
        owner.color = muted;
      }
    }
    data.forEach(function (trace) {
      recolour(trace.line);
      recolour(trace.marker);
    });
    (layout.shapes || []).forEach(function (shape) { recolour(shape.line); });
    data.forEach(function (trace) {
      if (trace.colorbar) {
        trace.colorbar = Object.assign({}, trace.colorbar, { outlinecolor: line });
        if (trace.colorbar.tickfont) delete trace.colorbar.tickfont.color;
      }
    });
  }

  function chartLayout(figure, width) {
    var layout = clone(figure.layout || {});
    var data = clone(figure.data || []);
    applyTheme(layout, data);
    var narrow = width < NARROW_PX;
    layout.font = Object.assign({ family: "sans-serif", size: 12 }, layout.font || {});
    if (narrow) layout.font.size = Math.min(layout.font.size, 11);
    var font = { family: layout.font.family, size: layout.font.size };
    layout.margin = Object.assign({ t: 80, b: 60 }, layout.margin || {});
    delete layout.width;
    layout.autosize = true;
    var cells = subplotsOf(data, layout);
    var barred = data.filter(colorbarOwner).map(function (trace) { return axisKey(trace.xaxis, "x"); });
    if (barred.length) layout.margin.r = Math.max(layout.margin.r || 0, COLORBAR_PX + 8);
    var stack = null;
    var grid = null;
    if (narrow && columnsOf(cells) > 1) stack = stackSubplots(layout, cells, width, font);
    else {
      grid = spaceColumns(layout, cells, width, font, barred);
      layout.height = layout.height || 450;
      if (narrow) layout.height = Math.max(layout.height, 360);
      cells.forEach(function (cell) {
        setTitleText(layout[cell.y], wrapText(titleText(layout[cell.y].title),
          layout.height * (cell.yd[1] - cell.yd[0]) * 0.7, font.size, font.family));
      });
    }
    placeColorbars(data, layout);
    var title = layout.title = typeof layout.title === "object" ? layout.title : { text: layout.title || "" };
    var titleSize = (title.font && title.font.size) || font.size + 3;
    if (narrow) { titleSize = Math.min(titleSize, 14); title.font = Object.assign({}, title.font, { size: titleSize }); }
    title.text = wrapText(title.text, width - 24, titleSize, font.family);
    var legendSize = (layout.legend && layout.legend.font && layout.legend.font.size) || font.size;
    data.forEach(function (trace) {
      if (trace.name) trace.name = wrapText(trace.name, width - 70, legendSize, font.family);
    });
    (layout.annotations || []).forEach(function (note) {
      // Annotations on data axes (a labelled line, a floor) stay within the width of their subplot.
      if ((note.xref || "paper") === "paper") return;
      var cell = cells.filter(function (c) { return c.x === axisKey(String(note.xref).split(" ")[0], "x"); })[0];
      var share = cell ? layout[cell.x].domain || [0, 1] : [0, 1];
      note.text = wrapText(note.text, (share[1] - share[0]) * (width - 90) * 0.9, (note.font && note.font.size) ||
        font.size, font.family);
    });
    layout.legend = Object.assign({}, layout.legend, { y: LEGEND_LIFT_PX / layout.height, tracegroupgap: 0 });
    Object.assign(title, { yref: "container", yanchor: "top", y: 1 - TITLE_DROP_PX / layout.height });
    return {
      data: data, layout: layout, stack: stack, grid: grid, font: font,
      plotHeight: layout.height - layout.margin.t - layout.margin.b
    };
  }

  function relativeBox(node, host) {
    var r = node.getBoundingClientRect();
    return { top: r.top - host.top, bottom: r.bottom - host.top, empty: r.width === 0 || r.height === 0 };
  }

  // How far the title and the legend must move apart from everything else (positive: more room needed).
  function marginCorrections(gd) {
    var host = gd.getBoundingClientRect();
    var size = gd._fullLayout && gd._fullLayout._size;
    if (!size) return null;
    var top = size.t;
    var bottom = size.t + size.h;
    gd.querySelectorAll("svg.main-svg text").forEach(function (node) {
      if (node.closest(".g-gtitle, .legend, .hoverlayer") || !node.textContent.trim()) return;
      var box = relativeBox(node, host);
      if (box.empty) return;
      top = Math.min(top, box.top);
      bottom = Math.max(bottom, box.bottom);
    });
    var title = gd.querySelector(".g-gtitle text");
    var legend = gd.querySelector("g.legend");
    var titleBox = title && title.textContent.trim() ? relativeBox(title, host) : null;
    var legendBox = legend ? relativeBox(legend, host) : null;
    return {
      size: size,
      top: titleBox && !titleBox.empty ? titleBox.bottom + 10 - top : 12 - top,
      bottom: legendBox && !legendBox.empty ? bottom + 12 - legendBox.top : bottom + 10 - host.height
    };
  }

  // Plotly pushes the bottom margin for the legend by itself, but only as far as the legend alone needs, and it
  // takes that room from the plot: each pass restores the planned plot height and moves the title and legend clear.
  function fitMargins(Plotly, gd, plotHeight, pass) {
    var fix = marginCorrections(gd);
    if (!fix) return Promise.resolve();
    var settled = Math.abs(fix.top) < 3 && Math.abs(fix.bottom) < 3 && Math.abs(fix.size.h - plotHeight) < 3;
    if (settled || pass >= FIT_PASSES) return Promise.resolve();
    var top = Math.max(10, Math.round(fix.size.t + fix.top));
    var bottom = Math.max(10, Math.round(fix.size.b + fix.bottom));
    var height = Math.round(top + bottom + plotHeight);
    return Plotly.relayout(gd, {
      "margin.t": top, "margin.b": bottom, height: height, "legend.y": LEGEND_LIFT_PX / height,
      "title.y": 1 - TITLE_DROP_PX / height
    }).then(function () {
      return fitMargins(Plotly, gd, plotHeight, pass + 1);
    });
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

  // One drawing at a time: a resize during a draw's fitting passes waits for it, then lays the chart out anew.
  Panel.prototype.draw = function (figure) {
    var panel = this;
    panel.figure = figure;
    panel.drawing = (panel.drawing || Promise.resolve()).then(function () { return panel.drawNow(figure); });
    return panel.drawing;
  };

  Panel.prototype.drawNow = function (figure) {
    var panel = this;
    return loadPlotly(panel.plotlySrc).then(function (Plotly) {
      panel.chart.hidden = false;
      delete panel.chart.dataset.layout;
      var width = panel.chart.clientWidth;
      var fitted = chartLayout(figure, width);
      panel.drawnWidth = width;
      return Plotly.react(panel.chart, clone(fitted.data), clone(fitted.layout), PLOT_CONFIG).then(function () {
        return fitStackGaps(Plotly, panel.chart, fitted, 0);
      }).then(function () {
        return fitColumnGaps(Plotly, panel.chart, fitted, 0);
      }).then(function () {
        return fitMargins(Plotly, panel.chart, fitted.plotHeight, 0);
      });
    }).then(function () {
      panel.chart.dataset.layout = "done";  // the layout test and screenshots wait for this
      panel.chart.dataset.layoutWidth = String(panel.drawnWidth);
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

  // A new width is a new layout (stacked or side by side, wrapped titles), not a stretched copy of the old one.
  Panel.prototype.redrawIfResized = function () {
    if (!this.figure || this.chart.hidden || this.drawnWidth === undefined) return;
    if (Math.abs(this.chart.clientWidth - this.drawnWidth) >= 8) this.draw(this.figure);
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
    if (run.status === "queued" || run.status === "running") this.describeWaitingRun(run);
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
      this.describeWaitingRun(null);
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

    this.meta.removeAttribute("data-empty");
    this.renderTable(run.id, result.table);
    this.renderNotes(run.notes_html || []);
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

  // notes_html: each note's inline Markdown rendered and sanitised by the server (experiments/notes.py).
  Panel.prototype.renderNotes = function (notesHtml) {
    if (!this.notes) return;
    this.notes.textContent = "";
    notesHtml.forEach(function (html) {
      var item = el("li");
      item.innerHTML = html;
      this.notes.appendChild(item);
    }, this);
    this.notesBox.hidden = notesHtml.length === 0;
  };

  // Until a first run has succeeded the meta line says so; while one is under way it must not invite another.
  Panel.prototype.describeWaitingRun = function (run) {
    if (!this.meta || !this.meta.hasAttribute("data-empty")) return;
    this.meta.textContent = run
      ? "No finished run yet: your run #" + run.id + " is in progress, and its chart will appear here when it is done."
      : "No finished run yet.";
  };

  var panels = [];
  document.querySelectorAll(".experiment-panel[data-experiment]").forEach(function (root) {
    var panel = new Panel(root);
    panels.push(panel);
    panel.drawWhenVisible();
  });
  // js/theme.js announces a new theme (toggle or system setting): charts redraw in the new colours.
  document.addEventListener("themechange", function () {
    panels.forEach(function (panel) { if (panel.figure && !panel.chart.hidden) panel.draw(panel.figure); });
  });
  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { panels.forEach(function (panel) { panel.redrawIfResized(); }); }, 200);
  });
})();
