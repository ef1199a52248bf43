/**
 * Diff tab: the RFC 6902 patch from the state before the selected event to
 * the state after it, op by op (add green, remove red, replace amber).
 *
 * The patch comes from `history.diffAt(v)` as JavaScript values, where
 * numbers have lost their exact text (`1.50` → 1.5). Values are therefore
 * looked up by path in the exact trees of the two states; the patch's own
 * value is only a fallback.
 *
 * DOM contract: `.diff-label` says "version N-1 → N"; each op is
 * `<li data-op="replace" data-path="/status">`.
 */

import { h } from './dom.js';
import { nodeAt, stringifyExact } from './json.js';

/**
 * @param {HTMLElement} container
 * @param {object} view
 * @param {number} view.version        the selected version
 * @param {number} view.base           the first version with a state (0, or a truncated stream's base)
 * @param {{op: string, path: string, value?: any}[]} view.ops
 * @param {import('./json.js').JsonNode} view.after   exact state at `version`
 * @param {() => import('./json.js').JsonNode} view.before  exact state at `version - 1` (parsed on demand)
 * @param {string|null} view.skipped  why the event changed nothing, if it
 *   was skipped (by the replay, or by the user: "what if")
 */
export function renderDiff(container, { version, base, ops, after, before, skipped }) {
  if (version === 0) {
    container.replaceChildren(h('p', { class: 'empty', text: 'Version 0 is the initial state; no event has been applied yet.' }));
    return;
  }
  if (version === base) {
    container.replaceChildren(h('p', { class: 'empty', text: `Version ${version} is this stream's base: the events that led to it were removed, so there is no diff to show.` }));
    return;
  }
  // Which two states the patch is between.
  const label = h('p', { class: 'diff-label', text: `version ${version - 1} → ${version}` });
  if (ops.length === 0) {
    const why = skipped ? ` — ${skipped}` : '';
    container.replaceChildren(label, h('p', { class: 'empty no-change', text: `no change${why}` }));
    return;
  }

  // The exact text at `path`, else the patch's value (if it has one).
  const exact = (root, path, fallback) => {
    const node = nodeAt(root, path);
    if (node) return stringifyExact(node);
    return fallback === undefined ? '' : JSON.stringify(fallback);
  };
  const list = h('ul', { class: 'diff' });
  for (const op of ops) {
    const row = h('li', { class: `op op-${op.op}`, dataset: { op: op.op, path: op.path } },
      h('span', { class: 'op-name', text: op.op }),
      h('code', { class: 'op-path', text: op.path === '' ? '(whole state)' : op.path }));
    const values = h('span', { class: 'op-values' });
    if (op.op === 'remove') {
      values.append(h('code', { class: 'old', text: exact(before(), op.path) }));
    } else if (op.op === 'replace') {
      values.append(
        h('code', { class: 'old', text: exact(before(), op.path) }),
        h('span', { class: 'arrow', text: '→' }),
        h('code', { class: 'new', text: exact(after, op.path, op.value) }));
    } else {
      values.append(h('code', { class: 'new', text: exact(after, op.path, op.value) }));
    }
    row.append(values);
    list.append(row);
  }
  container.replaceChildren(label, list);
}
