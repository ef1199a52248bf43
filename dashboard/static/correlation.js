/**
 * Correlation panel: every event that shares a correlation id, across
 * streams, in feed order. Clicking one opens its stream at its version.
 *
 * DOM contract: `#correlation-panel` with rows `[data-stream-id][data-version]`.
 */

import { api, isAbort } from './api.js';
import { h, inlineError } from './dom.js';
import { count, shortTime } from './format.js';

export class CorrelationPanel {
  #root;
  #onOpen;
  #title = h('h2', { class: 'panel-title' });
  #body = h('div', { class: 'panel-body' });
  /** Aborts the request of a lookup that is no longer shown. */
  #inFlight = null;

  /**
   * @param {HTMLElement} root
   * @param {(streamId: string, version: number) => void} onOpen
   */
  constructor(root, onOpen) {
    this.#root = root;
    this.#onOpen = onOpen;
    root.hidden = true;
    root.replaceChildren(
      h('header', { class: 'panel-header' },
        this.#title,
        h('button', { type: 'button', class: 'panel-close', title: 'Close', 'aria-label': 'Close', text: '×', onclick: () => this.hide() })),
      this.#body);
    const open = (event) => {
      const row = event.target.closest('[data-stream-id][data-version]');
      if (row) this.#onOpen(row.dataset.streamId, Number(row.dataset.version));
    };
    this.#body.addEventListener('click', open);
    this.#body.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') open(event);
    });
  }

  /**
   * Looks up and lists the events of a correlation id.
   *
   * @param {string} correlationId
   * @param {object} marks
   * @param {string} [marks.current]    event_id of the event being inspected
   * @param {string} [marks.highlight]  event_id to point out (the cause)
   */
  async show(correlationId, { current, highlight } = {}) {
    this.#inFlight?.abort();
    const controller = new AbortController();
    this.#inFlight = controller;
    this.#open(`Correlation ${correlationId}`, h('p', { class: 'empty', text: 'Loading…' }));
    try {
      const events = await api.correlation(correlationId, controller.signal);
      this.#body.replaceChildren(this.#list(events, current, highlight));
    } catch (err) {
      if (isAbort(err)) return;
      this.#body.replaceChildren(inlineError('The correlation could not be loaded', err));
    } finally {
      if (this.#inFlight === controller) this.#inFlight = null;
    }
  }

  /** Opens the panel with a message instead of a list. */
  showMessage(title, message) {
    this.#inFlight?.abort();
    this.#inFlight = null;
    this.#open(title, h('p', { class: 'empty', text: message }));
  }

  hide() {
    this.#inFlight?.abort();
    this.#inFlight = null;
    this.#root.hidden = true;
  }

  #open(title, content) {
    this.#title.textContent = title;
    this.#title.title = title;
    this.#body.replaceChildren(content);
    this.#root.hidden = false;
  }

  #list(events, current, highlight) {
    if (events.length === 0) return h('p', { class: 'empty', text: 'No events carry this correlation id.' });
    const streams = new Set(events.map((e) => e.stream_id)).size;
    const rows = events.map((e) => {
      const classes = ['correlation-row'];
      if (e.event_id === current) classes.push('current');
      if (e.event_id === highlight) classes.push('highlight');
      return h('li', {
        class: classes.join(' '),
        tabindex: '0',
        title: `Open ${e.stream_id} at version ${e.version}`,
        dataset: { streamId: e.stream_id, version: String(e.version) },
      },
      h('span', { class: 'corr-stream', text: e.stream_id }),
      h('span', { class: 'corr-version', text: `v${e.version}` }),
      h('span', { class: 'corr-type', text: e.event_type }),
      h('span', { class: 'corr-time', text: shortTime(e.recorded_at), title: e.recorded_at }),
      e.event_id === highlight ? h('span', { class: 'corr-badge', text: 'cause' }) : null,
      e.event_id === current ? h('span', { class: 'corr-badge', text: 'this event' }) : null);
    });
    return h('div', {},
      h('p', { class: 'panel-summary', text: `${count(events.length, 'event')} in ${count(streams, 'stream')}, in feed order` }),
      h('ul', { class: 'correlation-list' }, ...rows));
  }
}
