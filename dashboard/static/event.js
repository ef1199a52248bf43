/**
 * Event tab: the selected event's envelope, pretty-printed with its exact
 * numbers, with `correlation_id` and `causation_id` as links.
 *
 * Above it, the skip button: "what if this event had not happened"
 * (whatif.js), pressed while the event is skipped.
 *
 * DOM contract: the correlation id is `<a id="correlation-link">`, the
 * causation id `<a id="causation-link">`, the skip button
 * `<button id="skip-event" aria-pressed>`.
 */

import { h } from './dom.js';
import { childPointer } from './json.js';

const INDENT = '  ';

/** Envelope members that link somewhere: pointer → [element id, handler name, tooltip]. */
const LINKS = {
  '/correlation_id': ['correlation-link', 'onCorrelation', 'Show every event with this correlation id, across streams'],
  '/causation_id': ['causation-link', 'onCausation', 'Show the event that caused this one'],
};

/**
 * @param {HTMLElement} container
 * @param {import('./json.js').JsonNode|null} envelope  null for version 0,
 *   or the base of a stream whose first events were removed
 * @param {number} version
 * @param {object} handlers
 * @param {(id: string) => void} handlers.onCorrelation
 * @param {(id: string) => void} handlers.onCausation
 * @param {() => void} handlers.onSkip
 * @param {boolean} skipped  the event is skipped (what if)
 */
export function renderEvent(container, envelope, version, handlers, skipped) {
  if (!envelope) {
    const text = version === 0 ? 'Version 0 is the initial state; it has no event.'
      : `Version ${version} is this stream's base: its events up to it were removed (truncate_stream or retention), and Chronicle kept the state they left.`;
    container.replaceChildren(h('p', { class: 'empty', text }));
    return;
  }
  const pre = h('pre', { class: 'json' });
  writeNode(pre, envelope, '', 0, (path, node) => {
    const link = LINKS[path];
    if (!link || node.kind !== 'string') return null;
    const [id, handler, title] = link;
    return h('a', {
      id, href: '#', class: 'value string link', title,
      onclick: (event) => {
        event.preventDefault();
        handlers[handler](node.value);
      },
    }, node.raw);
  });
  const skip = h('button', {
    id: 'skip-event', type: 'button', class: skipped ? 'skip-button pressed' : 'skip-button',
    'aria-pressed': String(skipped),
    title: 'See the states as if this event had not happened (computed in this browser; nothing is written). Key: S',
    onclick: handlers.onSkip,
  }, skipped ? 'Skipped — show it again' : 'Skip this event (what if it had not happened)');
  container.replaceChildren(h('div', { class: 'event-actions' }, skip), pre);
}

/**
 * Appends the pretty-printed text of `node` to `out`, with scalars in
 * coloured spans; `decorate(path, node)` may supply an element for a scalar.
 */
function writeNode(out, node, path, depth, decorate) {
  const pad = INDENT.repeat(depth + 1);
  const close = INDENT.repeat(depth);
  if (node.kind === 'object') {
    if (node.entries.length === 0) {
      out.append('{}');
      return;
    }
    out.append('{\n');
    node.entries.forEach((entry, i) => {
      out.append(pad, h('span', { class: 'key', text: entry.raw }), ': ');
      writeNode(out, entry.node, childPointer(path, entry.key), depth + 1, decorate);
      out.append(i < node.entries.length - 1 ? ',\n' : '\n');
    });
    out.append(`${close}}`);
  } else if (node.kind === 'array') {
    if (node.items.length === 0) {
      out.append('[]');
      return;
    }
    out.append('[\n');
    node.items.forEach((item, i) => {
      out.append(pad);
      writeNode(out, item, childPointer(path, i), depth + 1, decorate);
      out.append(i < node.items.length - 1 ? ',\n' : '\n');
    });
    out.append(`${close}]`);
  } else {
    out.append(decorate(path, node) ?? h('span', { class: `value ${node.kind}`, text: node.raw }));
  }
}
