/**
 * Chronicle operations view (ops.html) — entry point: the feed at a glance.
 *
 * - Live, once a second over Server-Sent Events (/api/ops/live): the feed
 *   (head, events waiting to be sealed and what holds them back), events
 *   per second from the head's moves, every subscription with its
 *   consumers' checkpoints and their lag over the last five minutes.
 * - At load, every 30 s and on Refresh (/api/ops/activity): events per
 *   day, the busiest streams and event types, the streams written last and
 *   the largest, the lifecycle.
 *
 * A section the server could not read shows the database's error in its
 * place; a server that cannot be reached puts a notice on the banner and
 * the live indicator says "disconnected" until the feed is back
 * (EventSource reconnects by itself).
 *
 * Hooks for automated tests: `window.chronicleOps.ready` (resolves once
 * the first live snapshot and the activity are shown), `body[data-ticks]`
 * (live snapshots shown), `body[data-activity]` (activity answers shown).
 */

import { api, isAbort } from './api.js';
import { Banner } from './banner.js';
import { byId } from './dom.js';
import { ActivityPanel, LifecyclePanel } from './ops-activity.js';
import { fetchActivity, subscribeOps } from './ops-api.js';
import { FeedPanel, RatePanel } from './ops-feed.js';
import { SubscriptionsPanel } from './ops-subs.js';
import { clock, refreshRelativeTimes, relTime } from './ops-view.js';

const LIVE_INTERVAL_MS = 1000;
const ACTIVITY_EVERY_MS = 30_000;

const ui = {
  live: byId('live-indicator'),
  liveText: byId('live-text'),
  server: byId('server-info'),
  refresh: byId('btn-refresh'),
  activityStatus: byId('activity-status'),
};

const banner = new Banner(byId('error-banner'));
const feed = new FeedPanel(byId('feed-body'));
const rate = new RatePanel(byId('rate-body'));
const subscriptions = new SubscriptionsPanel(byId('subs-body'), byId('lag-body'));
const activity = new ActivityPanel({
  days: byId('days-body'),
  busiestNote: byId('busiest-note'),
  busiestStreams: byId('busiest-streams'),
  busiestTypes: byId('busiest-types'),
  recent: byId('recent-streams'),
  largest: byId('largest-streams'),
});
const lifecycle = new LifecyclePanel(byId('lifecycle-body'));

/** Page-wide state. */
const page = {
  /** The live indicator's status: connecting, connected, reconnecting or disconnected. */
  status: 'connecting',
  /** Whether the server was found unreachable (the banner says so until the feed is back). */
  lost: false,
  /** A probe of the server under way. */
  probing: false,
  ticks: 0,
  activityLoads: 0,
  /** The activity request under way. */
  activity: null,
  /** When the activity shown was read (ISO, server clock; null: none shown yet). */
  activityAt: null,
};

/** A promise and its resolve function. */
function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}
const firstSnapshot = deferred();
const firstActivity = deferred();

// ------------------------------------------------------------ live feed

const LIVE_TEXT = {
  connecting: 'connecting…',
  connected: 'connected',
  reconnecting: 'reconnecting…',
  disconnected: 'disconnected',
};
const LIVE_TITLE = {
  connecting: 'Connecting to the live snapshots of the feed and the subscriptions',
  connected: 'Connected: the feed and the subscriptions are read once a second',
  reconnecting: 'The live connection dropped; the browser is reconnecting. The figures shown are the last ones received.',
  disconnected: 'The server cannot be reached; the page reconnects by itself once it answers. The figures shown are the last ones received.',
};

function showStatus(status) {
  page.status = status;
  ui.live.dataset.status = status;
  ui.liveText.textContent = LIVE_TEXT[status];
  ui.live.title = LIVE_TITLE[status];
  document.body.dataset.live = status;
}

/** @param {'connected'|'reconnecting'} status  from the EventSource */
function liveStatus(status) {
  if (status === 'connected') {
    showStatus('connected');
    if (page.lost) {
      page.lost = false;
      banner.clear();
      showServerInfo();
      loadActivity(); // what was missed while away
    }
    return;
  }
  if (!page.lost) showStatus('reconnecting');
  probe();
}

/** Asks whether the server answers at all; it does not: says so. */
async function probe() {
  if (page.probing || page.lost) return;
  page.probing = true;
  try {
    await api.info();
  } catch (err) {
    if (err?.code === 'network' && page.status !== 'connected') serverLost();
  } finally {
    page.probing = false;
  }
}

function serverLost() {
  if (page.lost) return;
  page.lost = true;
  showStatus('disconnected');
  banner.notice(
    `The Chronicle server could not be reached${page.ticks ? ': the figures below are the last ones received' : ''}. `
    + 'The page reconnects by itself once the server answers.',
    [{ label: 'Retry now', onClick: () => { live.reconnect(); loadActivity(); } }]);
}

/** Shows a live snapshot: `{feed, subscriptions}`, each a section. */
function showSnapshot(snapshot) {
  const feedSection = snapshot.feed;
  const serverNow = Date.parse(feedSection?.now ?? '');
  if (!Number.isNaN(serverNow)) clock.sync(feedSection.now);
  const nowMs = Number.isNaN(serverNow) ? clock.now() : serverNow;
  feed.show(feedSection);
  rate.show(feedSection);
  subscriptions.show(snapshot.subscriptions, nowMs);
  refreshRelativeTimes();
  page.ticks += 1;
  document.body.dataset.ticks = String(page.ticks);
  ui.live.classList.add('pulse'); // removed when the animation ends
  firstSnapshot.resolve();
}

const live = subscribeOps({ onSnapshot: showSnapshot, onStatus: liveStatus }, LIVE_INTERVAL_MS);
ui.live.addEventListener('animationend', () => ui.live.classList.remove('pulse'));

// ------------------------------------------------------------- activity

/** Reads the activity and the lifecycle again (a read under way is dropped). */
async function loadActivity() {
  page.activity?.abort();
  const controller = new AbortController();
  page.activity = controller;
  ui.refresh.setAttribute('aria-busy', 'true');
  ui.activityStatus.textContent = 'loading…';
  let answer;
  try {
    answer = await fetchActivity(controller.signal);
  } catch (err) {
    if (isAbort(err)) return;
    answer = { error: err };
  } finally {
    if (page.activity === controller) {
      page.activity = null;
      ui.refresh.removeAttribute('aria-busy');
    }
  }
  if (page.activity !== null) return; // a newer read began
  const network = answer.error?.code === 'network';
  if (network && page.activityAt) {
    // The server is away: the figures shown stay, and say how old they are.
    ui.activityStatus.replaceChildren('not updated: the server could not be reached; figures from ', relTime(page.activityAt));
  } else if (answer.error) {
    activity.fail(answer.error);
    lifecycle.show({ error: answer.error });
    ui.activityStatus.textContent = 'could not be read';
  } else {
    page.activityAt = new Date(clock.now()).toISOString();
    activity.show(answer);
    lifecycle.show(answer.lifecycle);
    ui.activityStatus.replaceChildren('updated ', relTime(page.activityAt));
  }
  if (network) serverLost();
  else if (answer.error) banner.error(answer.error, 'Reading the activity');
  page.activityLoads += 1;
  document.body.dataset.activity = String(page.activityLoads);
  firstActivity.resolve();
}

ui.refresh.addEventListener('click', () => loadActivity());
setInterval(() => {
  if (!page.lost && !page.activity) loadActivity();
}, ACTIVITY_EVERY_MS);
// Relative times ("2 s ago") move on between snapshots too (e.g. while disconnected).
setInterval(() => refreshRelativeTimes(), 1000);

// ----------------------------------------------------------------- boot

/** The database and Chronicle's version in the top bar (an unreachable server is the live feed's to report). */
function showServerInfo() {
  api.info().then((info) => {
    ui.server.textContent = `${info.database} · Chronicle ${info.chronicle_version}`;
  }, () => {});
}

showServerInfo();

loadActivity();

const ready = Promise.all([firstSnapshot.promise, firstActivity.promise]).then(() => {
  document.body.dataset.ready = 'true';
});

window.chronicleOps = {
  /** Resolves once the first live snapshot and the activity are shown. */
  ready,
};
