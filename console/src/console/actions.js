// What a role records from an order's page: police record service and report breaches; the court that made an order
// renews or discharges it, or records the event a DAPO lasted until. The server decides whether
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

/// The forms the court that made an order uses on it: renew it to a later last day, discharge it, or record that the
/// event a DAPO lasted until occurred. Whether each is allowed (this court, the order in force, the consent an early
/// SPO discharge needs) is the server's to say.
export function courtActions(order, done) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  const decided = (id) => field({ id, label: 'Day the court decided', hint: 'YYYY-MM-DD', value: today, width: 10 });
  const forms = [];
  const send = async (query, variables, problemAt) => {
    try {
      await gql(query, variables);
      return null;
    } catch (e) {
      const v = e.violations?.[0];
      return { text: `${v?.message ?? e.message} (${v?.code ?? e.code})`, href: problemAt };
    }
  };
  if (order.untilEvent && !order.expiresOn) {
    forms.push(form('record-ending-event', `Record that the event occurred: ${order.untilEvent}`, [
      field({ id: 'occurred-on', label: 'Day the event occurred', hint: 'YYYY-MM-DD; the order is in force to the end of that day', value: today, width: 10 }),
    ], 'Record the event', async (el) => {
      const problem = await send('mutation($r: String!, $d: Date!) { recordEndingEvent(input: { reference: $r, occurredOn: $d }) { reference } }',
        { r: order.reference, d: el.querySelector('#occurred-on').value.trim() }, '#occurred-on');
      if (!problem) done('The event is recorded: the order ends at the end of that day.');
      return problem;
    }));
  }
  if (order.expiresOn) {
    forms.push(form('renew-order', 'Renew', [
      field({ id: 'renew-to', label: 'New last day', hint: 'YYYY-MM-DD, after the present one', width: 10 }),
      decided('renew-decided'),
    ], 'Renew the order', async (el) => {
      const problem = await send('mutation($r: String!, $e: Date!, $d: Date) { renewOrder(input: { reference: $r, expiresOn: $e, decidedOn: $d }) { reference } }',
        { r: order.reference, e: el.querySelector('#renew-to').value.trim(), d: el.querySelector('#renew-decided').value.trim() || null }, '#renew-to');
      if (!problem) done('Renewed.');
      return problem;
    }));
  }
  forms.push(form('discharge-order', 'Discharge', [
    decided('discharge-decided'),
    h('div', { class: 'govuk-checkboxes govuk-checkboxes--small govuk-form-group' },
      h('div', { class: 'govuk-checkboxes__item' },
        h('input', { class: 'govuk-checkboxes__input', id: 'consent', name: 'consent', type: 'checkbox' }),
        h('label', { class: 'govuk-label govuk-checkboxes__label', for: 'consent' }, 'The subject and the chief officer of police consent (an SPO within 2 years of being made needs it)'))),
  ], 'Discharge the order', async (el) => {
    const problem = await send('mutation($r: String!, $c: Boolean!, $d: Date) { dischargeOrder(input: { reference: $r, consentOfSubjectAndChiefOfficer: $c, decidedOn: $d }) { reference } }',
      { r: order.reference, c: el.querySelector('#consent').checked, d: el.querySelector('#discharge-decided').value.trim() || null }, '#discharge-decided');
    if (!problem) done('Discharged.');
    return problem;
  }));
  return h('section', { id: 'court-actions', 'aria-labelledby': 'court-actions-heading' },
    h('h2', { class: 'govuk-heading-m', id: 'court-actions-heading' }, 'Record a decision'), forms);
}
