/**
 * The banner under the top bar: errors of failed requests or loads (code,
 * message, field, hint) and notices with actions (e.g. "the server could
 * not be reached — open an export file").
 *
 * DOM contract: `#error-banner`.
 */

import { h } from './dom.js';
import { errorParts } from './format.js';

export class Banner {
  #root;

  /** @param {HTMLElement} root */
  constructor(root) {
    this.#root = root;
    root.hidden = true;
  }

  /**
   * Shows an error.
   *
   * @param {any} err
   * @param {string} context  what was being done, e.g. "Opening order-001"
   */
  error(err, context) {
    const { code, name, field, message, hint, detail } = errorParts(err);
    this.#show('error',
      h('strong', { text: `${context} failed` }),
      code ? h('code', { class: 'code', text: name ? `${code} ${name}` : code }) : null,
      h('span', { class: 'message', text: message }),
      field ? h('span', { class: 'field', text: `field: ${field}` }) : null,
      detail ? h('span', { class: 'detail', text: detail }) : null,
      hint ? h('span', { class: 'hint', text: `Hint: ${hint}` }) : null);
  }

  /**
   * Shows a notice with buttons.
   *
   * @param {string} text
   * @param {{label: string, onClick: () => void}[]} [actions]
   */
  notice(text, actions = []) {
    this.#show('notice',
      h('span', { class: 'message', text }),
      ...actions.map(({ label, onClick }) => h('button', { type: 'button', class: 'banner-action', text: label, onclick: onClick })));
  }

  clear() {
    this.#root.hidden = true;
    this.#root.replaceChildren();
  }

  #show(kind, ...parts) {
    this.#root.dataset.kind = kind;
    this.#root.replaceChildren(
      h('div', { class: 'banner-body' }, ...parts),
      h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss', title: 'Dismiss', text: '×', onclick: () => this.clear() }));
    this.#root.hidden = false;
  }
}
