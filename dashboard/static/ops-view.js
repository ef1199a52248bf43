/**
 * Building blocks of the operations view: numbers, durations and times
 * relative to the server's clock, section errors, tables and stream links.
 */

import { h, inlineError } from './dom.js';
import { shortTime } from './format.js';

/** "1,234" (thousands separators; null → "—"). */
export function num(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

/** A rate: one decimal below 10, none above ("0", "2.5", "1,234"). */
export function rateText(r) {
  if (r === null || r === undefined || Number.isNaN(r)) return '—';
  return r.toLocaleString('en-US', { maximumFractionDigits: r < 10 ? 1 : 0 });
}

/**
 * A duration in words: "0 s", "42 s", "3 min 4 s", "2 h 5 min", "3 days 4 h".
 *
 * @param {number} seconds
 */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  const days = Math.floor(s / 86400);
  return `${days} ${days === 1 ? 'day' : 'days'} ${Math.floor((s % 86400) / 3600)} h`;
}

/**
 * The server's clock, as the live snapshots tell it (`feed.now`): relative
 * times ("2 s ago") are measured against it, so a browser whose clock is
 * off still says how long ago the database did something.
 */
export const clock = {
  /** Server time minus browser time, in ms. */
  offset: 0,

  /** @param {string|null|undefined} iso  the server's `now` */
  sync(iso) {
    const t = Date.parse(iso ?? '');
    if (!Number.isNaN(t)) this.offset = t - Date.now();
  },

  /** The server's time now, in ms since the epoch. */
  now() {
    return Date.now() + this.offset;
  },
};

/**
 * "just now", "2 s ago", "3 min ago", "5 h ago", "2 days ago" ("never"
 * without a time).
 *
 * @param {string|null|undefined} iso
 * @param {number} [nowMs]
 */
export function ago(iso, nowMs = clock.now()) {
  const t = Date.parse(iso ?? '');
  if (Number.isNaN(t)) return 'never';
  const s = Math.round((nowMs - t) / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86400);
  return `${days} ${days === 1 ? 'day' : 'days'} ago`;
}

/**
 * A `<time>` that says how long ago `iso` was; refreshRelativeTimes keeps
 * it current.
 *
 * @param {string|null|undefined} iso
 * @returns {HTMLElement}
 */
export function relTime(iso) {
  if (!iso) return h('span', { class: 'muted', text: 'never' });
  return h('time', { class: 'rel', datetime: iso, title: `${shortTime(iso)} UTC`, text: ago(iso) });
}

/**
 * Brings every relTime under `root` up to date.
 *
 * @param {ParentNode} [root]
 */
export function refreshRelativeTimes(root = document) {
  const now = clock.now();
  for (const el of root.querySelectorAll('time.rel')) {
    const text = ago(el.getAttribute('datetime'), now);
    if (el.textContent !== text) el.textContent = text;
  }
}

/** Whether a section of an answer is the server's `{"error": {...}}`. */
export function isSectionError(section) {
  return section !== null && typeof section === 'object' && !Array.isArray(section) && 'error' in section;
}

/**
 * A section that could not be read, shown in its place: the database's
 * code, message, detail and hint.
 *
 * @param {any} err  the section's `error`, or any error
 * @param {string} what  e.g. "The feed"
 * @returns {HTMLElement}
 */
export function sectionError(err, what) {
  return inlineError(`${what} could not be read`, err, { className: 'section-error', role: 'note' });
}

/**
 * A link to a stream in the time-travel view (`./#stream=<id>`).
 *
 * @param {string} streamId
 * @returns {HTMLElement}
 */
export function streamLink(streamId) {
  return h('a', {
    class: 'stream-link', href: `./#stream=${encodeURIComponent(streamId)}`,
    title: `Open ${streamId} in the time-travel view`, dataset: { streamId },
  }, streamId);
}

/**
 * @typedef {object} Column
 * @property {string} label   the header's text
 * @property {string} [key]   `data-col` of the column's cells
 * @property {boolean} [numeric]  right-aligned, tabular figures
 */

/**
 * A table: `<th scope="col">` headers, the first cell of each row a
 * `<th scope="row">`; a single row saying `empty` when there are no rows.
 *
 * @param {object} spec
 * @param {string} spec.caption  what the table lists (read by screen readers; shown when `showCaption`)
 * @param {Column[]} spec.columns
 * @param {{cells: (Node|string|null)[], props?: Record<string, any>}[]} spec.rows
 * @param {string} spec.empty  e.g. "No subscriptions."
 * @param {boolean} [spec.showCaption]
 * @param {string} [spec.className]
 * @param {string} [spec.id]
 * @returns {HTMLElement}
 */
export function table({ caption, columns, rows, empty, showCaption = false, className = '', id = null }) {
  const cellClass = (col) => (col.numeric ? 'num' : null);
  const body = rows.length
    ? rows.map(({ cells, props = {} }) => h('tr', props, ...cells.map((cell, i) => h(i === 0 ? 'th' : 'td', {
      scope: i === 0 ? 'row' : null, class: cellClass(columns[i]), dataset: columns[i].key ? { col: columns[i].key } : {},
    }, cell))))
    : [h('tr', { class: 'empty-row' }, h('td', { colspan: columns.length, class: 'empty', text: empty }))];
  return h('table', { id, class: `ops-table ${className}`.trim() },
    h('caption', { class: showCaption ? 'table-caption' : 'visually-hidden', text: caption }),
    h('thead', {}, h('tr', {}, ...columns.map((col) => h('th', { scope: 'col', class: cellClass(col), text: col.label })))),
    h('tbody', {}, ...body));
}

/**
 * A number with a bar showing its share of `max` (the bar is decoration:
 * the number is the information).
 *
 * @param {number} value
 * @param {number} max
 * @returns {HTMLElement}
 */
export function barCell(value, max) {
  const pct = max > 0 ? Math.max(1, Math.round((value / max) * 100)) : 0;
  return h('span', { class: 'bar-cell', dataset: { value: String(value) } },
    h('span', { class: 'bar-track', 'aria-hidden': 'true' }, h('span', { class: 'bar', style: `width: ${pct}%` })),
    h('span', { class: 'bar-value', text: num(value) }));
}
