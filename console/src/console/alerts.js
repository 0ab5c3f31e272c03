// The alert desk: the caller's live alerts, newest first. The most recent and every unacknowledged one are read first;
// the subscription then resumes after the last alert this browser received (its cursor is kept across reloads), so
// after a reload or a dropped connection nothing is missed and nothing is shown twice.

import { createClient } from 'graphql-ws';
import { ALERT_FIELDS, gql, session } from './api.js';
import { h, scrolling, tag, when, words } from './dom.js';

const SEVERITY = { URGENT: 'red', WARNING: 'orange', INFO: 'blue' };
const MAX_BACKLOG_PAGES = 10;
const RECENT = 50;

function cursorKey(me) {
  return `orderwatch.alerts.cursor.${me.agency}.${me.sub}`;
}

function lateness(a) {
  if (!a.late) return 'On time';
  const minutes = Math.round(a.lateBy / 60);
  return minutes < 1 ? `${a.lateBy} seconds late` : minutes < 120 ? `${minutes} minutes late` : `${Math.round(minutes / 60)} hours late`;
}

export async function alertDesk({ me, show }) {
  const state = h('p', { class: 'govuk-body ow-live', id: 'connection-state', role: 'status' });
  const announce = h('div', { class: 'govuk-visually-hidden', 'aria-live': 'polite', id: 'alert-announcer' });
  const body = h('tbody', { class: 'govuk-table__body', id: 'alerts' });
  const empty = h('p', { class: 'govuk-body', id: 'no-alerts' }, 'No alerts to show.');
  const rows = new Map();

  const setState = (text, colour) => state.replaceChildren('Connection: ', tag(text, colour));

  function render(a) {
    const acknowledge = async (e) => {
      e.target.disabled = true;
      try {
        const { data } = await gql(`mutation($id: ID!) { acknowledgeAlert(id: $id) { ${ALERT_FIELDS} } }`, { id: a.id });
        put(data.acknowledgeAlert, false);
        announce.textContent = `Alert acknowledged: ${words(a.kind)} on ${a.orderReference}`;
      } catch (err) {
        e.target.disabled = false;
        announce.textContent = `Could not acknowledge: ${err.message}`;
      }
    };
    return h('tr', { class: 'govuk-table__row', 'data-alert-id': a.id, 'data-kind': a.kind },
      h('td', { class: 'govuk-table__cell ow-nowrap' }, when(a.createdAt)),
      h('td', { class: 'govuk-table__cell' }, words(a.kind)),
      h('td', { class: 'govuk-table__cell' }, tag(words(a.severity), SEVERITY[a.severity])),
      h('td', { class: 'govuk-table__cell' }, h('a', { class: 'govuk-link', href: `#/orders/${encodeURIComponent(a.orderReference)}` }, a.orderReference)),
      h('td', { class: 'govuk-table__cell ow-nowrap' }, when(a.dueAt)),
      h('td', { class: 'govuk-table__cell' }, lateness(a)),
      h('td', { class: 'govuk-table__cell' }, a.acknowledgedAt
        ? `Acknowledged by ${a.acknowledgedBy} at ${when(a.acknowledgedAt)}`
        : h('button', { class: 'govuk-button govuk-button--secondary govuk-!-margin-bottom-0', type: 'button', onclick: acknowledge },
          'Acknowledge', h('span', { class: 'govuk-visually-hidden' }, ` ${words(a.kind)} on ${a.orderReference}`))));
  }

  /// Shows an alert: a new one at the top, a known one in its place.
  function put(a, isNew) {
    const row = render(a);
    const old = rows.get(a.id);
    if (old) old.replaceWith(row);
    else body.prepend(row);
    rows.set(a.id, row);
    empty.hidden = true;
    if (isNew && !old) announce.textContent = `New alert: ${words(a.kind)} on ${a.orderReference}`;
  }

  show('Alert desk',
    h('h1', { class: 'govuk-heading-l' }, 'Alert desk'),
    h('p', { class: 'govuk-body' }, 'Alerts for the orders your agency looks after, newest first, as they arrive.'),
    state, announce,
    scrolling('Alerts', h('table', { class: 'govuk-table' },
      h('caption', { class: 'govuk-table__caption govuk-table__caption--m' }, 'Alerts'),
      h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' },
        ['Raised', 'Kind', 'Severity', 'Order', 'Due', 'Lateness', 'Action'].map((t) => h('th', { class: 'govuk-table__header', scope: 'col' }, t)))),
      body)),
    empty);
  setState('connecting', 'yellow');

  // The most recent alerts, acknowledged or not, and every unacknowledged one: shown newest first. The newest one's
  // cursor is where a first subscription starts, so nothing raised meanwhile is missed.
  const backlog = new Map();
  const { data: recent } = await gql(`{ alerts(first: ${RECENT}, order: NEWEST_FIRST) { edges { node { ${ALERT_FIELDS} } } } }`);
  for (const { node } of recent.alerts.edges) backlog.set(node.id, node);
  const last = recent.alerts.edges[0]?.node.cursor ?? null;
  let after = null;
  for (let page = 0; page < MAX_BACKLOG_PAGES; page++) {
    const { data } = await gql(`query($after: String) { alerts(first: 100, after: $after, filter: { unacknowledged: true }) {
      edges { node { ${ALERT_FIELDS} } } pageInfo { hasNextPage endCursor } } }`, { after });
    for (const { node } of data.alerts.edges) backlog.set(node.id, node);
    if (!data.alerts.pageInfo.hasNextPage) break;
    after = data.alerts.pageInfo.endCursor;
  }
  // Oldest first, so that each goes on top of the one before.
  [...backlog.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).forEach((a) => put(a, false));
  const key = cursorKey(me);
  let cursor = localStorage.getItem(key) ?? last;

  let client = null;
  let unsubscribe = null;
  let stopped = false;
  let retry = 0;
  let timer = null;

  const connect = () => {
    if (stopped) return;
    setState(retry ? 'reconnecting' : 'connecting', 'yellow');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    client = createClient({
      url: `${scheme}://${location.host}/graphql`,
      connectionParams: { Authorization: `Bearer ${session.token}` },
      lazy: false,
      retryAttempts: 0,
      on: { connected: () => { retry = 0; setState('live', 'green'); } },
    });
    const current = client;
    const dropped = (reason) => {
      if (stopped || current !== client) return;
      // The token expired or was refused: reconnecting with it cannot help.
      if (reason?.code === 4403 || reason?.code === 4401) {
        stopped = true;
        current.dispose();
        state.replaceChildren('Connection: ', tag('closed', 'red'), ' Your sign-in has ended. ', h('a', { class: 'govuk-link', href: '#/sign-out' }, 'Sign in again'));
        return;
      }
      // A cursor the server does not know (another database, say): start again from the unacknowledged alerts.
      if (Array.isArray(reason) && reason.some((e) => e.extensions?.code === 'INVALID_CURSOR')) {
        localStorage.removeItem(key);
        cursor = last;
      }
      current.dispose();
      setState('disconnected: reconnecting', 'red');
      retry += 1;
      timer = setTimeout(connect, Math.min(30000, 500 * 2 ** Math.min(retry, 6)));
    };
    client.on('closed', dropped);
    unsubscribe = client.subscribe({ query: `subscription($after: String) { alerts(after: $after) { ${ALERT_FIELDS} } }`, variables: { after: cursor } }, {
      next: ({ data, errors }) => {
        if (errors?.length) return;
        const a = data.alerts;
        cursor = a.cursor;
        localStorage.setItem(key, cursor);
        put(a, true);
      },
      error: dropped,
      complete: dropped,
    });
  };
  connect();

  return () => {
    stopped = true;
    clearTimeout(timer);
    // Ending the subscription first lets the client say so while the socket is open, then close it.
    unsubscribe?.();
    client?.dispose();
  };
}
