/**
 * Calls to the dashboard server's JSON API (same origin).
 *
 * Failed requests throw an ApiError carrying the members of the server's
 * error body (the database's `code`, `message`, `detail`, `hint`: see
 * ERROR_MEMBERS); an unreachable server throws an ApiError with code
 * "network". Aborted requests throw the fetch's AbortError unchanged (see
 * isAbort).
 */

import { ERROR_MEMBERS } from './format.js';

export class ApiError extends Error {
  /**
   * @param {object} parts  the error's members (ERROR_MEMBERS), and
   * @param {number} [parts.status]  the HTTP status (0: no answer)
   */
  constructor(parts) {
    super(parts.message);
    this.status = parts.status ?? 0;
    for (const key of ERROR_MEMBERS) {
      if (key !== 'message' && key !== 'name' && parts[key] != null) this[key] = parts[key];
    }
  }
}

/** Whether `err` is the result of aborting a request or a load. */
export function isAbort(err) {
  return err?.name === 'AbortError';
}

/**
 * @param {string} path
 * @param {object} [options]
 * @param {'json'|'text'} [options.as]
 * @param {AbortSignal} [options.signal]
 */
async function request(path, { as = 'json', signal } = {}) {
  let response;
  try {
    response = await fetch(path, {
      signal,
      headers: { Accept: as === 'json' ? 'application/json' : 'application/x-ndjson' },
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError({
      code: 'network',
      message: `The server could not be reached (${err.message}).`,
      hint: 'Check that the dashboard server is running, or open an export file.',
    });
  }
  if (!response.ok) throw await errorOf(response);
  return as === 'json' ? response.json() : response.text();
}

/** The ApiError for a 4xx/5xx answer (its JSON body, or the status line). */
async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not a JSON body (e.g. a proxy's error page): the status line will do.
  }
  return new ApiError({
    ...body,
    status: response.status,
    code: body?.code ?? String(response.status),
    message: body?.message ?? `${response.status} ${response.statusText}`.trim(),
  });
}

/** A query string from the parameters that are set ("" when none is). */
function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

const streamPath = (streamId) => `/api/streams/${encodeURIComponent(streamId)}`;

export const api = {
  /** @returns {Promise<{chronicle_version: string, database: string, feed_head: number}>} */
  info: () => request('/api/info'),

  /** @returns {Promise<{stream_type: string, streams: number, has_reducer: boolean}[]>} */
  streamTypes: () => request('/api/stream-types'),

  /**
   * @param {{prefix?: string, type?: string, after?: string|null, limit?: number}} params
   * @returns {Promise<{streams: import('./streams.js').StreamRow[], next: string|null}>}
   */
  streams: (params) => request(`/api/streams${query(params)}`),

  /**
   * The streams written last and the largest ones (the start page).
   *
   * @returns {Promise<{recent_streams: object[], largest_streams: object[]}>}
   */
  notableStreams: () => request('/api/ops/streams'),

  /**
   * The operations view's activity and lifecycle: `{days, busiest,
   * recent_streams, largest_streams, lifecycle}`, each a section (its data,
   * or `{"error"}`).
   *
   * @param {AbortSignal} [signal]
   * @returns {Promise<object>}
   */
  opsActivity: (signal) => request('/api/ops/activity', { signal }),

  /**
   * NDJSON export text (header line + events) of a version range.
   *
   * @param {string} streamId
   * @param {{from?: number, to?: number}} range
   * @param {AbortSignal} [signal]
   * @returns {Promise<string>}
   */
  exportText: (streamId, { from, to } = {}, signal) => request(
    `${streamPath(streamId)}/export${query({ from_version: from, to_version: to })}`,
    { as: 'text', signal },
  ),

  /**
   * The database's state of a stream (`chronicle.state_at`) as canonical JSON text.
   *
   * @returns {Promise<{version: number, state: string}>}
   */
  stateAt: (streamId, version, signal) => request(`${streamPath(streamId)}/state${query({ version })}`, { signal }),

  /**
   * Every event with this correlation id, across streams, in feed order.
   *
   * @returns {Promise<object[]>}
   */
  correlation: (correlationId, signal) => request(`/api/correlations/${encodeURIComponent(correlationId)}`, { signal }),
};
