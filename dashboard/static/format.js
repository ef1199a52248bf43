/**
 * Formatting of times, counts and errors for display.
 */

/**
 * "2024-05-01T12:00:00.123Z" → "2024-05-01 12:00:00" (the full text is
 * shown as a tooltip where this is used). Text that does not look like an
 * ISO timestamp is returned unchanged.
 *
 * @param {string|null|undefined} iso
 * @returns {string}
 */
export function shortTime(iso) {
  if (!iso) return '';
  const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]}` : iso;
}

/**
 * "1 event", "2 events", with thousands separators.
 *
 * @param {number} n
 * @param {string} singular
 * @param {string} [plural]
 */
export function count(n, singular, plural = `${singular}s`) {
  return `${n.toLocaleString('en-US')} ${n === 1 ? singular : plural}`;
}

/**
 * The members of a Chronicle error, as the core writes them
 * (`chronicle_core::Error::to_json`): the WebAssembly module's exceptions
 * carry them all; the server's error bodies carry the database's `code`,
 * `message`, `detail` and `hint`.
 */
export const ERROR_MEMBERS = ['code', 'name', 'field', 'message', 'detail', 'hint'];

/**
 * The parts of an error worth showing: the members of a Chronicle error
 * (see ERROR_MEMBERS) that it has; other errors only a message.
 *
 * @param {any} err
 * @returns {{code?: string, name?: string, field?: string, message: string, hint?: string, detail?: string}}
 */
export function errorParts(err) {
  const parts = { message: String(err?.message ?? err) };
  for (const key of ERROR_MEMBERS) {
    if (key !== 'message' && err?.[key]) parts[key] = String(err[key]);
  }
  // A JavaScript Error's own name ("Error", "TypeError") is not a code's name.
  if (parts.name && !/^[a-z][a-z0-9_]*$/.test(parts.name)) delete parts.name;
  return parts;
}

/** What a marked step means, by kind. */
export function failureNote(kind) {
  return kind === 'reducer'
    ? 'the reducer failed: the replay skipped this event, the state is unchanged'
    : 'the event does not match its schema; the replay applied it anyway, as chronicle.state_at does';
}
