/**
 * "What if it had not happened": events the user skips (toggles off), like
 * skipping an action in Redux DevTools. The states are computed by the
 * WebAssembly core (`history.stateWithout`) from the loaded events and
 * never written anywhere: the stream keeps every event.
 *
 * `view(history)` gives what the inspector reads of a history (states,
 * diffs, failed steps) as if the skipped events had not happened; with
 * nothing skipped it is the history itself.
 */

/** Answers kept per skip set (a diff needs the version before, too). */
const CACHE_SIZE = 8;

export class Skips {
  /** Skipped versions. */
  #versions = new Set();
  /** version → {stateJson, failed}, for the current skips. */
  #cache = new Map();
  #history = null;
  /** The view of #history for the current skips (one object, so the inspector's caches hold). */
  #view = null;
  #diff;

  /** @param {() => (a: string, b: string) => any[]} diff  the core's diff (JSON texts in, patch out) */
  constructor(diff) {
    this.#diff = diff;
  }

  /** Whether any event is skipped. */
  get active() {
    return this.#versions.size > 0;
  }

  /** The skipped versions, ascending. */
  get versions() {
    return [...this.#versions].sort((a, b) => a - b);
  }

  /** @param {number} v */
  has(v) {
    return this.#versions.has(v);
  }

  /** Skips `v`, or stops skipping it. */
  toggle(v) {
    if (this.#versions.has(v)) this.#versions.delete(v);
    else this.#versions.add(v);
    this.#cache.clear();
    this.#view = null;
  }

  /** Skips nothing any more (also when another history is opened). */
  clear() {
    this.#versions.clear();
    this.#cache.clear();
    this.#view = null;
  }

  /**
   * What the inspector reads of `history` (the methods it calls on a
   * History), with the skipped events left out.
   *
   * @param {any} history
   */
  view(history) {
    if (history !== this.#history) {
      this.#history = history;
      this.#cache.clear();
      this.#view = null;
    }
    if (!this.active) return history;
    this.#view ??= this.#makeView(history);
    return this.#view;
  }

  #makeView(history) {
    const at = (v) => this.#at(history, v);
    const first = this.versions[0];
    return {
      base: () => history.base(),
      eventJson: (v) => history.eventJson(v),
      event: (v) => history.event(v),
      stateJsonAt: (v) => at(v).stateJson,
      diffAt: (v) => (this.#versions.has(v) ? [] : this.#diff()(at(v - 1).stateJson, at(v).stateJson)),
      failureAt: (v) => {
        if (this.#versions.has(v)) return undefined;
        const recorded = history.failureAt(v);
        // Before the first skipped event nothing changed; a schema check
        // reads the event alone, whatever the state.
        if (v < first || recorded?.kind === 'validation') return recorded;
        if (!at(v).failed.includes(v)) return undefined;
        return {
          kind: 'reducer',
          code: '22000',
          message: 'With the skipped events left out, this event\'s reducer step fails.',
          hint: 'The state stays as it was before this event, as for a step the replay marks.',
        };
      },
      skipped: (v) => this.#versions.has(v),
    };
  }

  /** `{stateJson, failed}` at `v`, from the cache or the core. */
  #at(history, v) {
    let answer = this.#cache.get(v);
    if (!answer) {
      answer = history.stateWithout(v, this.versions);
      if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value);
      this.#cache.set(v, answer);
    }
    return answer;
  }
}
