/**
 * The feed panel of the operations view: the head position, the events
 * waiting to be sealed and what they wait for (an open transaction that
 * appended: its pid, user, application, state and age), the last seal, the
 * sealer and the open appenders; and the events per second, from the
 * head's moves between live snapshots.
 *
 * DOM contract: `#feed-body` holds `[data-field=head|waiting|sealed|sealer|
 * appenders] .stat-value` (data-value: the number), `#feed-waiting-for`,
 * `#feed-holder` (hidden when no transaction holds the feed; its
 * `[data-field=pid]` and the others) and `#feed-held` (the highlight, in
 * words, when events wait for an open transaction). `#rate-now`
 * (data-value) is the latest events per second.
 */

import { h } from './dom.js';
import { LiveChart } from './ops-charts.js';
import { duration, num, rateText, relTime, sectionError } from './ops-view.js';

/** A figure of the panel: its label and a value element. */
function stat(field, label) {
  const value = h('dd', { class: 'stat-value', text: '—' });
  return { value, el: h('div', { class: 'stat', dataset: { field } }, h('dt', { text: label }), value) };
}

export class FeedPanel {
  #root;
  #body;
  #error;
  #stats;
  #waitingFor;
  #held;
  #holder;
  #holderFields;
  /** What the panel says before the first snapshot. */
  #waiting;
  /** The holder first seen by this page: {xid, since} (server ms), for its age when the role may not read it. */
  #holderSeen = null;

  /** @param {HTMLElement} root  `#feed-body` */
  constructor(root) {
    this.#root = root;
    this.#stats = {
      head: stat('head', 'Head position'),
      waiting: stat('waiting', 'Waiting to be sealed'),
      sealed: stat('sealed', 'Last sealed'),
      sealer: stat('sealer', 'Sealer'),
      appenders: stat('appenders', 'Open appenders'),
    };
    this.#held = h('p', { id: 'feed-held', class: 'feed-held', role: 'status', hidden: true });
    this.#waitingFor = h('p', { id: 'feed-waiting-for', class: 'waiting-for' });
    this.#holderFields = Object.fromEntries(['pid', 'xid', 'user', 'application', 'state', 'open'].map((k) => [k, h('dd', { dataset: { field: k } })]));
    const labels = { pid: 'pid', xid: 'transaction', user: 'user', application: 'application', state: 'state', open: 'open for' };
    this.#holder = h('div', { id: 'feed-holder', class: 'holder', hidden: true },
      h('h3', { class: 'holder-title', text: 'Oldest open transaction that appended' }),
      h('dl', { class: 'holder-fields' }, ...Object.entries(this.#holderFields).flatMap(([k, dd]) => [h('dt', { text: labels[k] }), dd])));
    this.#body = h('div', { class: 'feed-main', hidden: true },
      h('dl', { class: 'stats' }, ...Object.values(this.#stats).map((s) => s.el)),
      this.#held,
      h('div', { class: 'waiting-for-line' }, h('span', { class: 'waiting-for-label', text: 'The feed waits for: ' }), this.#waitingFor),
      this.#holder);
    this.#error = h('div', { hidden: true });
    this.#waiting = h('p', { class: 'muted', text: 'Waiting for the first snapshot…' });
    root.replaceChildren(this.#waiting, this.#body, this.#error);
  }

  /**
   * Shows a snapshot's feed section.
   *
   * @param {any} feed  the section: chronicle.feed_status with the server's `now`, or `{"error"}`
   */
  show(feed) {
    this.#waiting.hidden = true;
    if (!feed || feed.error) {
      this.#body.hidden = true;
      this.#error.hidden = false;
      this.#error.replaceChildren(sectionError(feed?.error ?? { message: 'The answer had no feed.' }, 'The feed'));
      return;
    }
    this.#body.hidden = false;
    this.#error.hidden = true;
    const nowMs = Date.parse(feed.now);
    const s = this.#stats;
    setStat(s.head, num(feed.head_position), feed.head_position);
    setStat(s.waiting, num(feed.waiting_events), feed.waiting_events);
    setStat(s.appenders, num(feed.open_appenders), feed.open_appenders);
    setStat(s.sealer, feed.sealer_pid === null ? 'not seen' : `pid ${feed.sealer_pid}`, feed.sealer_pid ?? '');
    s.sealer.value.title = feed.sealer_pid === null
      ? 'No sealer process is visible to the dashboard: none runs, or its role may not see it; the next append or feed read starts one'
      : 'The background worker that hands out feed positions';
    s.sealed.value.replaceChildren(relTime(feed.last_sealed_at));
    s.sealed.value.dataset.value = feed.last_sealed_at ?? '';

    const hasHolder = feed.holder_xid !== null && feed.holder_xid !== undefined;
    const held = hasHolder && Number(feed.waiting_events) > 0;
    this.#root.classList.toggle('is-held', held);
    s.waiting.el.classList.toggle('held', held);
    this.#root.dataset.held = String(held);
    const heldText = held
      ? `Held: ${num(feed.waiting_events)} committed ${Number(feed.waiting_events) === 1 ? 'event waits' : 'events wait'} for an open transaction`
        + `${feed.holder_pid === null ? '' : ` (pid ${feed.holder_pid})`} to end.`
      : '';
    if (this.#held.textContent !== heldText) this.#held.textContent = heldText;
    this.#held.hidden = !held;
    this.#waitingFor.textContent = feed.waiting_for ?? '—';

    this.#holder.hidden = !hasHolder;
    if (!hasHolder) {
      this.#holderSeen = null;
      return;
    }
    if (this.#holderSeen?.xid !== feed.holder_xid) this.#holderSeen = { xid: feed.holder_xid, since: nowMs };
    const f = this.#holderFields;
    const hidden = 'not visible to the dashboard’s role';
    f.pid.textContent = feed.holder_pid === null ? 'none (a prepared transaction)' : String(feed.holder_pid);
    f.pid.dataset.value = feed.holder_pid ?? '';
    f.xid.textContent = feed.holder_xid;
    f.user.textContent = feed.holder_user ?? hidden;
    f.application.textContent = feed.holder_application === null || feed.holder_application === undefined
      ? hidden : feed.holder_application || '(none)';
    f.state.textContent = feed.holder_state ?? hidden;
    f.open.textContent = feed.holder_seconds !== null && feed.holder_seconds !== undefined
      ? duration(feed.holder_seconds)
      : `at least ${duration((nowMs - this.#holderSeen.since) / 1000)} (seen by this page; its start is ${hidden})`;
  }
}

function setStat(s, text, value) {
  if (s.value.textContent !== text) s.value.textContent = text;
  s.value.dataset.value = String(value ?? '');
}

/**
 * Events per second from the head's moves between snapshots: the positions
 * handed out divided by the time between the snapshots' `now`.
 */
class RateMeter {
  #last = null;

  /**
   * @param {number} head  the feed's head position
   * @param {number} nowMs  the server's time of the snapshot
   * @returns {number|null}  null for the first snapshot, or after the head went back (another database)
   */
  add(head, nowMs) {
    const last = this.#last;
    this.#last = { head, nowMs };
    if (!last || nowMs <= last.nowMs || head < last.head) return null;
    return (head - last.head) / ((nowMs - last.nowMs) / 1000);
  }
}

/**
 * The events per second panel: the figure now, and the chart of the last
 * five minutes.
 */
export class RatePanel {
  #meter = new RateMeter();
  #now;
  #chart;

  /** @param {HTMLElement} root  `#rate-body` */
  constructor(root) {
    this.#now = h('span', { id: 'rate-now', class: 'big-figure', text: '—' });
    const chartRoot = h('div');
    root.replaceChildren(
      h('p', { class: 'rate-line' }, this.#now, h('span', { class: 'muted', text: ' events per second, now' })),
      chartRoot);
    this.#chart = new LiveChart(chartRoot, {
      id: 'rate-chart',
      caption: 'Events per second (positions handed out between snapshots), last 5 minutes',
      legend: false,
      empty: 'Waiting for a second snapshot…',
      format: (v) => `${rateText(v)} events/s`,
      summary: (chart) => {
        const { last, peak, mean } = chart.stats('events/s');
        return `Now ${rateText(last)} · average ${rateText(mean)} · peak ${rateText(peak)} events per second over the last 5 minutes`;
      },
    });
  }

  /**
   * Adds a snapshot's feed (nothing when the section failed).
   *
   * @param {any} feed
   */
  show(feed) {
    if (!feed || feed.error) return;
    const nowMs = Date.parse(feed.now);
    const rate = this.#meter.add(Number(feed.head_position), nowMs);
    if (rate === null) return;
    this.#now.textContent = rateText(rate);
    this.#now.dataset.value = String(rate);
    this.#chart.push(nowMs / 1000, new Map([['events/s', rate]]));
  }
}
