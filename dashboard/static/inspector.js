/**
 * The inspector: the State / Diff / Event tabs and the failed-step message
 * for the selected version of a history.
 *
 * All three views are rendered on every selection (not only the visible
 * tab) so switching tabs is instant and the DOM always describes the
 * selection.
 */

import { byId, h } from './dom.js';
import { errorParts, failureNote } from './format.js';
import { parseExact } from './json.js';
import { ChangeSet, JsonTree } from './tree.js';
import { renderDiff } from './diff.js';
import { renderEvent } from './event.js';

const TABS = ['state', 'diff', 'event'];
/** Parsed states kept for reuse (the previous version is needed for diffs). */
const STATE_CACHE_SIZE = 4;

export class Inspector {
  #views = {
    state: byId('state-view'),
    diff: byId('diff-view'),
    event: byId('event-view'),
  };
  #stateJson = byId('state-json');
  #failure = byId('failure-message');
  #tree = new JsonTree(this.#views.state);
  #handlers;
  /** Exact parsed states of one history by version (insertion order = age). */
  #cache = new Map();
  #cachedHistory = null;

  /**
   * @param {object} handlers
   * @param {(envelope: object) => void} handlers.onCorrelation  a correlation_id link was clicked
   * @param {(envelope: object) => void} handlers.onCausation    a causation_id link was clicked
   */
  constructor(handlers) {
    this.#handlers = handlers;
    for (const name of TABS) {
      byId(`tab-${name}`).addEventListener('click', () => this.selectTab(name));
    }
    this.selectTab('state');
  }

  /** @param {'state'|'diff'|'event'} name */
  selectTab(name) {
    for (const tab of TABS) {
      const active = tab === name;
      const button = byId(`tab-${tab}`);
      button.classList.toggle('active', active);
      button.setAttribute('aria-selected', String(active));
      this.#views[tab].hidden = !active;
    }
  }

  /**
   * Shows version `v` of `history`.
   *
   * @param {any} history  a chronicle History
   * @param {number} v
   */
  show(history, v) {
    if (history !== this.#cachedHistory) {
      this.#cache.clear();
      this.#cachedHistory = history;
    }
    const base = history.base();
    const failure = v > base ? history.failureAt(v) : undefined;
    this.#showFailure(v, failure);

    let after;
    try {
      const json = history.stateJsonAt(v);
      this.#stateJson.textContent = json;
      after = this.#parsed(v, json);
    } catch (err) {
      this.#stateJson.textContent = '';
      this.#views.state.replaceChildren(errorView('The state could not be computed', err));
      this.#views.diff.replaceChildren(errorView('The diff could not be computed', err));
      this.#renderEvent(history, v, base);
      return;
    }

    let ops = [];
    this.#safely('diff', 'The diff could not be computed', () => {
      ops = v > base ? history.diffAt(v) : [];
      renderDiff(this.#views.diff, {
        version: v,
        base,
        ops,
        after,
        before: () => this.#parsed(v - 1, history.stateJsonAt(v - 1)),
        skipped: failure?.kind === 'reducer',
      });
    });
    this.#tree.render(after, new ChangeSet(ops));
    this.#renderEvent(history, v, base);
  }

  /** Empties every view and shows `message` in the state view (selected). */
  clear(message) {
    this.selectTab('state');
    this.#cache.clear();
    this.#cachedHistory = null;
    this.#stateJson.textContent = '';
    this.#failure.hidden = true;
    this.#views.state.replaceChildren(h('p', { class: 'empty', text: message }));
    this.#views.diff.replaceChildren();
    this.#views.event.replaceChildren();
  }

  #renderEvent(history, v, base) {
    this.#safely('event', 'The event could not be read', () => {
      const envelope = v > base ? parseExact(history.eventJson(v)) : null;
      const plain = () => history.event(v);
      renderEvent(this.#views.event, envelope, v, {
        onCorrelation: () => this.#handlers.onCorrelation(plain()),
        onCausation: () => this.#handlers.onCausation(plain()),
      });
    });
  }

  /** Runs `render`; if it throws, shows the error in the view `name` instead. */
  #safely(name, title, render) {
    try {
      render();
    } catch (err) {
      this.#views[name].replaceChildren(errorView(title, err));
    }
  }

  /** The exact tree of the state at `v`, from the cache or parsed from `json`. */
  #parsed(v, json) {
    let tree = this.#cache.get(v);
    if (tree) {
      this.#cache.delete(v); // re-insert as the newest
    } else {
      tree = parseExact(json);
      if (this.#cache.size >= STATE_CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value);
    }
    this.#cache.set(v, tree);
    return tree;
  }

  /** The red message of a step the replay skipped. */
  #showFailure(v, failure) {
    this.#failure.hidden = !failure;
    if (!failure) {
      this.#failure.replaceChildren();
      return;
    }
    const { code, name, field, message, hint } = errorParts(failure);
    this.#failure.replaceChildren(
      h('strong', { text: `⚠ Version ${v} failed (${failure.kind} error)` }),
      h('div', {},
        code ? h('code', { class: 'code', text: name ? `${code} ${name}` : code }) : null,
        ' ', message),
      field ? h('div', { class: 'field', text: `field: ${field}` }) : null,
      hint ? h('div', { class: 'hint', text: `Hint: ${hint}` }) : null,
      h('div', { class: 'skipped', text: `${capitalised(failureNote(failure.kind))}.` }),
    );
  }
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An inline error inside a view. */
function errorView(title, err) {
  const { code, name, message, hint } = errorParts(err);
  return h('div', { class: 'error-inline' },
    h('strong', { text: title }),
    h('div', {}, code ? h('code', { class: 'code', text: name ? `${code} ${name}` : code }) : null, ' ', message),
    hint ? h('div', { class: 'hint', text: `Hint: ${hint}` }) : null);
}
