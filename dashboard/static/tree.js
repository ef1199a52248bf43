/**
 * Collapsible JSON tree: renders an exact JSON tree (see json.js) with
 * expandable objects and arrays, keeps which paths are expanded while the
 * rendered value changes (scrubbing through versions), and highlights the
 * paths a patch changed.
 *
 * DOM contract: every leaf value is a `<span class="value …"
 * data-path="/pointer">` whose text is the exact JSON text (`1.50`,
 * `"paid"`, `{}`); containers are `<li class="branch" data-node="/pointer">`;
 * a number is followed by `<button class="chart-button" data-chart="/pointer">`
 * (chart it over versions).
 */

import { h } from './dom.js';
import { childPointer, isContainer, sizeOf } from './json.js';

/** Containers down to this depth are open until the user collapses them. */
const AUTO_OPEN_DEPTH = 4;
/** Containers with more members than this start collapsed. */
const AUTO_OPEN_MAX_SIZE = 100;
/** Members rendered per container before a "show more" button. */
const PAGE_SIZE = 500;

/**
 * The paths a JSON Patch touches, for highlighting.
 */
export class ChangeSet {
  /** Paths added or replaced (their whole subtree counts as changed). */
  #changed = new Set();
  /** Proper ancestors of every touched path (including removed ones). */
  #ancestors = new Set();

  /** @param {{op: string, path: string}[]} ops */
  constructor(ops = []) {
    for (const { op, path } of ops) {
      if (op !== 'remove') this.#changed.add(path);
      for (let i = path.lastIndexOf('/'); i >= 0; i = path.lastIndexOf('/', i - 1)) {
        this.#ancestors.add(path.slice(0, i));
        if (i === 0) break;
      }
    }
  }

  /**
   * 'changed' when the path or one of its ancestors was added or replaced,
   * 'contains' when something below it changed, otherwise null.
   *
   * @param {string} path
   * @returns {'changed'|'contains'|null}
   */
  classify(path) {
    if (this.#changed.size) {
      if (this.#changed.has('')) return 'changed';
      for (let i = path.indexOf('/', 1); ; i = path.indexOf('/', i + 1)) {
        if (this.#changed.has(i < 0 ? path : path.slice(0, i))) return 'changed';
        if (i < 0) break;
      }
    }
    return this.#ancestors.has(path) ? 'contains' : null;
  }
}

export class JsonTree {
  /** @type {HTMLElement} */
  #container;
  /** Expansion chosen by the user, by path; other paths use the defaults. */
  #expanded = new Map();
  /** How many members are shown, by path, for containers grown past PAGE_SIZE. */
  #shown = new Map();
  /** @type {import('./json.js').JsonNode|null} */
  #root = null;
  #changes = new ChangeSet();

  #onChart;

  /**
   * @param {HTMLElement} container
   * @param {object} [handlers]
   * @param {(path: string) => void} [handlers.onChart]  a number's chart button was clicked
   */
  constructor(container, { onChart } = {}) {
    this.#container = container;
    this.#onChart = onChart;
    container.addEventListener('click', (event) => this.#onClick(event));
  }

  /**
   * Renders a value, keeping the expansion state of paths seen before.
   *
   * @param {import('./json.js').JsonNode} root
   * @param {ChangeSet} changes
   */
  render(root, changes) {
    this.#root = root;
    this.#changes = changes;
    this.#redraw();
  }

  #redraw() {
    const root = this.#root;
    const list = h('ul', { class: 'tree', role: 'tree' });
    if (isContainer(root) && sizeOf(root) > 0) {
      this.#appendMembers(list, root, '', 0);
    } else {
      list.append(this.#item(null, root, '', 0));
    }
    this.#container.replaceChildren(list);
  }

  /**
   * Appends the `<li>` of each member of a container (up to its page limit).
   */
  #appendMembers(list, node, path, depth) {
    const members = node.kind === 'object'
      ? node.entries.map((e) => [e.key, e.node])
      : node.items.map((item, i) => [i, item]);
    const limit = this.#shown.get(path) ?? PAGE_SIZE;
    for (const [key, child] of members.slice(0, limit)) {
      list.append(this.#item(key, child, childPointer(path, key), depth + 1));
    }
    if (members.length > limit) {
      list.append(h('li', { class: 'more' },
        h('button', { type: 'button', class: 'link-button', dataset: { more: path } },
          `Show ${Math.min(PAGE_SIZE, members.length - limit)} more of ${members.length - limit} hidden`)));
    }
  }

  /**
   * One member: a leaf value or an expandable container.
   *
   * @param {string|number|null} key  null for a scalar root
   */
  #item(key, node, path, depth) {
    const li = h('li', { role: 'treeitem' });
    const change = this.#changes.classify(path);
    if (change) li.classList.add(change === 'changed' ? 'changed' : 'contains-change');

    const label = key === null ? null
      : h('span', { class: typeof key === 'number' ? 'key index' : 'key', text: String(key) });
    const size = sizeOf(node);

    if (!isContainer(node) || size === 0) {
      li.classList.add('leaf');
      const text = node.kind === 'object' ? '{}' : node.kind === 'array' ? '[]' : node.raw;
      li.append(
        label ?? '',
        label ? h('span', { class: 'colon', text: ': ' }) : '',
        h('span', { class: `value ${node.kind}`, dataset: { path }, text }),
      );
      if (node.kind === 'number' && this.#onChart) {
        li.append(h('button', {
          type: 'button', class: 'chart-button', dataset: { chart: path },
          title: 'Chart this number over every version',
          'aria-label': `Chart ${path} over versions`,
        }, 'chart'));
      }
      return li;
    }

    const open = this.#isOpen(path, depth, size);
    li.classList.add('branch');
    if (open) li.classList.add('open');
    li.dataset.node = path;
    li.setAttribute('aria-expanded', String(open));
    const summary = node.kind === 'object' ? `{${size}}` : `[${size}]`;
    li.append(
      h('button', { type: 'button', class: 'toggle', 'aria-label': open ? 'Collapse' : 'Expand', tabindex: '-1' }),
      label ?? '',
      h('span', { class: 'summary', text: summary, title: `${size} ${node.kind === 'object' ? 'members' : 'items'}` }),
    );
    if (open) {
      const children = h('ul', { role: 'group' });
      this.#appendMembers(children, node, path, depth);
      li.append(children);
    }
    return li;
  }

  #isOpen(path, depth, size) {
    return this.#expanded.get(path) ?? (depth <= AUTO_OPEN_DEPTH && size <= AUTO_OPEN_MAX_SIZE);
  }

  /** Toggles a container (click on its arrow, key or summary) or shows more members. */
  #onClick(event) {
    const chart = event.target.closest('[data-chart]');
    if (chart) {
      this.#onChart?.(chart.dataset.chart);
      return;
    }
    const more = event.target.closest('[data-more]');
    if (more) {
      const path = more.dataset.more;
      this.#shown.set(path, (this.#shown.get(path) ?? PAGE_SIZE) + PAGE_SIZE);
      this.#redraw();
      return;
    }
    const handle = event.target.closest('.toggle, .key, .summary');
    const li = handle?.parentElement;
    if (!li?.classList.contains('branch')) return;
    this.#expanded.set(li.dataset.node, !li.classList.contains('open'));
    this.#redraw();
  }
}
