/**
 * Player controls: the version slider, first / step back / play-pause /
 * step forward / last buttons, the play speed, the "version v of N" label
 * and the keyboard shortcuts (←/→ step, Home/End, Space play/pause, S skip
 * the selected event, / search the timeline; see KEYS).
 *
 * The player keeps no history state; it calls the navigation it is given.
 */

import { byId } from './dom.js';

/**
 * @typedef {object} Navigation
 * @property {() => void} first
 * @property {() => boolean} prev   false when there is nothing before
 * @property {() => boolean} next   false when there is nothing after
 * @property {() => void} last
 * @property {(version: number) => void} seek
 * @property {() => boolean} atEnd  no later version to step to
 * @property {() => void} skip    skip the selected event, or show it again
 * @property {() => void} search  focus the timeline search
 */

/** The keyboard shortcuts, as the help lists them. */
export const KEYS = [
  ['← / →', 'previous / next event (of those listed)'],
  ['Home / End', 'initial state / last event'],
  ['Space', 'play / pause'],
  ['S', 'skip the selected event (what if it had not happened), or show it again'],
  ['/', 'search the timeline (Enter: the next match, Esc: clear the search)'],
  ['↑ / ↓, Enter', 'in the stream list: move between streams, open one'],
  ['Tab', 'move between controls; ← / → also move between the inspector\'s tabs'],
];

export class Player {
  #slider = byId('slider');
  #buttons = {
    first: byId('btn-first'),
    prev: byId('btn-prev'),
    play: byId('btn-play'),
    next: byId('btn-next'),
    last: byId('btn-last'),
  };
  #speed = byId('play-speed');
  #label = byId('version-label');
  /** @type {Navigation} */
  #nav;
  #timer = null;
  #enabled = false;

  /** @param {Navigation} nav */
  constructor(nav) {
    this.#nav = nav;
    const { first, prev, play, next, last } = this.#buttons;
    first.addEventListener('click', () => this.#manual(() => nav.first()));
    prev.addEventListener('click', () => this.#manual(() => nav.prev()));
    next.addEventListener('click', () => this.#manual(() => nav.next()));
    last.addEventListener('click', () => this.#manual(() => nav.last()));
    play.addEventListener('click', () => this.toggle());
    this.#slider.addEventListener('input', () => this.#manual(() => nav.seek(Number(this.#slider.value))));
    this.#speed.addEventListener('change', () => {
      if (this.playing) this.#startTimer();
    });
    document.addEventListener('keydown', (event) => this.#onKeyDown(event));
    // A focused button would also "click" on the Space key's release.
    document.addEventListener('keyup', (event) => {
      if (event.key === ' ' && this.#ownsKey(event)) event.preventDefault();
    });
  }

  get playing() {
    return this.#timer !== null;
  }

  /**
   * Shows the selection and enables the controls that can act.
   *
   * @param {number} version  selected version
   * @param {number} head     last loaded version (0 when nothing is open)
   * @param {boolean} enabled  a stream is open
   * @param {number} [base]   the first version there is a state for: 0, or
   *   the base of a stream whose first events were removed
   */
  update(version, head, enabled, base = 0) {
    this.#enabled = enabled;
    this.#slider.min = String(base);
    this.#slider.max = String(head);
    this.#slider.value = String(version);
    this.#slider.disabled = !enabled || head === base;
    this.#label.textContent = enabled ? `version ${version} of ${head}` : 'no stream open';
    const atStart = version === base;
    const atEnd = this.#nav.atEnd();
    this.#buttons.first.disabled = !enabled || atStart;
    this.#buttons.prev.disabled = !enabled || atStart;
    this.#buttons.next.disabled = !enabled || atEnd;
    this.#buttons.last.disabled = !enabled || atEnd;
    this.#buttons.play.disabled = !enabled || head === base;
    if (!enabled) this.pause();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Plays forward from the selection (from the start when at the end). */
  play() {
    if (!this.#enabled || this.playing) return;
    if (this.#nav.atEnd()) this.#nav.first();
    this.#startTimer();
  }

  pause() {
    clearInterval(this.#timer);
    this.#timer = null;
    this.#showPlaying(false);
  }

  #startTimer() {
    clearInterval(this.#timer);
    const perSecond = Number(this.#speed.value) || 1;
    this.#timer = setInterval(() => {
      if (!this.#nav.next() || this.#nav.atEnd()) this.pause();
    }, 1000 / perSecond);
    this.#showPlaying(true);
  }

  #showPlaying(playing) {
    const button = this.#buttons.play;
    button.classList.toggle('playing', playing);
    button.setAttribute('aria-pressed', String(playing));
    button.title = playing ? 'Pause (Space)' : 'Play (Space)';
    button.setAttribute('aria-label', playing ? 'Pause' : 'Play');
  }

  /** A step the user asked for: it stops playback. */
  #manual(step) {
    this.pause();
    step();
  }

  #onKeyDown(event) {
    if (!this.#enabled || !this.#ownsKey(event)) return;
    switch (event.key) {
      case 'ArrowLeft': this.#manual(() => this.#nav.prev()); break;
      case 'ArrowRight': this.#manual(() => this.#nav.next()); break;
      case 'Home': this.#manual(() => this.#nav.first()); break;
      case 'End': this.#manual(() => this.#nav.last()); break;
      case ' ': this.toggle(); break;
      case 's': case 'S': this.#nav.skip(); break;
      case '/': this.#nav.search(); break;
      default: return;
    }
    event.preventDefault();
  }

  /**
   * Whether a key press is the player's: not when a control with its own
   * use of the key has focus (text fields and selects use every key,
   * checkboxes Space, the slider its arrows and Home/End), and not with
   * modifier keys.
   */
  #ownsKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return false;
    const shortcuts = ['ArrowLeft', 'ArrowRight', 'Home', 'End', ' ', 's', 'S', '/'];
    if (!shortcuts.includes(event.key)) return false;
    // Not behind a modal dialog (the keys' help).
    if (document.querySelector('dialog[open]')) return false;
    const target = event.target;
    if (!(target instanceof HTMLElement)) return true;
    if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return false;
    if (target instanceof HTMLInputElement) {
      if (target.type === 'range') return [' ', 's', 'S', '/'].includes(event.key);
      if (target.type === 'checkbox' || target.type === 'radio') return event.key !== ' ';
      return ['button', 'submit', 'reset'].includes(target.type);
    }
    return true;
  }
}
