/**
 * Building a History from NDJSON exports, page by page, so the first
 * states show while the rest of a large stream still loads and folds.
 *
 * A page source gives the export's first part (header line + events) for
 * `chronicle.loadExport`, then further event lines for `history.push`,
 * each continuing at head + 1. Two sources: the server's export endpoint
 * (a small first page, then pages of PAGE_VERSIONS versions, the next one
 * fetched while the current one folds) and an export file's text (chunks
 * of PAGE_VERSIONS lines).
 */

import { api } from './api.js';
import { count } from './format.js';
import { yieldToBrowser } from './timing.js';

/** The first page is small, so the first state shows within moments. */
const FIRST_PAGE_VERSIONS = 2_000;
const PAGE_VERSIONS = 20_000;

/**
 * @typedef {object} PageSource
 * @property {() => Promise<string>} first  export text: the header line and the first events
 * @property {(history: any) => Promise<string|null>} next  event lines continuing at
 *   `history.head() + 1`, or null when there are no more
 * @property {(history: any) => {fraction: number, label: string}} progress
 */

/**
 * Loads a whole history from `source`. `onFirst` receives the History as
 * soon as the first page is folded; from then on it belongs to the caller
 * (who frees it), even if the load is aborted or fails later.
 *
 * @param {any} chronicle  the WebAssembly module
 * @param {PageSource} source
 * @param {object} options
 * @param {AbortSignal} options.signal
 * @param {(history: any) => void} options.onFirst
 * @param {(progress: {fraction: number, label: string}) => void} options.onProgress
 *   after every page
 * @returns {Promise<any>} the History, fully loaded
 */
export async function loadHistory(chronicle, source, { signal, onFirst, onProgress }) {
  const firstPage = await source.first();
  signal.throwIfAborted();
  const history = chronicle.loadExport(firstPage);
  onFirst(history);
  onProgress(source.progress(history));
  for (;;) {
    await yieldToBrowser(); // let the page paint the progress and the state
    signal.throwIfAborted();
    const lines = await source.next(history);
    signal.throwIfAborted();
    if (lines === null) break;
    if (lines.trim()) history.push(lines);
    onProgress(source.progress(history));
  }
  history.checkComplete(); // a file cut short says so (what arrived stays shown)
  return history;
}

/**
 * Pages of a stream from the server's export endpoint. The total is the
 * stream's version when the first page was exported (`header.version`);
 * events appended since are the live tail's job. A stream whose first
 * events were removed (truncate_stream, retention) starts after its base:
 * its export says where (`from_version`, with the base's state), and the
 * pages continue from there.
 *
 * @param {string} streamId
 * @param {AbortSignal} signal
 * @returns {PageSource}
 */
export function serverSource(streamId, signal) {
  const total = (history) => Number(history.header()?.version ?? 0);
  let nextFrom = null; // after the first page: just past its last event
  let prefetched = null;
  /** Starts fetching the next page (null when the header's total is reached). */
  const fetchNext = (all) => {
    if (nextFrom > all) return null;
    const from = nextFrom;
    nextFrom += PAGE_VERSIONS;
    const page = api.exportText(streamId, { from, to: from + PAGE_VERSIONS - 1 }, signal).then(eventLines);
    page.catch(() => {}); // an aborted prefetch is not an error; awaiting it still throws
    return page;
  };
  return {
    async first() {
      const text = await api.exportText(streamId, { from: 1, to: FIRST_PAGE_VERSIONS }, signal);
      // Its events up to from_version - 1 removed: this page held none.
      const from = Number(JSON.parse(splitExport(text)[0]).from_version ?? 1);
      if (from <= FIRST_PAGE_VERSIONS) return text;
      return api.exportText(streamId, { from, to: from + FIRST_PAGE_VERSIONS - 1 }, signal);
    },
    async next(history) {
      nextFrom ??= history.head() + 1;
      const all = total(history);
      const current = prefetched ?? fetchNext(all);
      if (current === null) return null;
      prefetched = fetchNext(all); // fetched while the caller folds this page
      const lines = await current;
      return lines.trim() ? lines : null; // nothing more, though the header promised it
    },
    progress(history) {
      const base = history.base();
      const all = total(history) - base;
      const loaded = history.head() - base;
      return {
        fraction: all > 0 ? loaded / all : 1,
        label: `Loading ${streamId}: ${loaded.toLocaleString('en-US')} of ${count(all, 'event')}`,
      };
    },
  };
}

/**
 * Chunks of an export file's text.
 *
 * @param {string} text  the whole file
 * @param {string} name  the file's name, for the progress label
 * @returns {PageSource}
 */
export function fileSource(text, name) {
  let offset = 0; // start of the first line not handed out yet
  const take = (lines) => {
    const start = offset;
    offset = afterLines(text, offset, lines);
    return text.slice(start, offset);
  };
  return {
    first: async () => take(1 + PAGE_VERSIONS),
    next: async () => (offset < text.length ? take(PAGE_VERSIONS) : null),
    progress: (history) => ({
      fraction: text.length > 0 ? offset / text.length : 1,
      label: `Reading ${name}: ${count(history.head(), 'event')} folded`,
    }),
  };
}

/**
 * New events of a stream after `head` (the live tail), as event lines
 * ("" when there are none).
 *
 * @param {string} streamId
 * @param {number} head
 * @returns {Promise<string>}
 */
export async function fetchEventsAfter(streamId, head) {
  return eventLines(await api.exportText(streamId, { from: head + 1 }));
}

/** An export's header line and its event lines (everything after it). */
function splitExport(exportText) {
  const newline = exportText.indexOf('\n');
  return newline < 0 ? [exportText, ''] : [exportText.slice(0, newline), exportText.slice(newline + 1)];
}

/** An export's event lines. */
function eventLines(exportText) {
  return splitExport(exportText)[1];
}

/** The index just past `lines` more lines of `text` from `start`. */
function afterLines(text, start, lines) {
  let pos = start;
  for (let i = 0; i < lines && pos < text.length; i++) {
    const newline = text.indexOf('\n', pos);
    pos = newline < 0 ? text.length : newline + 1;
  }
  return pos;
}
