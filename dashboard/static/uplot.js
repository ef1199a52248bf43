/**
 * uPlot, the charts' library: served by the dashboard itself from
 * /vendor/uplot (pinned in dashboard/package-lock.json, installed by
 * `./chronicle setup`), imported once, on first use. A missing file is an
 * error the chart shows, not a page that fails to start.
 */

const UPLOT_URL = '/vendor/uplot/uPlot.esm.js';

let loading = null;

/** @returns {Promise<any>} uPlot */
export function loadUplot() {
  loading ??= import(UPLOT_URL).then((m) => m.default);
  return loading;
}
