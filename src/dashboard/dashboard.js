// The meshlet dashboard's script: polls /stats.json into the authority and route tables (with uPlot
// sparklines per row) and shows the tap WebSocket's msgpackr frames as a live, filterable event table.
(() => {
  "use strict";

  const STATS_URL = "/stats.json?window=1m&history=1";
  const STATS_REFRESH_MS = 3000;
  const TAP_MAX_ROWS = 100;
  const TAP_RECONNECT_MS = 3000;
  /** Sparklines per table at most: a sidecar can see many authorities, the page stays light. */
  const MAX_CHARTED_ROWS = 50;
  const CHART_WIDTH = 120;
  const CHART_HEIGHT = 34;

  const $ = (selector) => document.querySelector(selector);

  // === formatting ===

  const percent = (rate) => (rate === null || rate === undefined ? "-" : `${(rate * 100).toFixed(2)}%`);
  const rps = (value) => (value === null || value === undefined ? "-" : `${value.toFixed(value < 10 ? 2 : 1)}rps`);
  const ms = (value) => (value === null || value === undefined ? "-" : `${value < 10 ? value.toFixed(1) : Math.round(value)}ms`);
  const count = (value) => (value === null || value === undefined ? "-" : String(value));
  const rateClass = (rate) => (rate === null || rate === undefined ? "" : rate >= 0.99 ? "sr-good" : rate >= 0.95 ? "sr-warn" : "sr-bad");

  function setStatus(element, text, isError) {
    element.textContent = text;
    element.classList.toggle("error", Boolean(isError));
  }

  // === sparklines ===

  /** y from zero to a bit above the highest value, so that a line at the top stays visible. */
  const headroom = (_u, _min, max) => [0, Math.max(max * 1.15, 1)];

  const CHARTS = [
    { field: "rps", stroke: "#2f6fde", fill: "rgba(47,111,222,0.15)", range: headroom, format: rps },
    { field: "successRate", stroke: "#1a7f37", fill: "rgba(26,127,55,0.12)", range: () => [0, 1.1], format: percent },
    { field: "latencyMsP99", stroke: "#b35900", fill: "rgba(179,89,0,0.12)", range: headroom, format: ms },
  ];

  function newSparkline(cell, chart) {
    return new uPlot(
      {
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        pxAlign: 0,
        cursor: { show: false },
        select: { show: false },
        legend: { show: false },
        scales: { x: { time: true }, y: { range: chart.range } },
        axes: [{ show: false }, { show: false }],
        // A lone value between gaps draws no line: dots while there are too few values for one.
        series: [{}, { stroke: chart.stroke, fill: chart.fill, width: 1.5, points: { show: fewValues, size: 4 }, spanGaps: false }],
      },
      [[], []],
      cell,
    );
  }

  function fewValues(u, seriesIndex) {
    let values = 0;
    for (const v of u.data[seriesIndex]) if (v !== null && v !== undefined && ++values > 2) return false;
    return true;
  }

  /** history: [{tMs, rps, successRate, latencyMsP99}] → uPlot's [[seconds...], [values...]]. */
  function seriesOf(history, field) {
    const xs = [];
    const ys = [];
    for (const point of history ?? []) {
      xs.push(point.tMs / 1000);
      ys.push(point[field] ?? null);
    }
    return [xs, ys];
  }

  // === stats tables ===

  /** One live table: rows keyed by identity, updated in place so that their charts persist. */
  class StatsTable {
    constructor(table, empty, columns) {
      this.body = table.tBodies[0];
      this.empty = empty;
      this.columns = columns;
      this.rows = new Map();
    }

    update(items, keyOf) {
      const seen = new Set();
      items.forEach((item, index) => {
        const key = keyOf(item);
        seen.add(key);
        let row = this.rows.get(key);
        if (row === undefined) row = this.addRow(key);
        this.columns.forEach((column, i) => {
          const cell = row.cells[i];
          cell.textContent = column.text(item);
          if (column.className) cell.className = column.className(item);
        });
        if (index < MAX_CHARTED_ROWS) {
          CHARTS.forEach((chart, i) => {
            const cell = row.chartCells[i];
            row.plots[i] ??= newSparkline(cell, chart);
            row.plots[i].setData(seriesOf(item.history, chart.field));
            const last = item.history?.at(-1);
            cell.title = last === undefined ? "no history yet" : chart.format(last[chart.field]);
          });
        } else {
          row.plots.forEach((plot, i) => {
            plot?.destroy();
            row.plots[i] = undefined;
          });
        }
        this.body.appendChild(row.tr); // keeps the server's order
      });
      for (const [key, row] of this.rows) {
        if (seen.has(key)) continue;
        for (const plot of row.plots) plot?.destroy();
        row.tr.remove();
        this.rows.delete(key);
      }
      this.empty.hidden = items.length > 0;
    }

    addRow(key) {
      const tr = document.createElement("tr");
      tr.dataset.key = key;
      const cells = this.columns.map((column) => {
        const td = document.createElement("td");
        td.className = column.className ? "" : column.numeric ? "num" : "name";
        tr.appendChild(td);
        return td;
      });
      const chartCells = CHARTS.map((chart) => {
        const td = document.createElement("td");
        td.className = "chart";
        td.dataset.chart = chart.field;
        tr.appendChild(td);
        return td;
      });
      const row = { tr, cells, chartCells, plots: CHARTS.map(() => undefined) };
      this.rows.set(key, row);
      return row;
    }
  }

  const numeric = (text) => ({ numeric: true, text });
  const successColumn = (rateOf) => ({ text: (item) => percent(rateOf(item)), className: (item) => `num ${rateClass(rateOf(item))}` });

  const authorities = new StatsTable($("#authorities"), $("#authorities-empty"), [
    { text: (a) => a.direction },
    { text: (a) => a.authority },
    successColumn((a) => a.successRate),
    numeric((a) => rps(a.rps)),
    numeric((a) => ms(a.latencyMsP50)),
    numeric((a) => ms(a.latencyMsP95)),
    numeric((a) => ms(a.latencyMsP99)),
    numeric((a) => count(a.tcpConnections)),
  ]);

  const routes = new StatsTable($("#routes"), $("#routes-empty"), [
    { text: (r) => r.direction },
    { text: (r) => r.dst },
    { text: (r) => r.route },
    successColumn((r) => r.effective?.successRate),
    numeric((r) => rps(r.effective?.rps)),
    successColumn((r) => r.actual?.successRate),
    numeric((r) => rps(r.actual?.rps)),
    numeric((r) => ms(r.latencyMsP50)),
    numeric((r) => ms(r.latencyMsP95)),
    numeric((r) => ms(r.latencyMsP99)),
  ]);

  async function refreshStats() {
    const status = $("#stats-status");
    try {
      const response = await fetch(STATS_URL, { cache: "no-store" });
      if (!response.ok) throw new Error(`/stats.json: HTTP ${response.status} ${(await response.text()).trim()}`);
      const stats = await response.json();
      authorities.update(stats.authorities ?? [], (a) => `${a.direction} ${a.authority}`);
      routes.update(stats.routes ?? [], (r) => `${r.direction} ${r.dst} ${r.route}`);
      $("#window").textContent = `last ${Math.round(stats.windowSeconds)}s (sampled every ${stats.snapshotIntervalSeconds}s)`;
      setStatus(status, `updated ${new Date().toLocaleTimeString()}`, false);
    } catch (err) {
      setStatus(status, `stats unavailable: ${err.message}`, true);
    } finally {
      setTimeout(refreshStats, STATS_REFRESH_MS);
    }
  }

  // === live tap ===

  const tap = {
    url: null,
    socket: null,
    paused: false,
    /** request id → its table row, while the row is on screen. */
    rows: new Map(),
    events: 0,
  };
  const tapBody = $("#tap").tBodies[0];
  const tapStatus = $("#tap-status");
  const filterForm = $("#tap-filter");

  function subscription() {
    const form = new FormData(filterForm);
    const request = {};
    const method = String(form.get("method") ?? "");
    const path = String(form.get("path") ?? "").trim();
    if (method !== "") request.method = method;
    if (path !== "") request.path = path;
    return request;
  }

  function cell(tr, text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function addTapRow(tr) {
    tapBody.insertBefore(tr, tapBody.firstChild);
    while (tapBody.rows.length > TAP_MAX_ROWS) {
      const last = tapBody.rows[tapBody.rows.length - 1];
      if (last.dataset.id !== undefined) tap.rows.delete(Number(last.dataset.id));
      last.remove();
    }
  }

  function notice(text) {
    const tr = document.createElement("tr");
    tr.className = "notice";
    const td = cell(tr, text);
    td.colSpan = 10;
    addTapRow(tr);
  }

  function onTapEvent(event) {
    tap.events++;
    switch (event.type) {
      case "request": {
        const tr = document.createElement("tr");
        tr.className = "pending";
        tr.dataset.id = String(event.id);
        cell(tr, new Date(event.tsMs).toLocaleTimeString());
        cell(tr, event.direction);
        cell(tr, event.method);
        cell(tr, event.authority, "name");
        cell(tr, event.path, "path");
        cell(tr, event.route ?? "");
        const row = { tr, status: cell(tr, "…", "num"), latency: cell(tr, "", "num"), bytes: cell(tr, "", "num") };
        cell(tr, event.tls ? (event.clientId ? `✓ ${event.clientId}` : "✓") : "no");
        tap.rows.set(event.id, row);
        addTapRow(tr);
        break;
      }
      case "response": {
        const row = tap.rows.get(event.id);
        if (row === undefined) break;
        row.status.textContent = String(event.status);
        row.latency.textContent = ms(event.sinceRequestMs);
        break;
      }
      case "end": {
        const row = tap.rows.get(event.id);
        if (row === undefined) break;
        row.tr.classList.remove("pending");
        const status = event.error ? `error: ${event.error}` : event.grpcStatus !== undefined ? `${event.status ?? ""} grpc ${event.grpcStatus}` : String(event.status ?? row.status.textContent);
        row.status.textContent = status;
        row.status.className = `num ${event.error || (event.status ?? 0) >= 500 ? "sr-bad" : ""}`;
        row.latency.textContent = ms(event.sinceRequestMs);
        row.bytes.textContent = `${event.requestBytes} / ${event.responseBytes}`;
        tap.rows.delete(event.id);
        break;
      }
      case "dropped":
        notice(`the proxy dropped ${event.count} events (this view fell behind)`);
        break;
      case "error":
        setStatus(tapStatus, `tap refused the subscription: ${event.code}: ${event.message}`, true);
        break;
    }
  }

  function connectTap() {
    if (tap.url === null || tap.paused) return;
    const socket = new WebSocket(tap.url);
    socket.binaryType = "arraybuffer";
    tap.socket = socket;
    const filter = subscription();
    socket.onopen = () => {
      socket.send(JSON.stringify(filter));
      const parts = Object.entries(filter).map(([k, v]) => `${k} ${v}`);
      setStatus(tapStatus, `live${parts.length ? ` (${parts.join(", ")})` : ""}`, false);
    };
    socket.onmessage = (message) => {
      if (!(message.data instanceof ArrayBuffer)) return;
      try {
        // A frame holds one or more events back to back (those of one flush interval).
        for (const event of msgpackr.unpackMultiple(new Uint8Array(message.data))) onTapEvent(event);
      } catch (err) {
        setStatus(tapStatus, `undecodable tap frame: ${err.message}`, true);
      }
    };
    socket.onclose = (close) => {
      if (tap.socket !== socket) return; // replaced by a new subscription or paused on purpose
      tap.socket = null;
      if (close.code === 1008) return; // the error event already said why
      setStatus(tapStatus, `tap disconnected (${close.code}); retrying…`, true);
      setTimeout(connectTap, TAP_RECONNECT_MS);
    };
  }

  function disconnectTap() {
    const socket = tap.socket;
    tap.socket = null;
    socket?.close(1000);
  }

  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (tap.url === null) return;
    disconnectTap();
    tap.rows.clear();
    tapBody.replaceChildren();
    connectTap();
  });

  $("#tap-pause").addEventListener("click", (event) => {
    if (tap.url === null) return;
    tap.paused = !tap.paused;
    event.target.textContent = tap.paused ? "Resume" : "Pause";
    if (tap.paused) {
      disconnectTap();
      setStatus(tapStatus, "paused", false);
    } else {
      connectTap();
    }
  });

  async function startTap() {
    try {
      const response = await fetch("/dashboard/config.json", { cache: "no-store" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      tap.url = (await response.json()).tapUrl ?? null;
    } catch (err) {
      setStatus(tapStatus, `cannot read /dashboard/config.json: ${err.message}`, true);
      return;
    }
    if (tap.url === null) {
      setStatus(tapStatus, "tap is off (MESHLET_TAP_LISTEN)", false);
      for (const control of filterForm.elements) control.disabled = true;
      return;
    }
    connectTap();
  }

  void refreshStats();
  void startTap();
})();
