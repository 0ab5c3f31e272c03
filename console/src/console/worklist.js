// The worklist: the deadlines of the orders the caller looks after, soonest first, filtered by kind and status,
// each linking to its order.

import { gql } from './api.js';
import { button, day, h, select, table, tag, when, words } from './dom.js';

const KINDS = [
  ['', 'All kinds'],
  ['NOTIFICATIONS', 'Notifications by the subject'],
  ['HEARING_WINDOW', 'Hearing windows'],
  ['ORDER_END', 'Orders ending'],
  ['CONDITION_END', 'Conditions ending'],
];
const NOTIFICATIONS = ['NOTIFICATION_INITIAL', 'NOTIFICATION_NEW_NAME', 'NOTIFICATION_HOME_ADDRESS', 'NOTIFICATION_NO_HOME_ADDRESS'];
const STATUSES = [['OPEN', 'Open'], ['MISSED', 'Missed'], ['MET', 'Met'], ['WAIVED', 'Waived']];
const STATUS_COLOUR = { OPEN: 'blue', MISSED: 'red', MET: 'green', WAIVED: 'grey' };
const PAGE = 50;

/// A force's orders in force that are not yet served on the subject: service starts most of their effects.
async function unserved(me) {
  const { data } = await gql(`query($f: OrderFilter) { orders(filter: $f, first: 50) { edges { node { reference type madeOn expiresOn } } pageInfo { hasNextPage } } }`,
    { f: { applicantAgency: me.agency, status: 'IN_FORCE', serviceStatus: 'UNSERVED' } });
  const orders = data.orders.edges.map((e) => e.node);
  return h('section', { id: 'unserved', 'aria-labelledby': 'unserved-heading' },
    h('h2', { class: 'govuk-heading-m', id: 'unserved-heading' }, 'Orders not yet served'),
    orders.length
      ? table(`${orders.length}${data.orders.pageInfo.hasNextPage ? ' or more' : ''} unserved, newest first`, ['Order', 'Type', 'Made', 'Ends'], orders.map((o) => [
        h('a', { class: 'govuk-link', href: `#/orders/${encodeURIComponent(o.reference)}` }, o.reference), words(o.type), day(o.madeOn), o.expiresOn ? day(o.expiresOn) : 'Until further order',
      ]))
      : h('p', { class: 'govuk-body' }, 'Every order in force has been served.'));
}

export async function worklist({ me, show }) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const kind = params.get('kind') ?? '';
  const status = params.get('status') ?? 'OPEN';
  const kinds = kind === 'NOTIFICATIONS' ? NOTIFICATIONS : kind ? [kind] : null;

  const form = h('form', { novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ kind: form.querySelector('#kind').value, status: form.querySelector('#status').value });
    location.hash = `#/worklist?${q}`;
  } },
  h('div', { class: 'govuk-grid-row' },
    h('div', { class: 'govuk-grid-column-one-third' }, select({ id: 'kind', label: 'Kind', options: KINDS, value: kind })),
    h('div', { class: 'govuk-grid-column-one-third' }, select({ id: 'status', label: 'Status', options: STATUSES, value: status }))),
  button('Filter', { class: 'govuk-button govuk-button--secondary' }));

  const results = h('div', { id: 'worklist-results' });
  const count = h('p', { class: 'govuk-body', role: 'status', id: 'worklist-count' });
  show('Worklist',
    h('h1', { class: 'govuk-heading-l' }, 'Worklist'),
    h('p', { class: 'govuk-body' }, 'Deadlines of the orders you look after, soonest first. Times are London time.'),
    form, count, results);

  const rows = [];
  let after = null;
  const problem = h('div', { id: 'worklist-problem' });
  const more = h('button', { class: 'govuk-button govuk-button--secondary', type: 'button', id: 'more', hidden: true, onclick: async () => {
    const before = rows.length;
    try {
      await load();
    } catch (e) {
      problem.replaceChildren(h('p', { class: 'govuk-error-message' }, h('span', { class: 'govuk-visually-hidden' }, 'Error: '), `${e.message} (${e.code})`));
      more.focus();
      return;
    }
    // The first of the newly shown deadlines takes the focus.
    results.querySelectorAll('tbody tr')[before]?.querySelector('a')?.focus();
  } }, 'Show more');
  const load = async () => {
    problem.replaceChildren();
    const { data } = await gql(`query($filter: DeadlineFilter, $after: String) { deadlines(filter: $filter, first: ${PAGE}, after: $after) {
      edges { node { id kind orderReference dueAt status rule statute } } pageInfo { hasNextPage endCursor } } }`,
    { filter: { kinds, status }, after });
    for (const { node: d } of data.deadlines.edges) {
      rows.push([
        h('span', { class: 'ow-nowrap' }, when(d.dueAt)),
        words(d.kind),
        h('a', { class: 'govuk-link', href: `#/orders/${encodeURIComponent(d.orderReference)}` }, d.orderReference),
        tag(words(d.status), STATUS_COLOUR[d.status]),
        `${d.rule} (${d.statute})`,
      ]);
    }
    after = data.deadlines.pageInfo.endCursor;
    more.hidden = !data.deadlines.pageInfo.hasNextPage;
    results.dataset.kind = kind || 'ALL';
    count.textContent = `${rows.length} deadline${rows.length === 1 ? '' : 's'} shown${data.deadlines.pageInfo.hasNextPage ? ', more to show' : ''}.`;
    results.replaceChildren(
      rows.length
        ? table(`${rows.length} deadline${rows.length === 1 ? '' : 's'}`, ['Due', 'Kind', 'Order', 'Status', 'Rule'], rows)
        : h('p', { class: 'govuk-body', id: 'no-deadlines' }, 'No deadlines match.'),
      problem, more);
  };
  await load();
  // The force's orders still to be served, beside its deadlines (the API answers for the caller's force only).
  if (me.role === 'POLICE') results.after(await unserved(me));
}
