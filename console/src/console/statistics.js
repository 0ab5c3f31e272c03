// Statistics: the figures the API returns for the caller (an analyst: every force or one; a police supervisor: their
// own force) for a period, as charts with tables and CSV: the application funnel, breach outcomes, and quarters.

import { gql } from './api.js';
import { button, errorSummary, field, h } from './dom.js';
import { bars, figure, trend } from './charts.js';

const QUERY = `query($from: Date!, $to: Date!, $force: String) { statistics(from: $from, to: $to, force: $force) {
  force orderType quarter ordersMade inForceAtEnd breachesReported
  breachOutcomes { noFurtherAction charged convicted acquitted contemptFound }
  applications { authorised madeToCourt granted withdrawn refusedByForce { count } refusedByCourt { count } } } }`;

const iso = (d) => d.toISOString().slice(0, 10);
const sum = (rows, f) => rows.reduce((n, r) => n + f(r), 0);
const reasons = (list) => list.reduce((n, r) => n + r.count, 0);

export async function statistics({ me, show }) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const today = new Date();
  const from = params.get('from') ?? iso(new Date(Date.UTC(today.getUTCFullYear() - 1, today.getUTCMonth(), 1)));
  const to = params.get('to') ?? iso(today);
  const force = params.get('force') ?? '';

  const form = h('form', { novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams({ from: form.querySelector('#from').value.trim(), to: form.querySelector('#to').value.trim() });
    const f = form.querySelector('#force')?.value.trim();
    if (f) q.set('force', f);
    location.hash = `#/statistics?${q}`;
  } },
  h('div', { class: 'govuk-grid-row' },
    h('div', { class: 'govuk-grid-column-one-third' }, field({ id: 'from', label: 'From', hint: 'YYYY-MM-DD', value: from, width: 10 })),
    h('div', { class: 'govuk-grid-column-one-third' }, field({ id: 'to', label: 'To', hint: 'YYYY-MM-DD', value: to, width: 10 })),
    me.role === 'ANALYST'
      ? h('div', { class: 'govuk-grid-column-one-third' }, field({ id: 'force', label: 'Force', hint: 'A force code; leave empty for all', value: force, width: 10 }))
      : null),
  button('Show figures', { class: 'govuk-button govuk-button--secondary' }));

  let rows;
  try {
    ({ data: { statistics: rows } } = await gql(QUERY, { from, to, force: force || null }));
  } catch (e) {
    show('Statistics', errorSummary([{ text: `${e.message} (${e.code})`, href: '#from' }]), h('h1', { class: 'govuk-heading-l' }, 'Statistics'), form);
    document.querySelector('.govuk-error-summary')?.focus();
    return;
  }
  const scope = me.role === 'ANALYST' ? (force || 'every force') : me.agency;
  const name = `${(force || me.agency).toLowerCase()}-${from}-${to}`;

  const funnel = [
    ['Authorised by the force', sum(rows, (r) => r.applications.authorised)],
    ['Refused by the force', sum(rows, (r) => reasons(r.applications.refusedByForce))],
    ['Made to court', sum(rows, (r) => r.applications.madeToCourt)],
    ['Granted', sum(rows, (r) => r.applications.granted)],
    ['Refused by the court', sum(rows, (r) => reasons(r.applications.refusedByCourt))],
    ['Withdrawn', sum(rows, (r) => r.applications.withdrawn)],
  ];
  const outcomes = [
    ['No further action', sum(rows, (r) => r.breachOutcomes.noFurtherAction)],
    ['Charged', sum(rows, (r) => r.breachOutcomes.charged)],
    ['Convicted', sum(rows, (r) => r.breachOutcomes.convicted)],
    ['Acquitted', sum(rows, (r) => r.breachOutcomes.acquitted)],
    ['Contempt found', sum(rows, (r) => r.breachOutcomes.contemptFound)],
  ];
  const quarters = [...new Set(rows.map((r) => r.quarter))].sort();
  const made = quarters.map((q) => sum(rows.filter((r) => r.quarter === q), (r) => r.ordersMade));
  const breaches = quarters.map((q) => sum(rows.filter((r) => r.quarter === q), (r) => r.breachesReported));

  show('Statistics',
    h('h1', { class: 'govuk-heading-l' }, 'Statistics'),
    h('p', { class: 'govuk-body' }, `Figures for ${scope}, ${from} to ${to}, all order types. Definitions and what the record cannot see: docs/statistics.md. Each read is recorded in the audit log.`),
    form,
    rows.length ? [
      figure('funnel', 'Applications', bars('funnel-chart', 'Applications', funnel), ['Stage', 'Applications'], funnel, `applications-${name}.csv`),
      figure('outcomes', 'Breach outcomes', bars('outcomes-chart', 'Breach outcomes', outcomes), ['Outcome', 'Breaches'], outcomes, `breach-outcomes-${name}.csv`),
      figure('quarters', 'Orders made and breaches by quarter',
        trend('quarters-chart', 'Orders made and breaches by quarter', quarters, { label: 'Orders made', values: made }, { label: 'Breaches reported', values: breaches }),
        ['Quarter', 'Orders made', 'Breaches reported'], quarters.map((q, i) => [q, made[i], breaches[i]]), `quarters-${name}.csv`),
    ] : h('p', { class: 'govuk-body', id: 'no-figures' }, 'Nothing was recorded in this period.'));
}
