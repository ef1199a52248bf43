/**
 * The subscriptions panel of the operations view: every subscription with
 * its status, group checkpoint, lag, events processed, last processing and
 * error, a row per consumer (its own checkpoint and lag), and a live chart
 * of each consumer's lag over the last five minutes ("order-projection #0").
 *
 * DOM contract: `#subs-table tr[data-subscription]` (the group's row) and
 * `tr[data-subscription][data-consumer]` (a consumer's), their cells
 * `[data-col=status|checkpoint|lag|processed|last|error]` (numbers in
 * data-value); the chart `#lag-chart` (see ops-charts.js).
 */

import { h } from './dom.js';
import { LiveChart } from './ops-charts.js';
import { num, relTime, sectionError, table } from './ops-view.js';

const COLUMNS = [
  { label: 'Subscription', key: 'name' },
  { label: 'Status', key: 'status' },
  { label: 'Filter', key: 'filter' },
  { label: 'Checkpoint', key: 'checkpoint', numeric: true },
  { label: 'Lag', key: 'lag', numeric: true },
  { label: 'Events processed', key: 'processed', numeric: true },
  { label: 'Last processed', key: 'last' },
  { label: 'Error', key: 'error' },
];

/** What each status means, as the badge's tooltip. */
const STATUS_NOTES = {
  running: 'Delivers events to its consumers',
  paused: 'Delivers nothing until resumed',
  rebuilding: 'Replaying the feed from an earlier position',
  failed: 'Stopped by an error until reset or resumed',
};

/** The series name of a consumer: "order-projection #0". */
function consumerKey(name, consumer) {
  return `${name} #${consumer}`;
}

/** A number cell's content, with the number in data-value. */
function figure(n) {
  return h('span', { dataset: { value: n === null || n === undefined ? '' : String(n) }, text: num(n) });
}

function badge(sub) {
  const text = sub.status === 'rebuilding' && sub.rebuild_target !== null && sub.rebuild_target !== undefined
    ? `rebuilding to ${num(sub.rebuild_target)}` : String(sub.status);
  return h('span', { class: 'status-badge', dataset: { status: sub.status }, title: STATUS_NOTES[sub.status] ?? null, text });
}

function filterText(sub) {
  const parts = [];
  if (sub.stream_type) parts.push(`type ${sub.stream_type}`);
  if (Array.isArray(sub.event_types) && sub.event_types.length) parts.push(`events ${sub.event_types.join(', ')}`);
  return parts.length ? parts.join('; ') : h('span', { class: 'muted', text: 'all events' });
}

export class SubscriptionsPanel {
  #tableRoot;
  #chart;
  #summary;

  /**
   * @param {HTMLElement} tableRoot  `#subs-body`
   * @param {HTMLElement} chartRoot  `#lag-body`
   */
  constructor(tableRoot, chartRoot) {
    this.#tableRoot = tableRoot;
    this.#summary = h('p', { class: 'muted subs-summary' });
    this.#chart = new LiveChart(chartRoot, {
      id: 'lag-chart',
      caption: 'Lag of each consumer (positions behind the head), last 5 minutes',
      log: true,
      empty: 'No subscriptions to chart.',
      format: (v) => (v === null || v === undefined ? '—' : `${num(v)} behind`),
      summary: (chart) => {
        const worst = chart.keys
          .map((k) => [k, chart.stats(k).last])
          .filter(([, v]) => v !== null)
          .sort((a, b) => b[1] - a[1])[0];
        return worst
          ? `${chart.keys.length} ${chart.keys.length === 1 ? 'consumer' : 'consumers'}; furthest behind: ${worst[0]}, ${num(worst[1])} positions. The value scale is logarithmic beyond 1.`
          : 'No lag to show.';
      },
    });
  }

  /**
   * Shows a snapshot's subscriptions section.
   *
   * @param {any} subs  the section: an array of subscriptions, or `{"error"}`
   * @param {number} nowMs  the snapshot's time (server clock)
   */
  show(subs, nowMs) {
    if (!Array.isArray(subs)) {
      this.#tableRoot.replaceChildren(sectionError(subs?.error ?? { message: 'The answer had no subscriptions.' }, 'The subscriptions'));
      return;
    }
    const rows = [];
    const lags = new Map();
    for (const sub of subs) {
      rows.push({
        props: { class: 'sub-row', dataset: { subscription: sub.name, status: sub.status } },
        cells: [
          h('span', { class: 'sub-name', text: sub.name }),
          badge(sub),
          filterText(sub),
          figure(sub.last_position),
          figure(sub.lag),
          figure(sub.events_processed),
          relTime(sub.last_processed_at),
          sub.error_message ? h('span', { class: 'sub-error', text: sub.error_message }) : h('span', { class: 'muted', text: 'none' }),
        ],
      });
      for (const c of Array.isArray(sub.consumers) ? sub.consumers : []) {
        lags.set(consumerKey(sub.name, c.consumer), c.lag);
        rows.push({
          props: { class: 'consumer-row', dataset: { subscription: sub.name, consumer: String(c.consumer) } },
          cells: [
            h('span', { class: 'consumer-name' }, h('span', { class: 'visually-hidden', text: `${sub.name}, ` }), `consumer ${c.consumer}`),
            '', '',
            figure(c.position),
            figure(c.lag),
            figure(c.events_processed),
            relTime(c.last_processed_at),
            '',
          ],
        });
      }
    }
    const running = subs.filter((s) => s.status === 'running').length;
    this.#summary.textContent = subs.length
      ? `${num(subs.length)} ${subs.length === 1 ? 'subscription' : 'subscriptions'}, ${num(running)} running. `
        + 'Lag counts positions behind the head, including events a filter skips.'
      : '';
    const tableEl = table({ caption: 'Subscriptions and their consumers', columns: COLUMNS, rows, empty: 'No subscriptions.', id: 'subs-table' });
    this.#tableRoot.replaceChildren(tableEl, this.#summary);
    this.#chart.push(nowMs / 1000, lags);
  }
}
