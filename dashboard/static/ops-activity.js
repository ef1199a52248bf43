/**
 * The slower half of the operations view, from /api/ops/activity: events
 * per day, the busiest streams and event types among the feed's last
 * events, the streams written last and the largest (each stream a link to
 * the time-travel view), and the lifecycle: retention rules, how many
 * streams were deleted, archived or truncated, and the latest deletions
 * and archivings.
 *
 * DOM contract: `#days-chart` (see ops-charts.js; `tr[data-day]` with
 * data-events in its figures), tables `#busiest-streams`, `#busiest-types`,
 * `#recent-streams`, `#largest-streams` (rows `[data-stream-id]` or
 * `[data-event-type]`, counts in `.bar-cell[data-value]` or
 * `[data-col=events]`), `#lifecycle-counts [data-field]` (data-value),
 * `#retention-rules`, `#lifecycle-latest`.
 */

import { h } from './dom.js';
import { DayChart } from './ops-charts.js';
import { barCell, clock, isSectionError, num, relTime, sectionError, streamLink, table } from './ops-view.js';

/** An array, or none (a section of another shape lists nothing). */
const list = (x) => (Array.isArray(x) ? x : []);

/** A section's place: its error when it failed (or is missing), else what `render` makes of it. */
function place(root, section, what, render) {
  if (section === null || section === undefined) {
    root.replaceChildren(sectionError({ message: 'The server\'s answer did not have it.' }, what));
  } else {
    root.replaceChildren(isSectionError(section) ? sectionError(section.error, what) : render(section));
  }
}

export class ActivityPanel {
  #days;
  #daysError;
  #busiestNote;
  #busiestStreams;
  #busiestTypes;
  #recent;
  #largest;

  /**
   * @param {object} roots
   * @param {HTMLElement} roots.days  `#days-body`
   * @param {HTMLElement} roots.busiestNote  a line saying what the busiest lists count
   * @param {HTMLElement} roots.busiestStreams
   * @param {HTMLElement} roots.busiestTypes
   * @param {HTMLElement} roots.recent
   * @param {HTMLElement} roots.largest
   */
  constructor(roots) {
    const chartRoot = h('div');
    this.#daysError = h('div', { hidden: true });
    roots.days.replaceChildren(chartRoot, this.#daysError);
    this.#days = { chart: new DayChart(chartRoot), chartRoot };
    this.#busiestNote = roots.busiestNote;
    this.#busiestStreams = roots.busiestStreams;
    this.#busiestTypes = roots.busiestTypes;
    this.#recent = roots.recent;
    this.#largest = roots.largest;
  }

  /**
   * Shows an answer of /api/ops/activity.
   *
   * @param {any} activity
   */
  show(activity) {
    const days = activity.days;
    const daysFailed = !Array.isArray(days);
    this.#days.chartRoot.hidden = daysFailed;
    this.#daysError.hidden = !daysFailed;
    if (daysFailed) this.#daysError.replaceChildren(sectionError(days?.error ?? { message: 'The answer had no days.' }, 'Events per day'));
    else this.#days.chart.show(days, clock.now());

    const busiest = activity.busiest;
    if (busiest && !busiest.error) {
      this.#busiestNote.textContent = `Counted over the feed's last ${num(busiest.positions)} positions: ${num(busiest.events)} events.`;
    } else this.#busiestNote.textContent = '';
    place(this.#busiestStreams, busiest, 'The busiest streams', (b) => {
      const rows = list(b.streams);
      const max = Math.max(0, ...rows.map((r) => Number(r.events)));
      return table({
        caption: 'Busiest streams among the feed\'s last events',
        columns: [{ label: 'Stream' }, { label: 'Type' }, { label: 'Events', key: 'events', numeric: true }],
        rows: rows.map((r) => ({
          props: { dataset: { streamId: r.stream_id } },
          cells: [streamLink(r.stream_id), r.stream_type, barCell(Number(r.events), max)],
        })),
        empty: 'No events among the last positions.',
      });
    });
    place(this.#busiestTypes, busiest, 'The busiest event types', (b) => {
      const rows = list(b.event_types);
      const max = Math.max(0, ...rows.map((r) => Number(r.events)));
      return table({
        caption: 'Busiest event types among the feed\'s last events',
        columns: [{ label: 'Event type' }, { label: 'Events', key: 'events', numeric: true }],
        rows: rows.map((r) => ({
          props: { dataset: { eventType: r.event_type } },
          cells: [r.event_type, barCell(Number(r.events), max)],
        })),
        empty: 'No events among the last positions.',
      });
    });
    place(this.#recent, activity.recent_streams, 'The streams written last', (rows) => table({
      caption: 'Streams written last',
      columns: [{ label: 'Stream' }, { label: 'Type' }, { label: 'Events', key: 'events', numeric: true }, { label: 'Last event', key: 'last' }],
      rows: list(rows).map((r) => ({
        props: { dataset: { streamId: r.stream_id } },
        cells: [streamLink(r.stream_id), r.stream_type, num(r.events), relTime(r.last_event_at)],
      })),
      empty: 'No streams yet.',
    }));
    place(this.#largest, activity.largest_streams, 'The largest streams', (rows) => table({
      caption: 'Largest streams',
      columns: [{ label: 'Stream' }, { label: 'Type' }, { label: 'Events', key: 'events', numeric: true }],
      rows: list(rows).map((r) => ({
        props: { dataset: { streamId: r.stream_id } },
        cells: [streamLink(r.stream_id), r.stream_type, num(r.events)],
      })),
      empty: 'No streams yet.',
    }));
  }

  /**
   * The whole answer failed: the error shows once, in the place of the
   * days; the other parts say they are not available.
   *
   * @param {any} err
   */
  fail(err) {
    this.#days.chartRoot.hidden = true;
    this.#daysError.hidden = false;
    this.#daysError.replaceChildren(sectionError(err, 'The activity'));
    this.#busiestNote.textContent = '';
    for (const root of [this.#busiestStreams, this.#busiestTypes, this.#recent, this.#largest]) {
      root.replaceChildren(h('p', { class: 'empty', text: 'Not available: the activity could not be read (see above).' }));
    }
  }
}

/** Words for a stream's lifecycle state. */
const STATES = { deleted: 'deleted', deleted_for_good: 'deleted for good', archived: 'archived' };

export class LifecyclePanel {
  #root;

  /** @param {HTMLElement} root  `#lifecycle-body` */
  constructor(root) {
    this.#root = root;
  }

  /**
   * Shows the lifecycle section of /api/ops/activity.
   *
   * @param {any} lifecycle
   */
  show(lifecycle) {
    place(this.#root, lifecycle, 'The lifecycle', (l) => {
      const counts = [['deleted', 'Deleted streams'], ['archived', 'Archived streams'], ['truncated', 'Truncated streams']];
      return h('div', { class: 'lifecycle-grid' },
        h('dl', { id: 'lifecycle-counts', class: 'stats lifecycle-counts' }, ...counts.map(([field, label]) => h('div', { class: 'stat', dataset: { field } },
          h('dt', { text: label }),
          h('dd', { class: 'stat-value', dataset: { value: String(l[field] ?? '') }, text: num(l[field]) })))),
        h('div', { class: 'lifecycle-part' },
          h('h3', { text: 'Retention rules' }),
          table({
            caption: 'Retention rules by stream type',
            columns: [{ label: 'Stream type' }, { label: 'Max age' }, { label: 'Max events', numeric: true },
              { label: 'Streams', numeric: true }, { label: 'Defined' }],
            rows: list(l.retention).map((r) => ({
              props: { dataset: { streamType: r.stream_type } },
              cells: [r.stream_type, r.max_age ?? h('span', { class: 'muted', text: 'no limit' }),
                r.max_count === null || r.max_count === undefined ? h('span', { class: 'muted', text: 'no limit' }) : num(r.max_count),
                num(r.streams), relTime(r.defined_at)],
            })),
            empty: 'No retention rules.',
            id: 'retention-rules',
          })),
        h('div', { class: 'lifecycle-part' },
          h('h3', { text: 'Latest deletions and archivings' }),
          table({
            caption: 'Latest deleted and archived streams',
            columns: [{ label: 'Stream' }, { label: 'Type' }, { label: 'State' }, { label: 'Version', numeric: true }, { label: 'When' }],
            rows: list(l.latest).map((r) => ({
              props: { dataset: { streamId: r.stream_id, state: r.state } },
              cells: [streamLink(r.stream_id), r.stream_type,
                h('span', { class: 'state-badge', dataset: { state: r.state }, text: STATES[r.state] ?? r.state }),
                num(r.version), relTime(r.at)],
            })),
            empty: 'No stream has been deleted or archived.',
            id: 'lifecycle-latest',
          })));
    });
  }
}
