// The alert desk: the caller's live alerts, newest first. It reads the most recent alerts and the unacknowledged ones,
// then subscribes from the `resumeCursor` of that read: the subscription replays whatever was raised after the read
// and goes on live, so nothing falls between the two. After a dropped connection it resubscribes from the last alert
// it received; after a reload it starts again from a fresh read. Either way nothing is missed and, as every alert is
// keyed by its id, nothing is shown twice.

import { createClient } from 'graphql-ws';
import { ALERT_FIELDS, gql, session } from './api.js';
import { h, scrolling, tag, when, words } from './dom.js';

const SEVERITY = { URGENT: 'red', WARNING: 'orange', INFO: 'blue' };
const RECENT = 50;
const MAX_UNACKNOWLEDGED_PAGES = 10;

function lateness(a) {
  if (!a.late) return 'On time';
  const minutes = Math.round(a.lateBy / 60);
  return minutes < 1 ? `${a.lateBy} seconds late` : minutes < 120 ? `${minutes} minutes late` : `${Math.round(minutes / 60)} hours late`;
}

export async function alertDesk({ show, onLeave }) {
  // Everything this page opens is closed when it is left, even while it is still loading.
  let client = null;
  let stopped = false;
  let timer = null;
  let connected = false;
  onLeave(() => {
    stopped = true;
    clearTimeout(timer);
    // A client still connecting is closed once it has connected and sent its subscription (the task after): closed
    // sooner, it would write that subscription to a closing socket.
    if (!client || connected) client?.dispose();
    else {
      const leaving = client;
      leaving.on('connected', () => setTimeout(() => leaving.dispose(), 0));
      leaving.on('closed', () => leaving.dispose());
    }
  });

  const state = h('p', { class: 'govuk-body ow-live', id: 'connection-state', role: 'status' });
  const announce = h('div', { class: 'govuk-visually-hidden', 'aria-live': 'polite', id: 'alert-announcer' });
  const notice = h('div', { id: 'alerts-notice' });
  const body = h('tbody', { class: 'govuk-table__body', id: 'alerts' });
  const empty = h('p', { class: 'govuk-body', id: 'no-alerts' }, 'No alerts to show.');
  const rows = new Map();
  const setState = (text, colour) => state.replaceChildren('Connection: ', tag(text, colour));

  function render(a) {
    const action = h('td', { class: 'govuk-table__cell', tabindex: '-1' });
    const acknowledge = async (e) => {
      e.target.disabled = true;
      try {
        const { data } = await gql(`mutation($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`, { id: a.id });
        put(data.acknowledgeAlert, false);
        // The button is gone: the cell that replaced it takes the focus and says what happened.
        rows.get(a.id).querySelector('td[tabindex]').focus();
      } catch (err) {
        e.target.disabled = false;
        action.querySelector('.govuk-error-message')?.remove();
        action.append(h('p', { class: 'govuk-error-message' }, h('span', { class: 'govuk-visually-hidden' }, 'Error: '), `Not acknowledged: ${err.message}`));
      }
    };
    action.append(a.acknowledgedAt
      ? `Acknowledged by ${a.acknowledgedBy} at ${when(a.acknowledgedAt)}`
      : h('button', { class: 'govuk-button govuk-button--secondary govuk-!-margin-bottom-0', type: 'button', onclick: acknowledge },
        'Acknowledge', h('span', { class: 'govuk-visually-hidden' }, ` ${words(a.kind)} on ${a.orderReference}`)));
    return h('tr', { class: 'govuk-table__row', 'data-alert-id': a.id, 'data-kind': a.kind, 'data-created-at': a.createdAt },
      h('td', { class: 'govuk-table__cell ow-nowrap' }, when(a.createdAt)),
      h('td', { class: 'govuk-table__cell' }, words(a.kind)),
      h('td', { class: 'govuk-table__cell' }, tag(words(a.severity), SEVERITY[a.severity])),
      h('td', { class: 'govuk-table__cell' }, h('a', { class: 'govuk-link', href: `#/orders/${encodeURIComponent(a.orderReference)}` }, a.orderReference)),
      h('td', { class: 'govuk-table__cell ow-nowrap' }, when(a.dueAt)),
      h('td', { class: 'govuk-table__cell' }, lateness(a)),
      action);
  }

  /// Shows an alert in its place by the time it was raised (newest at the top); a known one is replaced.
  function put(a, isNew) {
    const row = render(a);
    const old = rows.get(a.id);
    if (old) {
      old.replaceWith(row);
    } else {
      const later = [...body.children].filter((tr) => tr.dataset.createdAt > a.createdAt).pop();
      if (later) later.after(row);
      else body.prepend(row);
    }
    rows.set(a.id, row);
    empty.hidden = true;
    if (isNew && !old) announce.textContent = `New alert: ${words(a.kind)} on ${a.orderReference}`;
  }

  show('Alert desk',
    h('h1', { class: 'govuk-heading-l' }, 'Alert desk'),
    h('p', { class: 'govuk-body' }, 'Alerts for the orders your agency looks after, newest first, as they arrive.'),
    state, announce, notice,
    scrolling('Alerts', h('table', { class: 'govuk-table' },
      h('caption', { class: 'govuk-table__caption govuk-table__caption--m' }, 'Alerts'),
      h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' },
        ['Raised', 'Kind', 'Severity', 'Order', 'Due', 'Lateness', 'Action'].map((t) => h('th', { class: 'govuk-table__header', scope: 'col' }, t)))),
      body)),
    empty);
  setState('connecting', 'yellow');

  // The most recent alerts, acknowledged or not, and the unacknowledged ones, newest first.
  const { data: recent } = await gql(`{ alerts(first: ${RECENT}, order: NEWEST_FIRST) { resumeCursor edges { node { ${ALERT_FIELDS} } } } }`);
  if (stopped) return;
  let cursor = recent.alerts.resumeCursor;
  for (const { node } of recent.alerts.edges) put(node, false);
  let after = null;
  let more = false;
  for (let page = 0; page < MAX_UNACKNOWLEDGED_PAGES; page++) {
    const { data } = await gql(`query($after: String) { alerts(first: 100, after: $after, order: NEWEST_FIRST, filter: { unacknowledged: true }) {
      edges { node { ${ALERT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`, { after });
    if (stopped) return;
    for (const { node } of data.alerts.edges) put(node, false);
    more = data.alerts.pageInfo.hasNextPage;
    if (!more) break;
    after = data.alerts.pageInfo.endCursor;
  }
  if (more) {
    notice.append(h('div', { class: 'govuk-warning-text' },
      h('span', { class: 'govuk-warning-text__icon', 'aria-hidden': 'true' }, '!'),
      h('strong', { class: 'govuk-warning-text__text' }, h('span', { class: 'govuk-visually-hidden' }, 'Warning'),
        `More than ${MAX_UNACKNOWLEDGED_PAGES * 100} alerts are unacknowledged: the oldest of them are not shown here.`)));
  }

  let retry = 0;
  const connect = () => {
    if (stopped) return;
    setState(retry ? 'reconnecting' : 'connecting', 'yellow');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const current = createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: { Authorization: `Bearer ${session.token}` },
      lazy: false,
      retryAttempts: 0,
      on: { connected: () => { retry = 0; connected = true; setState('live', 'green'); } },
    });
    client = current;
    connected = false;
    let done = false;
    // Called once per client, whichever of its close, error or completion comes first.
    const dropped = (reason) => {
      if (done || stopped) return;
      done = true;
      current.dispose();
      // The token expired or was refused: reconnecting with it cannot help.
      if (reason?.code === 4403 || reason?.code === 4401) {
        stopped = true;
        state.replaceChildren('Connection: ', tag('closed', 'red'), ' Your sign-in has ended. ', h('a', { class: 'govuk-link', href: '#/sign-out' }, 'Sign in again'));
        return;
      }
      setState('disconnected: reconnecting', 'red');
      retry += 1;
      // From 2 s, doubling to 30 s, each wait stretched by up to as much again at random: a server that closed every
      // socket as it stopped needs a moment to start again, and its advocates' consoles should not all come back at
      // the same instant.
      timer = setTimeout(connect, Math.min(30000, 1000 * 2 ** Math.min(retry, 5) * (1 + Math.random())));
    };
    current.on('closed', dropped);
    current.subscribe({ query: `subscription($after: String) { alerts(after: $after) { ${ALERT_FIELDS} } }`, variables: { after: cursor } }, {
      next: ({ data }) => {
        // An alert comes with its data even when a part of it (its acknowledgement, say) could not be read.
        const a = data?.alerts;
        if (!a) return dropped(null);
        cursor = a.cursor;
        put(a, true);
      },
      error: dropped,
      complete: () => dropped(null),
    });
  };
  connect();
}
