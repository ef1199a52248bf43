/**
 * The Chronicle WebAssembly module (the same core as the database
 * extension), loaded once. Imported dynamically so that a missing module
 * is an error the page can show, not a blank page.
 */

const MODULE_URL = '/pkg/chronicle_wasm.js';

let loading = null;

/**
 * The initialised module: `loadExport`, `history`, `diff`, `replay`,
 * `parseExport`.
 *
 * @returns {Promise<any>}
 */
export function loadChronicle() {
  loading ??= import(MODULE_URL).then(async (chronicle) => {
    await chronicle.default();
    return chronicle;
  });
  return loading;
}
