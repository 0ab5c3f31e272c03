// The pages of the roles that look after the service rather than its orders: an auditor reads the audit log (who read
// or changed what, when, and why), an administrator keeps the agency directory. What each may read or record is the
// server's to decide; a refusal is shown as it comes, with its code.

import { gql } from './api.js';
import { form, instant, send } from './actions.js';
import { button, field, h, select, success, table, when, words } from './dom.js';

const OPERATIONS = [['', 'Any'], ...['CONSULT', 'COLLECT', 'ALTER', 'DISCLOSE', 'COMBINE', 'ERASE', 'AUTH_FAILURE', 'DENIED'].map((o) => [o, words(o)])];
const KINDS = [['POLICE_FORCE', 'Police force'], ['COURT', 'Magistrates’ court'], ['CROWN_COURT', 'Crown Court'], ['ADVOCACY_SERVICE', 'Advocacy service']];
const PAGE = 50;

/// Rows shown a page at a time, with a "Show more" button while the server has more; `load(after)` returns
/// `{ rows, hasNextPage, endCursor }`.
function paged(id, caption, headers, load, empty) {
  const rows = [];
  let after = null;
  const results = h('div', { id });
  const count = h('p', { class: 'govuk-body', role: 'status', id: `${id}-count` });
  const problem = h('div');
  const more = h('button', { class: 'govuk-button govuk-button--secondary', type: 'button', id: `${id}-more`, hidden: true, onclick: () => next(true) }, 'Show more');
  const next = async (focus) => {
    problem.replaceChildren();
    const before = rows.length;
    try {
      const page = await load(after);
      rows.push(...page.rows);
      after = page.endCursor;
      more.hidden = !page.hasNextPage;
      count.textContent = `${rows.length} shown${page.hasNextPage ? ', more to show' : ''}.`;
    } catch (e) {
      problem.replaceChildren(h('p', { class: 'govuk-error-message' }, h('span', { class: 'govuk-visually-hidden' }, 'Error: '), `${e.message} (${e.code})`));
    }
    results.replaceChildren(rows.length ? table(caption(rows.length), headers, rows) : h('p', { class: 'govuk-body' }, empty), problem, more);
    // The first newly shown row takes the focus, so a keyboard user goes on where the list grew.
    if (focus) results.querySelectorAll('tbody tr')[before]?.setAttribute('tabindex', '-1');
    if (focus) results.querySelectorAll('tbody tr')[before]?.focus();
  };
  return { section: [count, results], next };
}

export async function auditLog({ show }) {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
  const asked = Object.fromEntries(['agency', 'operation', 'object', 'from', 'to'].map((k) => [k, params.get(k) ?? '']));
  const filters = h('form', { novalidate: true, id: 'audit-filter', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.fromEntries(Object.keys(asked).map((k) => [k, filters.querySelector(`#audit-${k}`).value.trim()])));
    location.hash = `#/audit?${q}`;
  } },
  field({ id: 'audit-agency', label: 'Actor’s agency', hint: 'Its code, for example MET; public for the open data', value: asked.agency, width: 10 }),
  select({ id: 'audit-operation', label: 'Operation', options: OPERATIONS, value: asked.operation }),
  field({ id: 'audit-object', label: 'Object id', hint: 'An order’s, a breach’s or an alert’s id', value: asked.object, width: 30 }),
  field({ id: 'audit-from', label: 'From', hint: 'London time', type: 'datetime-local', value: asked.from, width: 20 }),
  field({ id: 'audit-to', label: 'Before', hint: 'London time', type: 'datetime-local', value: asked.to, width: 20 }),
  button('Filter', { class: 'govuk-button govuk-button--secondary' }));
  const filter = {
    actorAgency: asked.agency || null,
    operation: asked.operation || null,
    objectId: asked.object || null,
    from: instant(asked.from),
    to: instant(asked.to),
  };
  const list = paged('audit-events', (n) => `${n} audit entr${n === 1 ? 'y' : 'ies'}, oldest first`,
    ['When', 'Who', 'Operation', 'What', 'Outcome', 'Reason given'], async (after) => {
      const { data } = await gql(`query($f: AuditFilter, $after: String) { auditEvents(filter: $f, first: ${PAGE}, after: $after) {
        edges { node { at actor { sub agency role } operation action objectType objectIds recipient outcome reason } } pageInfo { hasNextPage endCursor } } }`,
      { f: filter, after });
      return {
        rows: data.auditEvents.edges.map(({ node: a }) => [
          h('span', { class: 'ow-nowrap' }, when(a.at)),
          `${a.actor.role} ${a.actor.agency} (${a.actor.sub})`,
          words(a.operation),
          `${a.action}: ${a.objectType} ${a.objectIds.join(', ')}${a.recipient ? ` to ${a.recipient}` : ''}`,
          a.outcome,
          a.reason ?? '',
        ]),
        hasNextPage: data.auditEvents.pageInfo.hasNextPage,
        endCursor: data.auditEvents.pageInfo.endCursor,
      };
    }, 'No audit entries match.');
  show('Audit log',
    h('h1', { class: 'govuk-heading-l' }, 'Audit log'),
    h('p', { class: 'govuk-body' }, 'Every read and change of the record, who made it and the reason they gave. Times are London time. Your own reads of the log are recorded too.'),
    filters, list.section);
  await list.next(false);
}

export async function agencies({ show }, banner = null) {
  const list = paged('agency-list', (n) => `${n} agenc${n === 1 ? 'y' : 'ies'}`, ['Code', 'Name', 'Kind'], async (after) => {
    const { data } = await gql(`query($after: String) { agencies(first: ${PAGE}, after: $after) { edges { node { code name kind } } pageInfo { hasNextPage endCursor } } }`, { after });
    return {
      rows: data.agencies.edges.map(({ node: a }) => [a.code, a.name, KINDS.find(([k]) => k === a.kind)?.[1] ?? words(a.kind)]),
      hasNextPage: data.agencies.pageInfo.hasNextPage,
      endCursor: data.agencies.pageInfo.endCursor,
    };
  }, 'No agencies yet.');
  const create = form('create-agency', 'Register an agency', [
    field({ id: 'agency-code', label: 'Code', hint: '2 to 32 characters: capital letters, digits and -, starting with a letter (for example WMC-01)', width: 10 }),
    field({ id: 'agency-name', label: 'Name', hint: 'As its users know it' }),
    select({ id: 'agency-kind', label: 'Kind', options: KINDS, value: 'POLICE_FORCE' }),
  ], 'Register the agency', async (el) => {
    const code = el.querySelector('#agency-code').value.trim();
    const name = el.querySelector('#agency-name').value.trim();
    if (!code) return { text: 'Enter the agency’s code', href: '#agency-code' };
    if (!name) return { text: 'Enter the agency’s name', href: '#agency-name' };
    return send('mutation($i: CreateAgencyInput!) { createAgency(input: $i) { code } }',
      { i: { code, name, kind: el.querySelector('#agency-kind').value } }, '#agency-code',
      () => agencies({ show }, success(`${code.toUpperCase()} registered.`)));
  });
  show('Agencies', banner,
    h('h1', { class: 'govuk-heading-l' }, 'Agencies'),
    h('p', { class: 'govuk-body' }, 'The police forces, courts and advocacy services that use the record. Each token names one of them.'),
    create, list.section);
  await list.next(false);
  banner?.focus();
}
