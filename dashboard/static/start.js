/**
 * The start page (the State tab while no stream is open, connected to a
 * server): the streams written last and the largest ones, so the
 * interesting streams are one click away whatever the list's order.
 *
 * DOM contract: `.start-page` with links `a[data-stream-id]`.
 */

import { api } from './api.js';
import { h } from './dom.js';
import { count, errorParts, shortTime } from './format.js';

/**
 * A start page element; its lists fill in once the server answers.
 *
 * @param {(streamId: string) => void} onOpen
 * @returns {HTMLElement}
 */
export function startPage(onOpen) {
  const recent = h('ol', { class: 'start-list', 'aria-busy': 'true' }, h('li', { class: 'muted', text: 'Loading…' }));
  const largest = h('ol', { class: 'start-list', 'aria-busy': 'true' }, h('li', { class: 'muted', text: 'Loading…' }));
  const page = h('div', { class: 'start-page' },
    h('p', { class: 'empty', text: 'Choose a stream on the left, or open an export file (.ndjson). Or start with one of these:' }),
    h('div', { class: 'start-columns' },
      h('section', { 'aria-labelledby': 'start-recent' }, h('h2', { id: 'start-recent', text: 'Written last' }), recent),
      h('section', { 'aria-labelledby': 'start-largest' }, h('h2', { id: 'start-largest', text: 'Largest' }), largest)));
  const fill = (list, rows, describe) => {
    list.removeAttribute('aria-busy');
    list.replaceChildren(...(rows.length ? rows.map((row) => h('li', {},
      h('a', {
        href: `#stream=${encodeURIComponent(row.stream_id)}`, dataset: { streamId: row.stream_id },
        onclick: (event) => {
          event.preventDefault();
          onOpen(row.stream_id);
        },
      }, row.stream_id),
      h('span', { class: 'muted', text: ` ${row.stream_type} · ${describe(row)}` }))) : [h('li', { class: 'muted', text: 'No streams yet.' })]));
  };
  api.notableStreams().then(({ recent_streams: r, largest_streams: l }) => {
    for (const [list, rows, describe] of [
      [recent, r, (row) => `last event ${shortTime(row.last_event_at)}`],
      [largest, l, (row) => count(row.events, 'event')]]) {
      if (Array.isArray(rows)) fill(list, rows, describe);
      else fail(list, rows?.error ?? rows);
    }
  }, (err) => {
    fail(recent, err);
    fail(largest, err);
  });
  return page;
}

function fail(list, err) {
  const { code, message } = errorParts(err ?? {});
  list.removeAttribute('aria-busy');
  list.replaceChildren(h('li', { class: 'muted', text: `Not available${code ? ` (${code})` : ''}: ${message}` }));
}
