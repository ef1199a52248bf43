/**
 * The operations view's charts, drawn by uPlot (served by the dashboard
 * itself, /vendor/uplot): live line charts over the last five minutes (one
 * point per snapshot, one series per key, e.g. a subscription's consumer)
 * and the bar chart of events per day. Each chart says its numbers in
 * words too: the figure's caption, the canvas's aria-label, a legend with
 * every series' current value, and a summary line.
 *
 * DOM contract: `figure.ops-chart` with `.chart-canvas[role=img]`,
 * `.chart-legend li[data-series]` (data-value: the series' current
 * value) and `.chart-summary`.
 */

import { h } from './dom.js';
import { errorParts } from './format.js';
import { num } from './ops-view.js';
import { loadUplot } from './uplot.js';

/** How far back a live chart reaches, in seconds, and how many points it keeps. */
const WINDOW_S = 300;
const MAX_POINTS = 300;

const COLOURS = ['#0969da', '#bf3989', '#1a7f37', '#9a6700', '#8250df', '#cf222e', '#1b7c83', '#57606a'];
/** Line styles, so that series differ by more than their colour (uPlot dash, CSS border style). */
const DASHES = [{ dash: [], css: 'solid' }, { dash: [7, 4], css: 'dashed' }, { dash: [2, 3], css: 'dotted' }];


/** The look of the i-th series. */
function look(i) {
  return { colour: COLOURS[i % COLOURS.length], ...DASHES[Math.floor(i / COLOURS.length) % DASHES.length] };
}

/** "950", "12k", "1.2M": the value axis's labels. */
function compact(v) {
  if (v === null || v === undefined) return '';
  return Number(v).toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
}

/** The time axis's steps, in seconds (none below a second: there is a point a second). */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

/** Seconds since the epoch → "23:41:05" (the browser's time zone). */
function clockTime(t) {
  return new Date(t * 1000).toLocaleTimeString('en-GB');
}

/** The marks of a logarithmic value axis: 0, 1, 10, 100… (every other power when they would crowd). */
function powersOfTen(u, axisIdx, min, max) {
  const powers = [];
  for (let p = 1; p <= max; p *= 10) powers.push(p);
  const step = powers.length > 6 ? 2 : 1;
  return [0, ...powers.filter((_, i) => (powers.length - 1 - i) % step === 0)];
}

/** A value axis as wide as its longest label. */
function valueAxis(format) {
  return {
    values: (u, splits) => splits.map(format),
    size: (u, values) => 16 + 7 * Math.max(2, ...(values ?? []).map((v) => String(v).length)),
  };
}

/** Keeps a uPlot chart as wide as its holder. */
function fitWidth(holder, height, plot) {
  const width = Math.max(160, holder.clientWidth);
  if (plot && (plot.width !== width || plot.height !== height)) plot.setSize({ width, height });
  return { width, height };
}

/** The chart's place when uPlot could not be loaded (the numbers are still there in words). */
function failed(holder, err) {
  const { message } = errorParts(err);
  holder.replaceChildren(h('p', { class: 'error-inline', text: `The chart library could not be loaded (/vendor/uplot): ${message}` }));
}

/**
 * A live line chart: the last WINDOW_S seconds, at most MAX_POINTS points.
 */
export class LiveChart {
  #canvas;
  #legend;
  #summary;
  #options;
  #plot = null;
  /** Seconds since the epoch, oldest first. */
  #times = [];
  /** key → values aligned with #times (null: no value then). */
  #series = new Map();
  /** The keys the plot was built with (a change rebuilds it). */
  #plotted = '';
  #uPlot = null;

  /**
   * @param {HTMLElement} root  an empty container
   * @param {object} options
   * @param {string} options.id  the figure's id
   * @param {string} options.caption  what the chart shows, e.g. "Events per second, last 5 minutes"
   * @param {number} [options.height]  in CSS pixels (170)
   * @param {(v: number|null) => string} options.format  a value in words
   * @param {boolean} [options.legend]  a legend of the series (default: more than one series is expected)
   * @param {boolean} [options.log]  an asinh value scale (lags of 5 and 100,000 side by side)
   * @param {string} [options.empty]  the summary while there is no series
   * @param {(chart: LiveChart) => string} options.summary  the numbers in words, below the chart
   */
  constructor(root, options) {
    this.#options = { legend: true, log: false, empty: 'No data yet.', ...options };
    this.#canvas = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': options.caption });
    this.#legend = options.legend === false ? null : h('ul', { class: 'chart-legend', 'aria-label': `${options.caption}: legend` });
    this.#summary = h('p', { class: 'chart-summary', text: this.#options.empty });
    root.replaceChildren(h('figure', { class: 'ops-chart', id: options.id },
      h('figcaption', { class: 'chart-caption', text: options.caption }),
      this.#canvas, this.#legend, this.#summary));
    new ResizeObserver(() => this.#plot && fitWidth(this.#canvas, this.#height(), this.#plot)).observe(this.#canvas);
    loadUplot().then((uPlot) => {
      this.#uPlot = uPlot;
      this.#draw();
    }, (err) => failed(this.#canvas, err));
  }

  /** The series' keys, in the order they were first seen. */
  get keys() {
    return [...this.#series.keys()];
  }

  /**
   * The latest value, the highest and the mean of a series over the window
   * (null when it has no value).
   *
   * @param {string} key
   * @returns {{last: number|null, peak: number|null, mean: number|null}}
   */
  stats(key) {
    const values = (this.#series.get(key) ?? []).filter((v) => v !== null);
    if (!values.length) return { last: null, peak: null, mean: null };
    return {
      last: values[values.length - 1],
      peak: Math.max(...values),
      mean: values.reduce((a, b) => a + b, 0) / values.length,
    };
  }

  /**
   * Adds a point in time. A key not seen before becomes a series; a series
   * without any value left in the window goes.
   *
   * @param {number} t  seconds since the epoch
   * @param {Map<string, number|null>} values
   */
  push(t, values) {
    const last = this.#times[this.#times.length - 1];
    if (last !== undefined && t <= last) return; // a snapshot repeated, or a clock that went back
    this.#times.push(t);
    for (const [key, series] of this.#series) series.push(values.has(key) ? values.get(key) : null);
    for (const [key, value] of values) {
      if (!this.#series.has(key)) this.#series.set(key, [...Array(this.#times.length - 1).fill(null), value]);
    }
    let drop = 0;
    while (this.#times.length - drop > MAX_POINTS || this.#times[drop] < t - WINDOW_S) drop++;
    if (drop) {
      this.#times.splice(0, drop);
      for (const series of this.#series.values()) series.splice(0, drop);
    }
    for (const [key, series] of this.#series) {
      if (series.every((v) => v === null)) this.#series.delete(key);
    }
    this.#draw();
  }

  #height() {
    return this.#options.height ?? 170;
  }

  #draw() {
    this.#describe(null);
    const uPlot = this.#uPlot;
    if (!uPlot) return;
    const keys = this.keys;
    const data = [this.#times, ...keys.map((k) => this.#series.get(k))];
    const plotted = JSON.stringify(keys);
    if (this.#plot && plotted === this.#plotted) {
      this.#plot.setData(data);
      return;
    }
    this.#plot?.destroy();
    this.#plot = null;
    this.#plotted = plotted;
    if (!keys.length) return;
    const { format, log } = this.#options;
    this.#plot = new uPlot({
      ...fitWidth(this.#canvas, this.#height()),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        // At least a minute wide, so that the first snapshots do not spread over the chart.
        x: { time: true, range: (u, min, max) => [Math.min(min ?? max, max - 60), max] },
        y: log
          ? { distr: 4, asinh: 1, range: (u, min, max) => [0, Math.max(10, (max ?? 0) * 1.5)] }
          : { range: (u, min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
      },
      axes: [
        { space: 80, incrs: TIME_STEPS, values: (u, splits) => splits.map(clockTime) },
        log ? { ...valueAxis(compact), splits: powersOfTen } : valueAxis(compact),
      ],
      series: [{}, ...keys.map((key, i) => {
        const { colour, dash } = look(i);
        return { label: key, stroke: colour, dash, width: 1.75, spanGaps: false, points: { show: false }, value: (u, v) => format(v) };
      })],
      hooks: { setCursor: [(u) => this.#describe(u.cursor.idx ?? null)] },
    }, data, this.#canvas);
  }

  /**
   * The legend (values at the cursor's point, or the latest), the summary
   * and the canvas's label.
   *
   * @param {number|null} idx  the point under the cursor
   */
  #describe(idx) {
    const { caption, format, summary, empty } = this.#options;
    const keys = this.keys;
    const at = (key) => (idx === null ? this.stats(key).last : this.#series.get(key)?.[idx] ?? null);
    if (this.#legend) {
      const when = idx === null ? '' : ` at ${new Date(this.#times[idx] * 1000).toLocaleTimeString('en-GB')}`;
      this.#legend.replaceChildren(...keys.map((key, i) => {
        const { colour, css } = look(i);
        const value = at(key);
        return h('li', { dataset: { series: key, value: value === null ? '' : String(value) } },
          h('span', { class: 'swatch', 'aria-hidden': 'true', style: `border-top: 3px ${css} ${colour}` }),
          h('span', { class: 'series-name', text: key }),
          h('span', { class: 'series-value', text: `${format(value)}${when}` }));
      }));
    }
    const words = keys.length ? summary(this) : empty;
    if (this.#summary.textContent !== words) this.#summary.textContent = words;
    const label = `${caption}. ${keys.length
      ? keys.map((k) => `${k}: ${format(this.stats(k).last)}`).join('; ')
      : empty}`;
    if (idx === null) this.#canvas.setAttribute('aria-label', label);
  }
}

/**
 * Events (and streams) per day, the last `days` days (UTC), as bars, with
 * the figures in a table under a disclosure.
 */
export class DayChart {
  #canvas;
  #summary;
  #hover;
  #figures;
  #plot = null;
  #uPlot = null;
  #rows = [];

  /** @param {HTMLElement} root  an empty container */
  constructor(root) {
    this.#canvas = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': 'Events per day' });
    this.#summary = h('p', { class: 'chart-summary' });
    this.#hover = h('p', { class: 'chart-hover muted', 'aria-hidden': 'true' });
    this.#figures = h('div', { class: 'day-figures' });
    root.replaceChildren(h('figure', { class: 'ops-chart', id: 'days-chart' },
      h('figcaption', { class: 'chart-caption', text: 'Events recorded per day, last 14 days (UTC)' }),
      this.#canvas, this.#hover, this.#summary,
      h('details', { class: 'figures' }, h('summary', { text: 'Figures per day' }), this.#figures)));
    new ResizeObserver(() => this.#plot && fitWidth(this.#canvas, 170, this.#plot)).observe(this.#canvas);
    loadUplot().then((uPlot) => {
      this.#uPlot = uPlot;
      this.#draw();
    }, (err) => failed(this.#canvas, err));
  }

  /**
   * Shows the days (missing days count 0).
   *
   * @param {{day: string, events: number, streams: number}[]} days
   * @param {number} nowMs  the server's time
   * @param {number} [span]  how many days, ending today (UTC)
   */
  show(days, nowMs, span = 14) {
    const byDay = new Map(days.map((d) => [d.day, d]));
    const today = Date.UTC(...utcParts(nowMs));
    this.#rows = Array.from({ length: span }, (_, i) => {
      const day = new Date(today - (span - 1 - i) * 86_400_000).toISOString().slice(0, 10);
      const found = byDay.get(day);
      return { day, label: dayLabel(day), events: Number(found?.events ?? 0), streams: Number(found?.streams ?? 0) };
    });
    const last = this.#rows[this.#rows.length - 1];
    const total = this.#rows.reduce((a, r) => a + r.events, 0);
    const busiest = this.#rows.reduce((a, r) => (r.events > a.events ? r : a), this.#rows[0]);
    const words = `Today (${last.label}): ${num(last.events)} events in ${num(last.streams)} streams · `
      + `${span} days: ${num(total)} events · busiest day ${busiest.label} (${num(busiest.events)})`;
    this.#summary.textContent = words;
    this.#summary.dataset.today = String(last.events);
    this.#canvas.setAttribute('aria-label', `Events per day, last ${span} days (UTC). ${words}`);
    this.#figures.replaceChildren(h('table', { class: 'ops-table compact' },
      h('caption', { class: 'visually-hidden', text: 'Events and streams per day (UTC)' }),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', text: 'Day (UTC)' }), h('th', { scope: 'col', class: 'num', text: 'Events' }),
        h('th', { scope: 'col', class: 'num', text: 'Streams' }))),
      h('tbody', {}, ...this.#rows.slice().reverse().map((r) => h('tr', { dataset: { day: r.day, events: String(r.events) } },
        h('th', { scope: 'row', text: r.day }),
        h('td', { class: 'num', text: num(r.events) }),
        h('td', { class: 'num', text: num(r.streams) }))))));
    this.#draw();
  }

  #draw() {
    const uPlot = this.#uPlot;
    if (!uPlot || !this.#rows.length) return;
    const rows = this.#rows;
    const data = [rows.map((_, i) => i), rows.map((r) => r.events)];
    if (this.#plot) {
      this.#plot.setData(data);
      return;
    }
    this.#plot = new uPlot({
      ...fitWidth(this.#canvas, 170),
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: { time: false, range: (u) => [-0.5, u.data[0].length - 0.5] },
        y: { range: (u, min, max) => [0, Math.max(1, (max ?? 0) * 1.15)] },
      },
      axes: [
        { splits: (u) => u.data[0], values: (u, splits) => splits.map((i) => this.#rows[i]?.label ?? ''), gap: 4 },
        valueAxis(compact),
      ],
      series: [{}, {
        label: 'events', stroke: '#0969da', fill: 'rgba(9, 105, 218, .35)', width: 1,
        paths: uPlot.paths.bars({ size: [0.7, 48] }), points: { show: false },
      }],
      hooks: {
        setCursor: [(u) => {
          const r = this.#rows[u.cursor.idx];
          this.#hover.textContent = r ? `${r.day}: ${num(r.events)} events in ${num(r.streams)} streams` : '';
        }],
      },
    }, data, this.#canvas);
  }
}

function utcParts(ms) {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
}

/** "2026-12-04" → "Dec 4". */
function dayLabel(day) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}
