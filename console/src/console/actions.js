// What a role records from an order's page: police record service and report breaches. The server decides whether
// each is allowed (another force's order, an order already served, a breach before the order...): its refusal is
// shown as it comes, with its code.

import { gql } from './api.js';
import { button, errorSummary, field, h, select } from './dom.js';

const METHODS = [['PERSONAL', 'In person'], ['IN_COURT', 'In court'], ['POST', 'By post'], ['OTHER_AUTHORISED', 'Other authorised means']];

/// A date-time input's value (the browser's local time, London for its users) as an instant, or null.
function instant(value) {
  const t = new Date(value);
  return value && !Number.isNaN(t.getTime()) ? t.toISOString() : null;
}

/// "now" for a datetime-local input, in the browser's time zone, to the minute.
function nowLocal() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

function form(id, heading, fields, submitText, onsubmit) {
  const problems = h('div', { id: `${id}-problems` });
  const el = h('form', { id, novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const submit = el.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const problem = await onsubmit(el);
      if (problem) {
        problems.replaceChildren(errorSummary([problem]));
        problems.querySelector('.govuk-error-summary').focus();
      }
    } finally {
      submit.disabled = false;
    }
  } }, problems, h('h3', { class: 'govuk-heading-s' }, heading), fields, button(submitText, { class: 'govuk-button govuk-button--secondary' }));
  return el;
}

/// The forms police use on an order, each calling `done(message)` when the server has recorded it.
export function policeActions(order, done) {
  const serve = form('record-service', 'Record service', [
    field({ id: 'served-at', label: 'Served at', hint: 'Date and time, London time', type: 'datetime-local', value: nowLocal(), width: 20 }),
    select({ id: 'service-method', label: 'How it was served', options: METHODS, value: 'PERSONAL' }),
  ], 'Record service', async (el) => {
    const at = instant(el.querySelector('#served-at').value);
    if (!at) return { text: 'Enter when the order was served', href: '#served-at' };
    try {
      await gql('mutation($r: String!, $at: DateTime!, $m: ServiceMethod!) { recordService(reference: $r, servedAt: $at, method: $m) { serviceStatus } }',
        { r: order.reference, at, m: el.querySelector('#service-method').value });
    } catch (e) {
      return { text: `${e.message} (${e.code})`, href: '#served-at' };
    }
    done('Service recorded.');
    return null;
  });

  const report = form('report-breach', 'Report a breach', [
    field({ id: 'occurred-at', label: 'When it happened', hint: 'Date and time, London time', type: 'datetime-local', value: nowLocal(), width: 20 }),
    h('div', { class: 'govuk-form-group' },
      h('label', { class: 'govuk-label', for: 'breach-description' }, 'What happened'),
      h('div', { class: 'govuk-hint', id: 'breach-description-hint' }, 'Seen by police only'),
      h('textarea', { class: 'govuk-textarea', id: 'breach-description', name: 'breach-description', rows: '3', 'aria-describedby': 'breach-description-hint' })),
    field({ id: 'external-ref', label: 'Force incident reference', hint: 'Your force’s own reference: sending the same one again records nothing twice', width: 20 }),
  ], 'Report breach', async (el) => {
    const occurredAt = instant(el.querySelector('#occurred-at').value);
    const description = el.querySelector('#breach-description').value.trim();
    const externalRef = el.querySelector('#external-ref').value.trim();
    if (!occurredAt) return { text: 'Enter when the breach happened', href: '#occurred-at' };
    if (!description) return { text: 'Enter what happened', href: '#breach-description' };
    if (!externalRef) return { text: 'Enter the force incident reference', href: '#external-ref' };
    try {
      await gql('mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }',
        { i: { reference: order.reference, occurredAt, description, externalRef } });
    } catch (e) {
      return { text: `${e.message} (${e.code})`, href: '#occurred-at' };
    }
    done('Breach reported.');
    return null;
  });

  return h('section', { id: 'actions', 'aria-labelledby': 'actions-heading' },
    h('h2', { class: 'govuk-heading-m', id: 'actions-heading' }, 'Record'),
    order.serviceStatus === 'SERVED' ? null : serve,
    report);
}
