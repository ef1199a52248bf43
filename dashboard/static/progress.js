/**
 * The progress bar shown while a stream loads and folds.
 *
 * DOM contract: `#progress` is hidden when idle.
 */

import { h } from './dom.js';

export class Progress {
  #root;
  #fill = h('div', { class: 'progress-fill' });
  #label = h('span', { class: 'progress-label' });

  /** @param {HTMLElement} root */
  constructor(root) {
    this.#root = root;
    root.setAttribute('role', 'progressbar');
    root.setAttribute('aria-valuemin', '0');
    root.setAttribute('aria-valuemax', '100');
    root.replaceChildren(h('div', { class: 'progress-track' }, this.#fill), this.#label);
    root.hidden = true;
  }

  /**
   * @param {number|null} fraction  0..1, or null when the amount is unknown
   * @param {string} label
   */
  show(fraction, label) {
    const indeterminate = fraction === null;
    this.#root.classList.toggle('indeterminate', indeterminate);
    if (indeterminate) {
      this.#root.removeAttribute('aria-valuenow');
      this.#fill.style.width = '';
    } else {
      const percent = Math.round(Math.min(Math.max(fraction, 0), 1) * 100);
      this.#root.setAttribute('aria-valuenow', String(percent));
      this.#fill.style.width = `${percent}%`;
    }
    this.#label.textContent = label;
    this.#root.hidden = false;
  }

  hide() {
    this.#root.hidden = true;
  }
}
