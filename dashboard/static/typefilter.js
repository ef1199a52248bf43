/**
 * Event-type filter: one checkbox per event type of the open stream (from
 * `history.eventTypes()`, with counts). No box checked shows every event;
 * checking boxes limits the timeline to those types.
 *
 * DOM contract: `#event-type-filter input[type=checkbox][value="ItemAdded"]`.
 */

import { h } from './dom.js';

export class TypeFilter {
  #root;
  #onChange;
  /** Checked event types. */
  #checked = new Set();
  /** Event types shown, in order. */
  #names = [];

  /**
   * @param {HTMLElement} root
   * @param {(types: string[]) => void} onChange  called with the checked types ([] = all)
   */
  constructor(root, onChange) {
    this.#root = root;
    this.#onChange = onChange;
    root.addEventListener('change', (event) => {
      const box = event.target.closest('input[type=checkbox]');
      if (!box) return;
      if (box.checked) this.#checked.add(box.value);
      else this.#checked.delete(box.value);
      this.#updateClear();
      this.#onChange(this.selected);
    });
  }

  /** The checked types ([] when the timeline is not filtered). */
  get selected() {
    return [...this.#checked];
  }

  /** Unchecks everything (a new stream was opened) without notifying. */
  reset() {
    this.#checked.clear();
    this.#names = [];
    this.#root.replaceChildren();
  }

  /**
   * Shows the stream's event types with their counts, keeping checked boxes.
   *
   * @param {{event_type: string, count: number}[]} types
   */
  setTypes(types) {
    const names = types.map((t) => t.event_type);
    if (names.join('\n') === this.#names.join('\n')) {
      // Same types, new counts (the stream grew): keep the boxes (and focus).
      this.#root.querySelectorAll('.chip-count').forEach((el, i) => {
        el.textContent = types[i].count.toLocaleString('en-US');
      });
      return;
    }
    this.#names = names;
    const chips = types.map(({ event_type: type, count }) => h('label', { class: 'chip' },
      h('input', { type: 'checkbox', value: type, checked: this.#checked.has(type) }),
      h('span', { class: 'chip-name', text: type }),
      h('span', { class: 'chip-count', text: count.toLocaleString('en-US') })));
    const clear = h('button', {
      type: 'button', class: 'link-button clear-filter', text: 'Show all',
      onclick: () => {
        this.#checked.clear();
        for (const box of this.#root.querySelectorAll('input[type=checkbox]')) box.checked = false;
        this.#updateClear();
        this.#onChange(this.selected);
      },
    });
    this.#root.replaceChildren(...chips, clear);
    this.#updateClear();
  }

  #updateClear() {
    const clear = this.#root.querySelector('.clear-filter');
    if (clear) clear.hidden = this.#checked.size === 0;
  }
}
