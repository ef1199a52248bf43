/**
 * Small DOM helpers shared by the views.
 */

import { errorParts } from './format.js';

/**
 * Creates an element.
 *
 * `props` keys: `class` (class name), `text` (text content), `dataset`
 * (object copied to data-* attributes), `on<event>` (an event listener);
 * any other key becomes an attribute (`true` → empty attribute; `false`,
 * `null` and `undefined` → left out). `children` are nodes or strings;
 * `null`/`undefined`/`false` children are skipped.
 *
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/**
 * The element with this id; throws if index.html lacks it (a programming
 * error, better found at start than as a null later).
 *
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

/**
 * An error shown in place of what could not be shown: `title`, then the
 * error's code (and name), message, DETAIL and hint.
 *
 * DOM contract: `.error-inline[data-code]` with `.message`, `.detail`, `.hint`.
 *
 * @param {string} title  e.g. "The state could not be computed"
 * @param {any} err
 * @param {{className?: string, role?: string}} [options]  an extra class, an ARIA role
 * @returns {HTMLElement}
 */
export function inlineError(title, err, { className = '', role = null } = {}) {
  const { code, name, message, detail, hint } = errorParts(err ?? {});
  return h('div', { class: `error-inline ${className}`.trim(), role, dataset: code ? { code } : {} },
    h('strong', { text: title }),
    h('div', {}, code ? h('code', { class: 'code', text: name ? `${code} ${name}` : code }) : null, code ? ' ' : null,
      h('span', { class: 'message', text: message })),
    detail ? h('div', { class: 'detail', text: detail }) : null,
    hint ? h('div', { class: 'hint', text: `Hint: ${hint}` }) : null);
}
