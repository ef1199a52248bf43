/**
 * Timing helpers.
 */

/**
 * Returns a function that calls `fn` once, `ms` milliseconds after the last
 * of a burst of calls, with that last call's arguments. `.cancel()` drops a
 * pending call.
 *
 * @template {any[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @returns {((...args: A) => void) & {cancel: () => void}}
 */
export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return debounced;
}

/**
 * Resolves after the browser has had a chance to paint (used between
 * chunks of long work so progress is visible). Falls back to a timeout when
 * animation frames do not run (a background tab).
 *
 * @returns {Promise<void>}
 */
export function yieldToBrowser() {
  return new Promise((resolve) => {
    const fallback = setTimeout(resolve, 50);
    requestAnimationFrame(() => {
      clearTimeout(fallback);
      setTimeout(resolve, 0);
    });
  });
}
