/**
 * The URL hash names the open stream and version (`#stream=order-001&v=3`)
 * so a reload or a shared link opens the same view.
 *
 * Scrubbing replaces the current history entry (at most a few times a
 * second, so playback does not flood the browser's history API); opening
 * another stream adds an entry, so Back returns to the previous stream.
 */

const MIN_INTERVAL_MS = 250;

/**
 * The stream and version named by the hash.
 *
 * @returns {{stream: string|null, version: number|null}}
 */
export function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const v = params.get('v');
  return {
    stream: params.get('stream') || null,
    version: v !== null && /^\d+$/.test(v) ? Number(v) : null,
  };
}

export class HashWriter {
  #lastWrite = 0;
  #timer = null;
  #pending = null;
  #writtenStream = readHash().stream;

  /**
   * Records the view in the hash (null stream: clears it).
   *
   * @param {string|null} stream
   * @param {number} version
   */
  write(stream, version) {
    this.#pending = { stream, version };
    if (stream !== this.#writtenStream) {
      this.#flush(); // a new stream: at once, as a new history entry
      return;
    }
    if (this.#timer !== null) return;
    const wait = this.#lastWrite + MIN_INTERVAL_MS - Date.now();
    if (wait <= 0) this.#flush();
    else this.#timer = setTimeout(() => this.#flush(), wait);
  }

  /** The user navigated (Back, an edited hash): the hash is theirs now. */
  adoptCurrent() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#writtenStream = readHash().stream;
  }

  #flush() {
    clearTimeout(this.#timer);
    this.#timer = null;
    const { stream, version } = this.#pending;
    const hash = stream === null
      ? ''
      : `#${new URLSearchParams({ stream, v: String(version) })}`;
    const url = `${location.pathname}${location.search}${hash}`;
    if (hash !== location.hash) {
      if (stream !== this.#writtenStream && this.#writtenStream !== null && stream !== null) {
        history.pushState(null, '', url);
      } else {
        history.replaceState(null, '', url);
      }
    }
    this.#writtenStream = stream;
    this.#lastWrite = Date.now();
  }
}
