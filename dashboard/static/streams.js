/**
 * Stream list (left column): id-prefix search, stream-type filter, paging
 * with "Load more", live version updates. Offline it lists the stream of
 * the opened file only.
 *
 * Ids sort naturally (customer-2 before customer-10, numbers by value) among
 * the rows loaded; the server pages them in text order, so a page loaded
 * with "Load more" can place rows among those shown.
 *
 * DOM contract: `#stream-search`, `#stream-type-filter`, `#stream-list`
 * with rows `[data-stream-id="order-001"]`.
 */

import { api } from './api.js';
import { byId, h } from './dom.js';
import { count, shortTime } from './format.js';
import { debounce } from './timing.js';

const PAGE_SIZE = 100;
/** Natural order of stream ids: runs of digits compare as numbers. */
const NATURAL = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });
const naturally = (a, b) => NATURAL.compare(a.stream_id, b.stream_id) || (a.stream_id < b.stream_id ? -1 : a.stream_id > b.stream_id ? 1 : 0);
const SEARCH_DELAY_MS = 250;

/**
 * @typedef {object} StreamRow
 * @property {string} stream_id
 * @property {string} stream_type
 * @property {number} version
 * @property {string} [first_event_at]
 * @property {string} [last_event_at]
 * @property {string|null} [state] what the lifecycle did to it: `deleted`,
 *   `deleted_for_good`, `archived`, `truncated` (events before
 *   `first_version` removed) or null
 * @property {number} [first_version]
 */

/** The words a stream's lifecycle state shows in the list. */
function lifecycleLabel(row) {
  switch (row.state) {
    case 'deleted': return 'deleted';
    case 'deleted_for_good': return 'deleted for good';
    case 'archived': return 'archived';
    case 'truncated': return `from v${row.first_version}`;
    default: return '';
  }
}

export class StreamList {
  #search = byId('stream-search');
  #typeFilter = byId('stream-type-filter');
  #list = byId('stream-list');
  #more = byId('btn-load-more');
  #status = byId('stream-list-status');
  /** @type {StreamRow[]} rows shown, in natural order of stream_id */
  #rows = [];
  /** Cursor of the next page, or null when every match is shown. */
  #next = null;
  /** Id of the latest request; answers to older ones are dropped. */
  #request = 0;
  #active = null;
  #onOpen;
  #onError;

  /**
   * @param {object} handlers
   * @param {(streamId: string) => void} handlers.onOpen
   * @param {(err: Error, context: string) => void} handlers.onError
   */
  constructor({ onOpen, onError }) {
    this.#onOpen = onOpen;
    this.#onError = onError;
    const search = debounce(() => this.reload(), SEARCH_DELAY_MS);
    this.#search.addEventListener('input', search);
    this.#typeFilter.addEventListener('change', () => {
      search.cancel();
      this.reload();
    });
    this.#more.addEventListener('click', () => this.#loadPage());
    this.#list.addEventListener('click', (event) => {
      const row = event.target.closest('[data-stream-id]');
      if (row) this.#onOpen(row.dataset.streamId);
    });
    // One row is in the Tab order (the open stream's, else the first);
    // ↑/↓ move between rows, Enter opens one. ←/→, Home, End and Space stay
    // the player's: a click on a stream, then the arrows step through it.
    this.#list.addEventListener('keydown', (event) => {
      const row = event.target.closest('[data-stream-id]');
      if (!row) return;
      const rows = [...this.#list.children];
      const i = rows.indexOf(row);
      const to = { ArrowDown: i + 1, ArrowUp: i - 1 }[event.key];
      if (event.key === 'Enter') {
        this.#onOpen(row.dataset.streamId);
      } else if (to !== undefined && rows[to]) {
        event.preventDefault();
        this.#focusable(rows[to]);
        rows[to].focus();
      }
    });
  }

  /** Connects to the server: fills the type filter and the first page. */
  async connect() {
    this.#search.disabled = false;
    this.#typeFilter.disabled = false;
    await Promise.all([this.#loadTypes(), this.reload()]);
  }

  /** Offline: lists only `row` (the stream of an opened file). */
  showOnly(row) {
    this.#request++; // drop answers still under way
    this.#search.disabled = true;
    this.#typeFilter.disabled = true;
    this.#rows = [row];
    this.#next = null;
    this.#render();
  }

  /** The listed row of `streamId`, if it is listed. */
  rowOf(streamId) {
    return this.#rows.find((r) => r.stream_id === streamId);
  }

  /** Highlights the open stream's row. */
  setActive(streamId) {
    this.#active = streamId;
    for (const li of this.#list.children) {
      li.classList.toggle('active', li.dataset.streamId === streamId);
      li.setAttribute('aria-selected', String(li.dataset.streamId === streamId));
    }
    const active = [...this.#list.children].find((li) => li.dataset.streamId === streamId);
    if (active) this.#focusable(active);
  }

  /** Makes `row` the list's one row in the Tab order. */
  #focusable(row) {
    for (const li of this.#list.children) li.tabIndex = li === row ? 0 : -1;
  }

  /** Reloads the list from its first page with the current search and type. */
  async reload() {
    this.#rows = [];
    this.#next = null;
    await this.#loadPage();
  }

  /**
   * A live append: updates the stream's version, or inserts a new stream
   * that matches the search and falls within the rows loaded so far.
   *
   * @param {{stream_id: string, stream_type: string, version: number}} append
   */
  noteAppend({ stream_id: id, stream_type: type, version }) {
    const row = this.#rows.find((r) => r.stream_id === id);
    if (row) {
      if (version > row.version) {
        row.version = version;
        // Written again after a soft delete: it exists, from its new first event.
        if (row.state === 'deleted') row.state = (row.first_version ?? 1) > 1 ? 'truncated' : null;
        const li = this.#list.querySelector(`[data-stream-id="${CSS.escape(id)}"]`);
        const fresh = this.#rowElement(row);
        if (li) fresh.tabIndex = li.tabIndex; // the list's tab stop stays
        li?.replaceWith(fresh);
      }
      return;
    }
    const matches = !this.#search.disabled
      && id.startsWith(this.#search.value.trim())
      && (this.#typeFilter.value === '' || this.#typeFilter.value === type);
    const withinLoaded = this.#next === null || id < this.#next;
    if (!matches || !withinLoaded) return;
    this.#rows.push({ stream_id: id, stream_type: type, version });
    this.#render();
  }

  async #loadTypes() {
    try {
      const types = await api.streamTypes();
      const chosen = this.#typeFilter.value;
      this.#typeFilter.replaceChildren(
        h('option', { value: '', text: 'All stream types' }),
        ...types.map((t) => h('option', {
          value: t.stream_type,
          text: `${t.stream_type} (${t.streams.toLocaleString('en-US')})`,
          title: t.has_reducer ? 'Has a registered reducer' : 'No reducer: states are the default merge',
        })));
      this.#typeFilter.value = types.some((t) => t.stream_type === chosen) ? chosen : '';
    } catch (err) {
      this.#onError(err, 'Loading stream types');
    }
  }

  /** Fetches the next page (or the first, after reload()) and shows it. */
  async #loadPage() {
    const request = ++this.#request;
    const query = {
      prefix: this.#search.value.trim(),
      type: this.#typeFilter.value,
      after: this.#next,
      limit: PAGE_SIZE,
    };
    this.#more.disabled = true;
    this.#status.textContent = 'Loading…';
    try {
      const page = await api.streams(query);
      if (request !== this.#request) return;
      this.#rows.push(...page.streams);
      this.#next = page.next ?? null;
      this.#render();
    } catch (err) {
      if (request !== this.#request) return;
      this.#status.textContent = 'The stream list could not be loaded.';
      this.#onError(err, 'Loading streams');
    } finally {
      if (request === this.#request) this.#more.disabled = false;
    }
  }

  #render() {
    this.#rows.sort(naturally);
    this.#list.replaceChildren(...this.#rows.map((row) => this.#rowElement(row)));
    const active = [...this.#list.children].find((li) => li.dataset.streamId === this.#active);
    if (this.#list.firstElementChild) this.#focusable(active ?? this.#list.firstElementChild);
    this.#more.hidden = this.#next === null;
    this.#status.textContent = this.#rows.length === 0
      ? 'No streams match.'
      : `${count(this.#rows.length, 'stream')}${this.#next === null ? '' : ' shown'}`;
  }

  /** @param {StreamRow} row */
  #rowElement(row) {
    const active = row.stream_id === this.#active;
    const when = row.last_event_at ? `\nlast event ${shortTime(row.last_event_at)}` : '';
    const label = lifecycleLabel(row);
    const state = label
      ? `\n${row.state === 'truncated' ? `truncated: its events before version ${row.first_version} were removed` : label}`
      : '';
    return h('li', {
      class: active ? 'stream-row active' : 'stream-row',
      role: 'option',
      tabindex: '-1',
      'aria-selected': String(active),
      title: `${row.stream_id} — ${row.stream_type}, version ${row.version}${when}${state}`,
      dataset: { streamId: row.stream_id, ...(row.state ? { lifecycle: row.state } : {}) },
    },
    h('span', { class: 'stream-id', text: row.stream_id }),
    h('span', { class: 'stream-type', text: row.stream_type ?? '' }),
    ...(label ? [h('span', { class: 'stream-state', text: label })] : []),
    h('span', { class: 'stream-version', text: String(row.version) }));
  }
}
