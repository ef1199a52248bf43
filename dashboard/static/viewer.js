/**
 * The stream viewer: the open History and the selected version. It owns
 * the timeline, its filters (event types, text search), the player and the
 * skipped events (what if), and shows the selection in the inspector.
 *
 * Following: when the selection is at the head and the history grows (the
 * next page of a large stream, or the live tail), the selection moves to
 * the new head. A requested version not loaded yet (a deep link into a
 * large stream) is selected as soon as its page is in.
 */

import { byId, h } from './dom.js';
import { count } from './format.js';
import { Player } from './player.js';
import { debounce } from './timing.js';
import { Timeline } from './timeline.js';
import { TypeFilter } from './typefilter.js';
import { VersionSet } from './versions.js';
import { Skips } from './whatif.js';

const SEARCH_DELAY_MS = 200;

/** Timeline row height in px; style.css sets the same. */
const ROW_HEIGHT = 28;
const NOTHING_OPEN = 'Choose a stream on the left, or open an export file (.ndjson).';

export class Viewer {
  #history = null;
  #streamId = null;
  #selected = 0;
  /** Head at the last refresh (what the timeline and player show). */
  #head = 0;
  /** The first version with a state: 0, or the base of a stream whose
   * first events were removed (truncate_stream, retention). */
  #base = 0;
  #rows = VersionSet.range(0);
  /** version → kind of the (first) marked step: "reducer", "validation", … */
  #failed = new Map();
  /** A requested version beyond the loaded head, or null. */
  #pendingVersion = null;
  #inspector;
  #onChange;
  #timeline;
  #typeFilter;
  #player;
  #eventCount = byId('event-count');
  #search = byId('event-search');
  #whatIf = byId('what-if');
  #skips;

  /**
   * @param {object} parts
   * @param {import('./inspector.js').Inspector} parts.inspector
   * @param {() => void} parts.onChange  the stream, selection or head changed
   * @param {() => (a: string, b: string) => any[]} parts.diff  the core's diff, once loaded
   */
  constructor({ inspector, onChange, diff }) {
    this.#inspector = inspector;
    this.#onChange = onChange;
    this.#skips = new Skips(diff);
    const search = debounce(() => this.#filterChanged(), SEARCH_DELAY_MS);
    this.#search.addEventListener('input', search);
    this.#search.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.#search.value) {
        this.#search.value = '';
        search.cancel();
        this.#filterChanged();
      } else if (event.key === 'Enter') {
        search.cancel();
        this.#filterChanged();
        // The next match after the selection (from the first, past the last).
        const next = this.#rows.after(this.#selected) ?? this.#rows.after(this.#base - 1);
        if (next !== null) this.select(next);
      }
    });
    this.#timeline = new Timeline(byId('timeline'), {
      rowHeight: ROW_HEIGHT,
      describe: (v) => ({
        type: this.#history.eventType(v),
        time: this.#history.recordedAt(v) ?? '',
        failed: this.#failed.get(v) ?? null,
        skipped: this.#skips.has(v),
      }),
      onSelect: (v) => {
        this.#player.pause();
        this.select(v);
      },
    });
    this.#typeFilter = new TypeFilter(byId('event-type-filter'), () => this.#filterChanged());
    this.#player = new Player({
      first: () => this.select(this.#base),
      prev: () => this.#step(this.#rows.before(this.#selected) ?? (this.#selected > this.#base ? this.#base : null)),
      next: () => this.#step(this.#rows.after(this.#selected)),
      last: () => this.select(this.#rows.last ?? this.#head),
      seek: (v) => this.select(v),
      atEnd: () => this.#rows.after(this.#selected) === null,
      skip: () => this.toggleSkip(this.#selected),
      search: () => this.#search.focus(),
    });
    this.#inspector.clear(NOTHING_OPEN);
    this.#player.update(0, 0, false);
  }

  /** The open History (null when none is open). */
  get history() {
    return this.#history;
  }

  get streamId() {
    return this.#streamId;
  }

  get selected() {
    return this.#selected;
  }

  get head() {
    return this.#head;
  }

  get base() {
    return this.#base;
  }

  /**
   * Shows a newly loaded history (freeing the previous one).
   *
   * @param {any} history
   * @param {string} streamId
   * @param {number|null} version  version to select; null: the head, following it
   */
  open(history, streamId, version) {
    this.#player.pause();
    if (this.#history && this.#history !== history) this.#history.free();
    this.#history = history;
    this.#streamId = streamId;
    this.#typeFilter.reset();
    this.#search.value = '';
    this.#skips.clear();
    this.#showWhatIf();
    this.#refresh();
    this.#pendingVersion = version !== null && version > this.#head ? version : null;
    this.#show(version === null ? this.#head : this.#clamp(version));
  }

  /** Events were pushed onto the open history. */
  grew() {
    if (!this.#history) return;
    const wasAtHead = this.#selected === this.#head;
    this.#refresh();
    if (this.#pendingVersion !== null) {
      const target = Math.min(this.#pendingVersion, this.#head);
      if (target === this.#pendingVersion) this.#pendingVersion = null;
      this.#show(target);
    } else if (wasAtHead) {
      this.#show(this.#head);
    } else {
      this.#updateControls();
    }
  }

  /**
   * Closes the open history (freeing it); `message` (default: how to open
   * one) shows where the state was.
   */
  close(message = NOTHING_OPEN) {
    this.#player.pause();
    this.#history?.free();
    this.#history = null;
    this.#streamId = null;
    this.#selected = 0;
    this.#head = 0;
    this.#base = 0;
    this.#pendingVersion = null;
    this.#failed = new Map();
    this.#typeFilter.reset();
    this.#search.value = '';
    this.#skips.clear();
    this.#showWhatIf();
    this.#rows = VersionSet.range(0);
    this.#timeline.setRows(this.#rows, '');
    this.#inspector.clear(message);
    this.#updateControls();
  }

  /** Selects a version (clamped to base..head). */
  select(version) {
    if (!this.#history) return;
    this.#pendingVersion = null;
    this.#show(this.#clamp(version));
  }

  /**
   * Skips the event at `version` (what if it had not happened), or shows
   * it again; the states are recomputed, nothing is written.
   */
  toggleSkip(version) {
    if (!this.#history || version <= this.#base || version > this.#head) return;
    this.#skips.toggle(version);
    this.#showWhatIf();
    this.#timeline.refresh();
    this.#show(this.#selected);
  }

  /** The skipped versions (ascending). */
  get skipped() {
    return this.#skips.versions;
  }

  /** The what-if bar: which events are skipped, and a way back. */
  #showWhatIf() {
    const versions = this.#skips.versions;
    this.#whatIf.hidden = versions.length === 0;
    if (versions.length === 0) {
      this.#whatIf.replaceChildren();
      return;
    }
    this.#whatIf.replaceChildren(
      h('strong', { text: 'What if' }),
      h('span', { text: ` ${versions.length === 1 ? 'event' : 'events'} ` }),
      ...versions.flatMap((v, i) => [i ? ', ' : '', h('button', {
        type: 'button', class: 'link-button', title: `Go to version ${v}`,
        onclick: () => this.select(v),
      }, String(v))]),
      h('span', { text: ' had not happened: the states are computed in this browser; nothing is written. ' }),
      h('button', { type: 'button', class: 'what-if-clear', onclick: () => this.#clearSkips() }, 'Show every event'));
  }

  #clearSkips() {
    this.#skips.clear();
    this.#showWhatIf();
    this.#timeline.refresh();
    if (this.#history) this.#show(this.#selected);
  }

  /** `version` as one there is a state for: base..head. */
  #clamp(version) {
    return Math.min(Math.max(Math.trunc(version) || 0, this.#base), this.#head);
  }

  /**
   * The browser's canonical state text, or null when `streamId`/`version`
   * is not what is open (any more).
   */
  stateJson(streamId, version) {
    if (!this.#history || streamId !== this.#streamId || version > this.#head || version < this.#base) return null;
    return this.#history.stateJsonAt(version);
  }

  /** Selects `version` if there is one; false when there is not. */
  #step(version) {
    if (version === null) return false;
    this.select(version);
    return true;
  }

  #show(version) {
    this.#selected = version;
    this.#inspector.show(this.#history, version, this.#skips.view(this.#history));
    this.#timeline.setSelected(version);
    this.#updateControls();
  }

  /** Re-reads head, failures, event types and the listed rows from the history. */
  #refresh() {
    const history = this.#history;
    this.#head = history.head();
    this.#base = history.base();
    this.#failed = new Map();
    for (const f of history.failures()) if (!this.#failed.has(f.version)) this.#failed.set(f.version, f.kind);
    this.#typeFilter.setTypes(history.eventTypes());
    this.#listRows();
  }

  /** The timeline's rows: the events of the checked types that match the search. */
  #listRows() {
    const types = this.#typeFilter.selected;
    const text = this.#search.value.trim();
    let versions = types.length ? this.#history.versionsOf(types) : null;
    if (text) {
      const found = this.#history.versionsMatching(text);
      versions = versions === null ? found : intersect(versions, found);
    }
    this.#rows = versions === null ? VersionSet.range(this.#head, this.#base) : VersionSet.of(versions);
    const why = text && types.length ? 'No events of the chosen types match the search.'
      : text ? `No event mentions "${text}".` : 'No events of the chosen types.';
    this.#timeline.setRows(this.#rows, this.#rows.filtered ? why : 'This stream has no events.');
  }

  #filterChanged() {
    if (!this.#history) return;
    this.#listRows();
    this.#timeline.setSelected(this.#selected);
    this.#updateControls();
  }

  #updateControls() {
    const open = this.#history !== null;
    this.#player.update(this.#selected, this.#head, open, this.#base);
    const held = this.#head - this.#base;
    this.#eventCount.textContent = !open ? ''
      : this.#rows.filtered ? `${this.#rows.count.toLocaleString('en-US')} of ${count(held, 'event')}`
        : count(held, 'event');
    this.#onChange();
  }
}

/** The members of two ascending version lists found in both. */
function intersect(a, b) {
  const out = [];
  let j = 0;
  for (const v of a) {
    while (j < b.length && b[j] < v) j++;
    if (j < b.length && b[j] === v) out.push(v);
  }
  return Uint32Array.from(out);
}
