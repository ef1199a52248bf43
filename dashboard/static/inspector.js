/**
 * The inspector: the State / Diff / Event / Chart tabs and the failed-step
 * message for the selected version of a history, as recorded or as if the
 * skipped events had not happened (whatif.js).
 *
 * State, diff and event are rendered on every selection (not only the
 * visible tab) so switching tabs is instant and the DOM always describes
 * the selection; the chart follows the selection with its marker.
 */

import { byId, h, inlineError } from './dom.js';
import { errorParts, failureNote } from './format.js';
import { parseExact } from './json.js';
import { ChangeSet, JsonTree } from './tree.js';
import { MemberChart } from './chart.js';
import { renderDiff } from './diff.js';
import { renderEvent } from './event.js';

const TABS = ['state', 'diff', 'event', 'chart'];
/** Parsed states kept for reuse (the previous version is needed for diffs). */
const STATE_CACHE_SIZE = 4;

export class Inspector {
  #views = {
    state: byId('state-view'),
    diff: byId('diff-view'),
    event: byId('event-view'),
    chart: byId('chart-view'),
  };
  #stateJson = byId('state-json');
  #failure = byId('failure-message');
  #tree;
  #chart;
  #handlers;
  /** The history and version shown (the chart's). */
  #history = null;
  #version = 0;
  /** Exact parsed states of one history by version (insertion order = age). */
  #cache = new Map();
  #cachedHistory = null;

  /**
   * @param {object} handlers
   * @param {(envelope: object) => void} handlers.onCorrelation  a correlation_id link was clicked
   * @param {(envelope: object) => void} handlers.onCausation    a causation_id link was clicked
   * @param {(version: number) => void} handlers.onSkip  the skip button of an event was pressed
   * @param {(version: number) => void} handlers.onSelect  a version was chosen on the chart
   */
  constructor(handlers) {
    this.#handlers = handlers;
    this.#tree = new JsonTree(this.#views.state, { onChart: (path) => this.chart(path) });
    this.#chart = new MemberChart(this.#views.chart, { onSelect: handlers.onSelect });
    TABS.forEach((name, i) => {
      const tab = byId(`tab-${name}`);
      tab.setAttribute('aria-controls', this.#views[name].id);
      tab.addEventListener('click', () => this.selectTab(name));
      // Arrow keys move between the tabs (the WAI-ARIA tabs pattern).
      tab.addEventListener('keydown', (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        event.preventDefault();
        event.stopPropagation();
        const next = TABS[(i + step + TABS.length) % TABS.length];
        this.selectTab(next);
        byId(`tab-${next}`).focus();
      });
    });
    this.selectTab('state');
  }

  /** @param {'state'|'diff'|'event'|'chart'} name */
  selectTab(name) {
    for (const tab of TABS) {
      const active = tab === name;
      const button = byId(`tab-${tab}`);
      button.classList.toggle('active', active);
      button.setAttribute('aria-selected', String(active));
      button.tabIndex = active ? 0 : -1;
      this.#views[tab].hidden = !active;
    }
  }

  /** Charts a numeric member of the state over versions (Chart tab). */
  chart(member) {
    if (!this.#history) return;
    this.selectTab('chart');
    this.#chart.show(this.#history, member, this.#version);
  }

  /**
   * Shows version `v` of `recorded`, as `history` tells it (the history
   * itself, or a what-if view of it: whatif.js).
   *
   * @param {any} recorded  a chronicle History
   * @param {number} v
   * @param {any} [history]  what to read states from (default: `recorded`)
   */
  show(recorded, v, history = recorded) {
    if (history !== this.#cachedHistory) {
      this.#cache.clear();
      this.#cachedHistory = history;
    }
    if (recorded !== this.#history) this.#chart.clear();
    this.#history = recorded;
    this.#version = v;
    this.#chart.update(recorded, v);
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
      this.#views.state.replaceChildren(inlineError('The state could not be computed', err));
      this.#views.diff.replaceChildren(inlineError('The diff could not be computed', err));
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
        skipped: history.skipped?.(v) ? 'skipped: what if it had not happened'
          : failure?.kind === 'reducer' ? 'the replay skipped this event' : null,
      });
    });
    this.#tree.render(after, new ChangeSet(ops));
    this.#renderEvent(history, v, base);
  }

  /** Empties every view and shows `message` (text, or an element) in the state view (selected). */
  clear(message) {
    this.selectTab('state');
    this.#cache.clear();
    this.#cachedHistory = null;
    this.#history = null;
    this.#chart.clear();
    this.#stateJson.textContent = '';
    this.#failure.hidden = true;
    this.#views.state.replaceChildren(typeof message === 'string' ? h('p', { class: 'empty', text: message }) : message);
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
        onSkip: () => this.#handlers.onSkip(v),
      }, history.skipped?.(v) ?? false);
    });
  }

  /** Runs `render`; if it throws, shows the error in the view `name` instead. */
  #safely(name, title, render) {
    try {
      render();
    } catch (err) {
      this.#views[name].replaceChildren(inlineError(title, err));
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
