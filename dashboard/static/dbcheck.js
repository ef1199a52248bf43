/**
 * "Database agrees" badge: once the selection has settled, asks the server
 * for `chronicle.state_at(stream, version)` and compares its canonical JSON
 * text with the browser's `history.stateJsonAt(version)`, byte for byte.
 *
 * DOM contract: `#db-check`, whose text contains "same" when they agree.
 */

import { api, isAbort } from './api.js';
import { errorParts } from './format.js';

const SETTLE_MS = 300;

export class DbCheck {
  #root;
  #localState;
  #timer = null;
  /** The stream of the result shown. */
  #shownStream = null;
  /** Aborts the request of a check that is no longer wanted. */
  #inFlight = null;

  /**
   * @param {HTMLElement} root
   * @param {(streamId: string, version: number) => string|null} localState
   *   the browser's canonical state text, or null when that stream/version
   *   is no longer the one shown
   */
  constructor(root, localState) {
    this.#root = root;
    this.#localState = localState;
    root.hidden = true;
  }

  /** Checks `version` of `streamId` once the selection stays put for a moment. */
  schedule(streamId, version) {
    this.#cancel();
    this.#root.hidden = false;
    // The last result, dimmed, while the slider moves within a stream.
    if (this.#root.textContent && this.#shownStream === streamId) this.#root.classList.add('pending');
    else this.#show('pending', '… checking chronicle.state_at', '');
    this.#shownStream = streamId;
    this.#timer = setTimeout(() => this.#check(streamId, version), SETTLE_MS);
  }

  /** Hides the badge (offline, or no stream open). */
  hide() {
    this.#cancel();
    this.#root.hidden = true;
  }

  #cancel() {
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#inFlight?.abort();
    this.#inFlight = null;
  }

  async #check(streamId, version) {
    const local = this.#localState(streamId, version);
    if (local === null) return;
    const controller = new AbortController();
    this.#inFlight = controller;
    this.#show('pending', '… checking chronicle.state_at', '');
    try {
      const answer = await api.stateAt(streamId, version, controller.signal);
      if (answer.state === local) {
        this.#show('same', '✓ same as chronicle.state_at',
          `The database computes the same state for ${streamId} at version ${version}.`);
      } else {
        this.#show('differs', '✗ differs from chronicle.state_at',
          `The database computes a different state for ${streamId} at version ${version}:\n${answer.state}`);
      }
    } catch (err) {
      if (isAbort(err)) return;
      const { code, message } = errorParts(err);
      this.#show('unknown', `? chronicle.state_at: ${code ? `${code} ` : ''}${message}`,
        'The database could not compute this state. Note that chronicle.state_at stops at a failing event, where the dashboard skips it.');
    } finally {
      if (this.#inFlight === controller) this.#inFlight = null;
    }
  }

  #show(status, text, title) {
    this.#root.dataset.status = status;
    this.#root.classList.toggle('pending', status === 'pending');
    this.#root.textContent = text;
    this.#root.title = title;
  }
}
