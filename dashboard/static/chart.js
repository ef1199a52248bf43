/**
 * Chart tab: one numeric member of the state (chosen with the chart button
 * beside a number in the State tab) over every loaded version, e.g. an
 * account's balance across 100,000 events. The numbers come from the
 * WebAssembly core (`history.series`: one fold of the history); the chart
 * is uPlot, served by the dashboard itself (/vendor/uplot). A line marks
 * the selected version; clicking the chart selects the version under the
 * pointer.
 *
 * DOM contract: `#chart-view[data-member="/balance"]` once drawn, with a
 * `.chart-summary` in words (the value at the selected version, lowest,
 * highest; `data-selected` holds the first) and the uPlot canvas.
 */

import { h, inlineError } from './dom.js';
import { loadUplot } from './uplot.js';

const HEIGHT = 260;

export class MemberChart {
  #root;
  #onSelect;
  #member = null;
  #history = null;
  /** The head the series was computed up to. */
  #head = -1;
  #base = 0;
  #selected = 0;
  #values = null;
  #plot = null;
  #summary = null;

  /**
   * @param {HTMLElement} root  the Chart tab's panel
   * @param {object} handlers
   * @param {(version: number) => void} handlers.onSelect  a click on the chart
   */
  constructor(root, { onSelect }) {
    this.#root = root;
    this.#onSelect = onSelect;
    this.clear();
    new ResizeObserver(() => this.#plot?.setSize(this.#size())).observe(root);
  }

  /** The member charted (null: none chosen). */
  get member() {
    return this.#member;
  }

  /** Forgets the member (another stream was opened). */
  clear() {
    this.#destroy();
    this.#member = null;
    this.#history = null;
    delete this.#root.dataset.member;
    this.#root.replaceChildren(h('p', { class: 'empty',
      text: 'Choose a number in the State tab (the chart button beside it) to see it over every version.' }));
  }

  /**
   * Charts `member` of `history` (base..head) and marks `selected`.
   *
   * @param {any} history
   * @param {string} member  a JSON pointer into the state
   * @param {number} selected
   */
  async show(history, member, selected) {
    this.#member = member;
    this.#history = history;
    this.#selected = selected;
    this.#head = -1;
    await this.#draw();
  }

  /**
   * The selection moved or the history grew: moves the marker, and adds
   * the new versions' values (folding only the new events).
   */
  async update(history, selected) {
    if (!this.#member) return;
    if (history !== this.#history) {
      this.clear();
      return;
    }
    this.#selected = selected;
    const head = history.head();
    if (this.#plot && this.#values && head > this.#head) {
      this.#grow(history, head);
    } else if (head !== this.#head && this.#plot) {
      await this.#draw();
      return;
    }
    this.#plot?.redraw(false, false);
    this.#describe();
  }

  /** Appends the values of versions #head + 1..head to the chart. */
  #grow(history, head) {
    let more;
    try {
      more = history.series(this.#member, this.#head + 1, head);
    } catch (err) {
      this.#fail(`${this.#member} could not be charted`, err);
      return;
    }
    const values = new Float64Array(this.#values.length + more.length);
    values.set(this.#values);
    values.set(more, this.#values.length);
    this.#values = values;
    this.#head = head;
    this.#plot.setData([
      Float64Array.from({ length: values.length }, (_, i) => this.#base + i),
      Array.from(values, (v) => (Number.isNaN(v) ? null : v)),
    ]);
  }

  async #draw() {
    const history = this.#history;
    const member = this.#member;
    let uPlot;
    try {
      uPlot = await loadUplot();
    } catch (err) {
      this.#fail('The chart library could not be loaded (/vendor/uplot: run ./chronicle setup)', err);
      return;
    }
    if (history !== this.#history || member !== this.#member) return;
    let values;
    try {
      this.#base = history.base();
      this.#head = history.head();
      values = history.series(member, this.#base, this.#head);
    } catch (err) {
      this.#fail(`${member} could not be charted`, err);
      return;
    }
    this.#values = values;
    const xs = Float64Array.from({ length: values.length }, (_, i) => this.#base + i);
    const ys = Array.from(values, (v) => (Number.isNaN(v) ? null : v));
    this.#destroy();
    this.#summary = h('p', { class: 'chart-summary' });
    const holder = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': `${member} over versions ${this.#base} to ${this.#head}` });
    this.#root.replaceChildren(
      h('p', { class: 'chart-title' }, h('code', { text: member }), ' over versions — click the chart to go to a version'),
      holder, this.#summary);
    this.#root.dataset.member = member;
    const marker = (u) => {
      const x = Math.round(u.valToPos(this.#selected, 'x', true));
      const { ctx } = u;
      ctx.save();
      ctx.strokeStyle = '#cf222e';
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
      ctx.restore();
    };
    this.#plot = new uPlot({
      ...this.#size(),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: false } },
      // The value axis as wide as its longest label (uPlot's default cuts
      // long numbers such as 1,600,000).
      axes: [{ label: 'version' }, { size: (u, values) => 18 + 7.5 * Math.max(1, ...(values ?? []).map((v) => String(v).length)) }],
      series: [{ label: 'version' }, { label: member, stroke: '#0969da', width: 1.5, spanGaps: false, points: { show: values.length <= 200 } }],
      hooks: { draw: [marker] },
    }, [xs, ys], holder);
    this.#plot.over.addEventListener('click', () => {
      const idx = this.#plot.cursor.idx;
      if (idx !== null && idx !== undefined) this.#onSelect(this.#base + idx);
    });
    this.#describe();
  }

  /** The summary in words (what a screen reader and a test read). */
  #describe() {
    if (!this.#summary || !this.#values) return;
    const nums = Array.from(this.#values).filter((v) => !Number.isNaN(v));
    const fmt = (v) => (v === undefined || Number.isNaN(v) ? 'none' : v.toLocaleString('en-US', { maximumFractionDigits: 6 }));
    const at = this.#values[this.#selected - this.#base];
    const { lowest, highest } = extremes(nums);
    this.#summary.textContent = nums.length === 0
      ? `${this.#member} is not a number at any version.`
      : `At version ${this.#selected}: ${fmt(at)} · lowest ${fmt(lowest)} · highest ${fmt(highest)} · `
        + `${nums.length.toLocaleString('en-US')} of ${this.#values.length.toLocaleString('en-US')} versions have a number`;
    this.#summary.dataset.selected = fmt(at);
  }

  #size() {
    return { width: Math.max(200, this.#root.clientWidth - 32), height: HEIGHT };
  }

  #fail(title, err) {
    this.#destroy();
    this.#root.replaceChildren(inlineError(title, err));
  }

  #destroy() {
    this.#plot?.destroy();
    this.#plot = null;
    this.#summary = null;
  }
}

/** The lowest and highest of many numbers (no spread of 100,000 arguments). */
function extremes(nums) {
  let lowest = Infinity;
  let highest = -Infinity;
  for (const v of nums) {
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  }
  return { lowest, highest };
}
