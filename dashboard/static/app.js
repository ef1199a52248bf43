/**
 * Chronicle time-travel dashboard — entry point.
 *
 * Wires the modules together and owns what spans them:
 * - the mode: "live" when the server answers (stream list, live tail,
 *   database check), "offline" when it does not or an export file was
 *   opened (everything works from the file, nothing is fetched);
 * - opening a stream (from the server, page by page) or a file;
 * - following the open stream's live tail;
 * - the URL hash, the top bar, and the hooks for automated tests
 *   (`window.chronicleDashboard`, `body[data-loaded]`).
 */

import { api, isAbort } from './api.js';
import { Banner } from './banner.js';
import { CorrelationPanel } from './correlation.js';
import { DbCheck } from './dbcheck.js';
import { byId, h } from './dom.js';
import { bindFileOpening, downloadText } from './files.js';
import { count, errorParts } from './format.js';
import { HashWriter, readHash } from './hash.js';
import { Inspector } from './inspector.js';
import { subscribeLive } from './live.js';
import { fetchEventsAfter, fileSource, loadHistory, serverSource } from './loader.js';
import { KEYS } from './player.js';
import { Progress } from './progress.js';
import { startPage } from './start.js';
import { StreamList } from './streams.js';
import { Viewer } from './viewer.js';
import { loadChronicle } from './wasm.js';

const ui = {
  mode: byId('mode'),
  live: byId('live-indicator'),
  liveText: byId('live-text'),
  server: byId('server-info'),
  title: byId('stream-title'),
  connect: byId('btn-connect'),
  open: byId('btn-open'),
  fileInput: byId('file-input'),
  exportButton: byId('btn-export'),
};

/** Page-wide state. */
const page = {
  /** The WebAssembly module, once loaded. */
  chronicle: null,
  /** 'live' (the server answers) or 'offline'. */
  mode: 'offline',
  /** Unsubscribes from /api/live (null when not subscribed). */
  stopLive: null,
  /** The load under way: {controller, streamId} (streamId null until a file's header is read). */
  loading: null,
  /** Export header of the open stream. */
  header: null,
  /** Live tail of the open stream: newest version announced, and whether a fetch is under way. */
  tail: { wanted: 0, running: false },
};

const banner = new Banner(byId('error-banner'));
const progress = new Progress(byId('progress'));
const hashWriter = new HashWriter();
const correlation = new CorrelationPanel(byId('correlation-panel'), (streamId, version) => openStream(streamId, version));
const inspector = new Inspector({
  onCorrelation: showCorrelation,
  onCausation: showCause,
  onSkip: (version) => viewer.toggleSkip(version),
  onSelect: (version) => viewer.select(version),
});
const viewer = new Viewer({ inspector, onChange: viewChanged, diff: () => page.chronicle.diff });
const streams = new StreamList({
  onOpen: (streamId) => {
    correlation.hide(); // it belongs to the stream being left
    openStream(streamId);
  },
  onError: (err, context) => banner.error(err, context),
});
const dbCheck = new DbCheck(byId('db-check'), (streamId, version) => viewer.stateJson(streamId, version));

// ---------------------------------------------------------------- modes

function setMode(mode) {
  page.mode = mode;
  ui.mode.textContent = mode;
  ui.mode.dataset.mode = mode;
  document.body.dataset.mode = mode;
  ui.connect.hidden = mode === 'live';
  if (mode === 'offline') {
    page.stopLive?.();
    page.stopLive = null;
    ui.live.hidden = true;
    ui.server.textContent = '';
    dbCheck.hide();
  }
}

/** Live mode: stream list, live feed. */
async function goLive(info) {
  setMode('live');
  ui.server.textContent = `${info.database} · Chronicle ${info.chronicle_version}`;
  ui.live.hidden = false;
  showLiveStatus('connecting');
  page.stopLive = subscribeLive({ onAppend, onStatus: showLiveStatus, onMissed: catchUp });
  await streams.connect();
}

/** Says the server could not be reached and offers offline mode. */
function offerOffline(err) {
  const { code, message } = errorParts(err);
  const reason = code === 'network'
    ? 'The Chronicle server could not be reached.'
    : `The Chronicle server did not answer as expected (${code ? `${code}: ` : ''}${message}).`;
  banner.notice(
    `${reason} The dashboard works offline: open an export file (.ndjson), or drop one on the page.`,
    [
      { label: 'Open export…', onClick: () => ui.fileInput.click() },
      { label: 'Retry', onClick: connect },
    ]);
}

/** (Re)connects to the server; an open file's stream is closed, as it is not the server's. */
async function connect() {
  let info;
  try {
    info = await api.info();
  } catch (err) {
    offerOffline(err);
    return;
  }
  banner.clear();
  page.loading?.controller.abort();
  page.loading = null;
  progress.hide();
  page.header = null;
  delete document.body.dataset.loaded;
  viewer.close();
  await goLive(info);
  showStart();
}

// ------------------------------------------------------------ opening

/**
 * Opens a stream from the server, page by page (or, if it is open, selects
 * `version`).
 *
 * @param {string} streamId
 * @param {number|null} [version]  null: the head
 */
async function openStream(streamId, version = null) {
  if (streamId === (page.loading ? page.loading.streamId : viewer.streamId)) {
    if (version !== null && viewer.streamId === streamId) viewer.select(version);
    return;
  }
  if (page.mode !== 'live') {
    banner.error(new Error(`Only the opened file's stream can be shown offline; connect to the server to open ${streamId}.`),
      `Opening ${streamId}`);
    return;
  }
  if (!haveChronicle(`Opening ${streamId}`)) return;

  page.loading?.controller.abort();
  const listed = streams.rowOf(streamId);
  if (listed?.state === 'deleted' || listed?.state === 'deleted_for_good') {
    showDeleted(listed);
    return;
  }
  const controller = new AbortController();
  page.loading = { controller, streamId };
  performance.clearMarks();
  performance.mark('chronicle:open'); // the benchmark measures from here
  page.tail.wanted = 0;
  delete document.body.dataset.loaded;
  streams.setActive(streamId);
  progress.show(null, `Loading ${streamId}…`);
  try {
    await loadHistory(page.chronicle, serverSource(streamId, controller.signal), {
      signal: controller.signal,
      onFirst: (history) => adopt(history, streamId, version),
      onProgress: ({ fraction, label }) => {
        progress.show(fraction, label);
        viewer.grew();
      },
    });
    finishLoad(controller, true);
    followTail();
  } catch (err) {
    if (isAbort(err)) return;
    finishLoad(controller, false);
    banner.error(err, `Opening ${streamId}`);
    if (viewer.streamId !== streamId) {
      // Nothing of it came: the stream open before must not stay beneath
      // the banner, where it would read as the one asked for.
      correlation.hide();
      page.header = null;
      viewer.close(`${streamId} could not be opened: the message above says why.`);
    }
    streams.setActive(viewer.streamId); // the first page may never have come
  }
}

/**
 * A deleted stream has no events to show: says what happened to it instead
 * (its version stays: appending again continues it, unless it was deleted
 * for good).
 *
 * @param {{stream_id: string, stream_type: string, version: number, state: string}} row
 */
function showDeleted(row) {
  page.loading = null;
  progress.hide();
  page.header = null;
  const forGood = row.state === 'deleted_for_good';
  viewer.close(`${row.stream_id} was deleted${forGood ? ' for good' : ''} at version ${row.version}: `
    + `its events were removed (delete_stream). ${forGood
      ? 'Its id can never be written again.'
      : `Appending to it again continues at version ${row.version + 1}.`}`);
  streams.setActive(row.stream_id);
  ui.title.replaceChildren(...h('div', {},
    h('span', { class: 'title-id deleted', text: row.stream_id }),
    row.stream_type ? h('span', { class: 'title-type', text: row.stream_type }) : null,
    h('span', { class: 'title-meta', text: `deleted${forGood ? ' for good' : ''} at version ${row.version}` })).childNodes);
  document.body.dataset.loaded = `${row.stream_id}@deleted`;
}

/**
 * Opens an export file (offline mode). The page switches to offline mode
 * once the file's first part is folded; a file that cannot be read leaves
 * the mode and the open stream as they were (a load under way stops).
 *
 * @param {File} file
 */
async function openFile(file) {
  if (!haveChronicle(`Opening ${file.name}`)) return;
  page.loading?.controller.abort();
  const controller = new AbortController();
  page.loading = { controller, streamId: null };
  progress.show(null, `Reading ${file.name}…`);
  try {
    const text = await file.text();
    controller.signal.throwIfAborted();
    await loadHistory(page.chronicle, fileSource(text, file.name), {
      signal: controller.signal,
      onFirst: (history) => {
        const streamId = history.header()?.stream_id ?? file.name.replace(/\.[^.]*$/, '');
        page.loading.streamId = streamId;
        setMode('offline');
        delete document.body.dataset.loaded;
        correlation.hide();
        adopt(history, streamId, null);
        listFileStream();
      },
      onProgress: ({ fraction, label }) => {
        progress.show(fraction, label);
        viewer.grew();
        listFileStream();
      },
    });
    finishLoad(controller, true);
  } catch (err) {
    if (isAbort(err)) return;
    finishLoad(controller, false);
    banner.error(err, `Opening ${file.name}`);
  }
}

/**
 * Makes a freshly loaded history (first page in) the open one, selecting
 * `version` (null: the head) once it is loaded; a version beyond the
 * stream's is taken as its last.
 */
function adopt(history, streamId, version) {
  banner.clear();
  page.header = history.header();
  const total = Number(page.header?.version ?? history.head());
  viewer.open(history, streamId, version === null ? null : Math.min(version, total));
  performance.mark('chronicle:first-state');
}

/** Whether the WebAssembly module is loaded; if not, says so on the banner. */
function haveChronicle(context) {
  if (!page.chronicle) banner.error(new Error('The Chronicle WebAssembly module is not loaded; reload the page.'), context);
  return page.chronicle !== null;
}

/**
 * Ends the load `controller` belongs to (if it is still the current one);
 * `complete`: every page is in.
 */
function finishLoad(controller, complete) {
  if (page.loading?.controller !== controller) return;
  page.loading = null;
  progress.hide();
  if (complete) markLoaded();
}

/** Tells automated tests which stream is fully loaded, up to which version. */
function markLoaded() {
  performance.mark('chronicle:loaded');
  document.body.dataset.loaded = `${viewer.streamId}@${viewer.head}`;
}

/** Offline, the stream list shows the file's stream. */
function listFileStream() {
  streams.showOnly({ stream_id: viewer.streamId, stream_type: page.header?.stream_type ?? '', version: viewer.head });
  streams.setActive(viewer.streamId);
}

// ----------------------------------------------------------- live tail

/** @param {import('./live.js').Append} append */
function onAppend(append) {
  if (page.mode !== 'live') return;
  ui.live.classList.add('pulse'); // removed when the animation ends
  streams.noteAppend(append);
  // The open stream, or the one loading (its load ends with followTail).
  if (append.stream_id === (page.loading ? page.loading.streamId : viewer.streamId)) {
    page.tail.wanted = Math.max(page.tail.wanted, append.version);
    followTail();
  }
}

/**
 * Fetches and pushes the open stream's events beyond its head while the
 * live feed has announced newer versions. One fetch at a time; waits while
 * a stream is loading (the load calls it when done).
 */
async function followTail() {
  const { tail } = page;
  if (tail.running || page.loading || page.mode !== 'live' || !viewer.history) return;
  tail.running = true;
  const history = viewer.history;
  const streamId = viewer.streamId;
  try {
    while (viewer.history === history && !page.loading && page.mode === 'live' && tail.wanted > history.head()) {
      const lines = await fetchEventsAfter(streamId, history.head());
      if (viewer.history !== history || page.loading || !lines.trim()) break;
      history.push(lines);
      viewer.grew();
      markLoaded();
    }
  } catch (err) {
    banner.error(err, `Following ${streamId}`);
  } finally {
    tail.running = false;
  }
  // Another stream was opened meanwhile: its own announcements may be waiting.
  if (viewer.history !== history) followTail();
}

/** Appends may have been missed (the feed reconnected): ask for the open stream's version. */
async function catchUp() {
  const streamId = viewer.streamId;
  if (!streamId || page.mode !== 'live') return;
  try {
    const { streams: rows } = await api.streams({ prefix: streamId, limit: 1 });
    const row = rows.find((r) => r.stream_id === streamId);
    if (row && viewer.streamId === streamId) {
      page.tail.wanted = Math.max(page.tail.wanted, row.version);
      followTail();
    }
  } catch (err) {
    banner.error(err, 'Catching up after reconnecting');
  }
}

/** @param {'connecting'|'connected'|'reconnecting'|'closed'} status */
function showLiveStatus(status) {
  if (page.mode !== 'live') return;
  const recovered = status === 'connected' && ui.live.dataset.status === 'reconnecting';
  ui.live.dataset.status = status;
  ui.liveText.textContent = {
    connecting: 'feed connecting…',
    connected: 'feed connected',
    reconnecting: 'feed reconnecting…',
    closed: 'feed disconnected',
  }[status];
  ui.live.title = status === 'connected'
    ? 'Following new events as they are appended'
    : 'The live feed is not connected; new events will show once it is';
  if (recovered) catchUp();
}

// --------------------------------------------------------- the view

/** The stream, selection or head changed. */
function viewChanged() {
  const { streamId, selected } = viewer;
  hashWriter.write(streamId, selected);
  ui.exportButton.disabled = !streamId;
  showTitle();
  // A what-if state is not the database's: nothing to compare.
  if (streamId && page.mode === 'live' && viewer.skipped.length === 0) dbCheck.schedule(streamId, selected);
  else dbCheck.hide();
}

function showTitle() {
  const { streamId, head } = viewer;
  if (!streamId) {
    ui.title.replaceChildren();
    return;
  }
  const header = page.header;
  const reducer = header?.reducer
    ? `reducer revision ${header.reducer_revision ?? '?'}`
    : 'default merge (no reducer)';
  const { base } = viewer;
  const archived = page.mode === 'live' && streams.rowOf(streamId)?.state === 'archived';
  // (replaceChildren would write a null as "null": h() leaves them out.)
  ui.title.replaceChildren(...h('div', {},
    h('span', { class: 'title-id', text: streamId }),
    header?.stream_type ? h('span', { class: 'title-type', text: header.stream_type }) : null,
    h('span', { class: 'title-meta', text: `${count(head - base, 'event')} · ${reducer}` }),
    base > 0 ? h('span', {
      class: 'title-lifecycle',
      text: `from v${base + 1}`,
      title: `Its events up to version ${base} were removed (truncate_stream or retention); version ${base} is its base: the state they left.`,
    }) : null,
    archived ? h('span', {
      class: 'title-lifecycle',
      text: 'archived',
      title: 'Read from the archive (archive_stream): appends are refused until restore_stream brings it back.',
    }) : null).childNodes);
}

/** @param {{event_id: string, correlation_id: string}} event */
function showCorrelation(event) {
  if (page.mode !== 'live') {
    correlation.showMessage('Correlation', 'Following a correlation across streams needs the server; an export file holds one stream.');
    return;
  }
  correlation.show(event.correlation_id, { current: event.event_id });
}

/** @param {{event_id: string, correlation_id: string|null, causation_id: string}} event */
function showCause(event) {
  if (page.mode !== 'live') {
    correlation.showMessage('Cause', 'Looking up the causing event needs the server; an export file holds one stream.');
  } else if (!event.correlation_id) {
    correlation.showMessage('Cause', `The causing event ${event.causation_id} cannot be looked up: this event has no correlation_id.`);
  } else {
    correlation.show(event.correlation_id, { current: event.event_id, highlight: event.causation_id });
  }
}

function exportHistory() {
  if (!viewer.history) return;
  try {
    const name = viewer.streamId.replace(/[\\/:*?"<>|]/g, '_');
    downloadText(`${name}.ndjson`, viewer.history.exportText());
  } catch (err) {
    banner.error(err, 'Exporting');
  }
}

// -------------------------------------------------------------- start

async function boot() {
  const [wasm, info] = await Promise.allSettled([loadChronicle(), api.info()]);
  if (wasm.status === 'rejected') {
    setMode(info.status === 'fulfilled' ? 'live' : 'offline');
    banner.error(wasm.reason, 'Loading the Chronicle WebAssembly module (/pkg/chronicle_wasm.js)');
    throw wasm.reason;
  }
  page.chronicle = wasm.value;
  if (info.status === 'rejected') {
    setMode('offline');
    offerOffline(info.reason);
    return;
  }
  await goLive(info.value);
  const { stream, version } = readHash();
  if (stream) await openStream(stream, version);
  else showStart();
}

/** Nothing open, connected: the streams worth a look. */
function showStart() {
  if (page.mode !== 'live' || viewer.streamId || page.loading) return;
  inspector.clear(startPage((streamId) => openStream(streamId)));
}

/** The keyboard shortcuts' dialog. */
function showKeys() {
  const dialog = byId('keys-dialog');
  byId('keys-list').replaceChildren(...KEYS.flatMap(([keys, what]) => [h('dt', {}, h('kbd', { text: keys })), h('dd', { text: what })]));
  dialog.showModal();
}

ui.live.addEventListener('animationend', () => ui.live.classList.remove('pulse'));
bindFileOpening({ button: ui.open, input: ui.fileInput, overlay: byId('drop-overlay'), onFile: openFile });
ui.exportButton.addEventListener('click', exportHistory);
ui.connect.addEventListener('click', connect);
byId('btn-keys').addEventListener('click', showKeys);
window.addEventListener('hashchange', () => {
  hashWriter.adoptCurrent();
  const { stream, version } = readHash();
  if (stream && stream !== viewer.streamId) correlation.hide(); // it belongs to the stream being left
  if (stream) openStream(stream, version);
});

const ready = boot();
ready.catch(() => {}); // already on the banner; `ready` still rejects for tests
window.chronicleDashboard = {
  ready,
  history: () => viewer.history,
  selected: () => viewer.selected,
};
