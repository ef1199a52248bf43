/**
 * Virtualised event timeline.
 *
 * Rows have a fixed height and only the rows in view exist in the DOM (a
 * small pool, reused while scrolling), so a stream of a million events
 * scrolls as smoothly as one of ten. Layout inside the scroll container:
 *
 *   #timeline (overflow: auto)
 *     .timeline-window  sticky at the top, as tall as the viewport, clips rows
 *     .timeline-spacer  makes the scrollable height
 *
 * Browsers cap element heights (about 17 million pixels in Firefox), so
 * past MAX_SCROLL_HEIGHT the scroll position is mapped proportionally onto
 * the virtual list.
 *
 * DOM contract: rows are `[data-version="3"]`, with class `selected` on the
 * selected one, `failed` on failed steps and `skipped` on the events the
 * user skipped (what if).
 */

import { h } from './dom.js';
import { failureNote, shortTime } from './format.js';
import { VersionSet } from './versions.js';

const MAX_SCROLL_HEIGHT = 8_000_000;

/**
 * @typedef {object} RowInfo
 * @property {string} type      event type
 * @property {string} time      recorded_at (ISO text)
 * @property {string|null} failed  the kind of a marked step ("reducer": the
 *   replay skipped it; "validation": it does not match its schema), or null
 * @property {boolean} skipped  the user skipped it (what if it had not happened)
 */

export class Timeline {
  #root;
  #window = h('div', { class: 'timeline-window' });
  #spacer = h('div', { class: 'timeline-spacer' });
  /** Row elements, reused while scrolling; those past the rows in view are hidden. */
  #pool = [];
  #rowHeight;
  #describe;
  #rows = VersionSet.range(0);
  #selected = -1;
  #viewportHeight = 0;
  /**
   * The container's scrollTop as last set or seen in a scroll event: reading
   * scrollTop right after changing the DOM would force a layout per move.
   */
  #scrollTop = 0;

  /**
   * @param {HTMLElement} root  the scroll container
   * @param {object} options
   * @param {number} options.rowHeight  px, must match the CSS
   * @param {(version: number) => RowInfo} options.describe
   * @param {(version: number) => void} options.onSelect
   */
  constructor(root, { rowHeight, describe, onSelect }) {
    this.#root = root;
    this.#rowHeight = rowHeight;
    this.#describe = describe;
    root.replaceChildren(this.#window, this.#spacer);
    root.addEventListener('scroll', () => {
      this.#scrollTop = root.scrollTop;
      this.#render();
    }, { passive: true });
    this.#window.addEventListener('click', (event) => {
      const row = event.target.closest('.timeline-row');
      if (row) onSelect(Number(row.dataset.version));
    });
    new ResizeObserver(() => this.#layout()).observe(root);
  }

  /**
   * Sets the listed versions (after loading more events or filtering).
   *
   * @param {VersionSet} rows
   * @param {string} emptyText  shown when no row is listed
   */
  setRows(rows, emptyText) {
    this.#rows = rows;
    if (rows.count === 0) this.#root.dataset.empty = emptyText;
    else delete this.#root.dataset.empty;
    this.#layout();
  }

  /**
   * Marks `version` selected and scrolls its row into view (or, when it is
   * not listed, the row of the next listed version).
   */
  setSelected(version) {
    this.#selected = version;
    this.#reveal(this.#rows.nearestIndex(version));
    this.#render();
  }

  /** Re-reads the visible rows (e.g. after failures changed). */
  refresh() {
    this.#render();
  }

  get #virtualHeight() {
    return this.#rows.count * this.#rowHeight;
  }

  get #scrollHeight() {
    return Math.min(this.#virtualHeight, MAX_SCROLL_HEIGHT);
  }

  /** Top of the viewport in the virtual list, in px. */
  #virtualTop() {
    const scrollRange = this.#scrollHeight - this.#viewportHeight;
    const virtualRange = this.#virtualHeight - this.#viewportHeight;
    if (scrollRange <= 0) return 0;
    const top = this.#scrollTop * (virtualRange / scrollRange);
    return Math.min(Math.max(top, 0), virtualRange);
  }

  /** Scrolls so the virtual list's top is at `virtualTop` px. */
  #scrollToVirtual(virtualTop) {
    const scrollRange = this.#scrollHeight - this.#viewportHeight;
    const virtualRange = this.#virtualHeight - this.#viewportHeight;
    if (scrollRange <= 0) return;
    this.#scrollTop = virtualTop * (scrollRange / virtualRange);
    this.#root.scrollTop = this.#scrollTop;
  }

  /**
   * Sizes the window and the spacer to the viewport, then renders; keeps
   * the selected row in view when the viewport was resized.
   */
  #layout() {
    const resized = this.#root.clientHeight !== this.#viewportHeight;
    this.#viewportHeight = this.#root.clientHeight;
    this.#window.style.height = `${this.#viewportHeight}px`;
    this.#spacer.style.height = `${Math.max(0, this.#scrollHeight - this.#viewportHeight)}px`;
    if (resized) this.#reveal(this.#rows.nearestIndex(this.#selected));
    this.#render();
  }

  /** Scrolls the row at `index` into view (no-op when it is visible, or for -1). */
  #reveal(index) {
    if (index < 0 || this.#viewportHeight === 0) return;
    const top = this.#virtualTop();
    const rowTop = index * this.#rowHeight;
    if (rowTop < top) {
      this.#scrollToVirtual(rowTop);
    } else if (rowTop + this.#rowHeight > top + this.#viewportHeight) {
      this.#scrollToVirtual(rowTop + this.#rowHeight - this.#viewportHeight);
    }
  }

  /** Fills the pool with the rows in view. */
  #render() {
    const rowHeight = this.#rowHeight;
    const top = this.#virtualTop();
    const first = Math.floor(top / rowHeight);
    const offset = first * rowHeight - top; // ≤ 0: the first row may be cut
    const used = Math.max(0, Math.min(
      this.#rows.count - first,
      Math.ceil((this.#viewportHeight - offset) / rowHeight),
    ));
    while (this.#pool.length < used) this.#pool.push(this.#createRow());
    this.#pool.forEach((row, k) => {
      row.hidden = k >= used;
      if (k < used) {
        this.#fillRow(row, this.#rows.at(first + k));
        row.style.transform = `translateY(${offset + k * rowHeight}px)`;
      }
    });
  }

  #createRow() {
    const row = h('div', { class: 'timeline-row', role: 'option' },
      h('span', { class: 'row-version' }),
      h('span', { class: 'row-icon', 'aria-hidden': 'true' }),
      h('span', { class: 'row-type' }),
      h('span', { class: 'row-time' }),
      h('span', { class: 'visually-hidden' }));
    row.style.height = `${this.#rowHeight}px`;
    this.#window.append(row);
    return row;
  }

  #fillRow(row, version) {
    const { type, time, failed, skipped } = this.#describe(version);
    const [versionCell, icon, typeCell, timeCell, noteCell] = row.children;
    const selected = version === this.#selected;
    row.dataset.version = String(version);
    row.classList.toggle('selected', selected);
    row.classList.toggle('failed', failed !== null);
    row.classList.toggle('skipped', skipped);
    row.setAttribute('aria-selected', String(selected));
    const notes = [failed === null ? null : failureNote(failed), skipped ? 'skipped: what if it had not happened' : null]
      .filter(Boolean);
    row.title = [type, ...notes].join(' — ');
    noteCell.textContent = notes.length ? ` (${notes.join('; ')})` : '';
    versionCell.textContent = String(version);
    icon.textContent = skipped ? '⊘' : failed === null ? '' : '⚠';
    typeCell.textContent = type;
    // The date gives way when the type needs the room (style.css); the
    // tooltip has the whole time.
    const [day, clock] = shortTime(time).split(' ');
    timeCell.replaceChildren(...(clock ? [h('span', { class: 'row-date', text: `${day}\u00a0` }), clock] : [day ?? '']));
    timeCell.title = time;
  }
}
