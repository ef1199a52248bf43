/**
 * The versions the timeline lists and the player steps through: either
 * every version base + 1..head (no filter, nothing materialised, so a
 * stream of a million events costs nothing; base is 0 but for a stream
 * whose first events were removed) or an ascending list from
 * `history.versionsOf(types)`.
 */

export class VersionSet {
  /** @type {Uint32Array|null} null: every version #base + 1..#head */
  #list;
  #base;
  #head;

  /** @private use VersionSet.range or VersionSet.of */
  constructor(list, base, head) {
    this.#list = list;
    this.#base = base;
    this.#head = head;
  }

  /** Every version base + 1..head. */
  static range(head, base = 0) {
    return new VersionSet(null, base, Math.max(head, base));
  }

  /** Exactly these versions (ascending). */
  static of(versions) {
    return new VersionSet(versions, 0, 0);
  }

  /** Whether this is a filtered subset. */
  get filtered() {
    return this.#list !== null;
  }

  get count() {
    return this.#list ? this.#list.length : this.#head - this.#base;
  }

  /** The version at a row index (0-based). */
  at(index) {
    return this.#list ? this.#list[index] : this.#base + index + 1;
  }

  /**
   * The row index of `version`, or of the first listed version after it
   * (the last row when none is); -1 when nothing is listed.
   */
  nearestIndex(version) {
    if (this.count === 0) return -1;
    const i = this.#list ? lowerBound(this.#list, version) : version - this.#base - 1;
    return Math.min(Math.max(i, 0), this.count - 1);
  }

  /** The first listed version after `version`, or null. */
  after(version) {
    if (!this.#list) return version < this.#head ? Math.max(version + 1, this.#base + 1) : null;
    const i = lowerBound(this.#list, version + 1);
    return i < this.#list.length ? this.#list[i] : null;
  }

  /** The last listed version before `version`, or null. */
  before(version) {
    if (!this.#list) return version > this.#base + 1 ? Math.min(version - 1, this.#head) : null;
    const i = lowerBound(this.#list, version) - 1;
    return i >= 0 ? this.#list[i] : null;
  }

  /** The last listed version, or null when none is. */
  get last() {
    return this.count > 0 ? this.at(this.count - 1) : null;
  }
}

/** The first index whose value is ≥ `value` in an ascending array. */
function lowerBound(array, value) {
  let lo = 0;
  let hi = array.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (array[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
