/**
 * The operations view's server calls: the live snapshots of the feed and
 * the subscriptions (Server-Sent Events at /api/ops/live, `event: ops`)
 * and the activity (/api/ops/activity). Errors are api.js's ApiError
 * (code "network" when the server could not be reached).
 */

import { api } from './api.js';

/**
 * The activity and the lifecycle: `{days, busiest, recent_streams,
 * largest_streams, lifecycle}`, each a section (its data, or `{"error"}`).
 *
 * @param {AbortSignal} [signal]
 * @returns {Promise<object>}
 */
export function fetchActivity(signal) {
  return api.opsActivity(signal);
}

/** How long to wait before opening a new EventSource once one was closed for good. */
const REOPEN_MS = [2_000, 5_000, 10_000, 30_000];

/**
 * Subscribes to the live snapshots. EventSource reconnects by itself after
 * a dropped connection; when the browser gives up (the server answered
 * with an error status), a new one is opened after a pause.
 *
 * @param {object} handlers
 * @param {(snapshot: {feed: any, subscriptions: any}) => void} handlers.onSnapshot
 * @param {(status: 'connected'|'reconnecting') => void} handlers.onStatus
 * @param {number} [intervalMs]
 * @returns {{close: () => void, reconnect: () => void}}
 */
export function subscribeOps({ onSnapshot, onStatus }, intervalMs = 1000) {
  let source = null;
  let timer = null;
  let failures = 0;
  const open = () => {
    clearTimeout(timer);
    source?.close();
    const current = new EventSource(`/api/ops/live?interval_ms=${intervalMs}`);
    source = current;
    current.addEventListener('open', () => {
      failures = 0;
      onStatus('connected');
    });
    current.addEventListener('error', () => {
      if (current !== source) return;
      onStatus('reconnecting');
      if (current.readyState === EventSource.CLOSED) {
        timer = setTimeout(open, REOPEN_MS[Math.min(failures, REOPEN_MS.length - 1)]);
        failures += 1;
      }
    });
    current.addEventListener('ops', (message) => {
      let snapshot;
      try {
        snapshot = JSON.parse(message.data);
      } catch {
        return; // a malformed message: the next one comes in a second
      }
      if (snapshot && typeof snapshot === 'object') onSnapshot(snapshot);
    });
  };
  open();
  return {
    close() {
      clearTimeout(timer);
      source?.close();
      source = null;
    },
    reconnect: open,
  };
}
