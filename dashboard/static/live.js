/**
 * Live feed: the server's Server-Sent Events at /api/live. Each `append`
 * message names a stream that got a new event; `resync` (the server's own
 * database connection was re-established) and `lagged` (this page fell
 * behind) say that appends may have been missed. EventSource reconnects by
 * itself after a drop.
 */

/**
 * @typedef {object} Append
 * @property {string} stream_type
 * @property {string} stream_id
 * @property {number} version   the stream's new version
 * @property {number|null} position  global feed position, when known
 */

/**
 * Subscribes to the live feed.
 *
 * @param {object} handlers
 * @param {(append: Append) => void} handlers.onAppend
 * @param {(status: 'connected'|'reconnecting'|'closed') => void} handlers.onStatus
 * @param {() => void} handlers.onMissed  appends may have been missed: look again
 * @returns {() => void} unsubscribes
 */
export function subscribeLive({ onAppend, onStatus, onMissed }) {
  const source = new EventSource('/api/live');
  source.addEventListener('open', () => onStatus('connected'));
  source.addEventListener('error', () => {
    onStatus(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
  });
  source.addEventListener('append', (message) => {
    let append;
    try {
      append = JSON.parse(message.data);
    } catch {
      return; // a malformed message names no stream; the next one will
    }
    if (typeof append?.stream_id === 'string' && Number.isInteger(append.version)) onAppend(append);
  });
  source.addEventListener('resync', () => onMissed());
  source.addEventListener('lagged', () => onMissed());
  return () => source.close();
}
