// What a role records from an order's page: police record service and report breaches; the court that made an order
// renews or discharges it, or records the event a DAPO lasted until. The server decides whether
// each is allowed (another force's order, an order already served, a breach before the order...): its refusal is
// shown as it comes, with its code.

import { gql } from './api.js';
import { button, errorSummary, field, h, select, when, words } from './dom.js';

const METHODS = [['PERSONAL', 'In person'], ['IN_COURT', 'In court'], ['POST', 'By post'], ['OTHER_AUTHORISED', 'Other authorised means']];

/// A date-time input's value (the browser's local time, London for its users) as an instant, or null.
export function instant(value) {
  const t = new Date(value);
  return value && !Number.isNaN(t.getTime()) ? t.toISOString() : null;
}

/// "now" for a datetime-local input, in the browser's time zone, to the minute.
function nowLocal() {
  const d = new Date();
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

export function form(id, heading, fields, submitText, onsubmit) {
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

  const notify = form('record-notification', 'Record a notification', [
    select({ id: 'notification-kind', label: 'What was notified', options: NOTIFICATION_KINDS, value: 'INITIAL' }),
    select({ id: 'notification-source', label: 'Who told the police', options: SOURCES, value: 'SUBJECT' }),
    field({ id: 'notified-at', label: 'When', hint: 'Date and time, London time', type: 'datetime-local', value: nowLocal(), width: 20 }),
    field({ id: 'changed-on', label: 'Day of the change', hint: 'YYYY-MM-DD; for a new name or address, or no longer having one', width: 10 }),
    field({ id: 'notification-details', label: 'Name or address notified', hint: 'Read back by the managing force only' }),
  ], 'Record notification', async (el) => {
    const notifiedAt = instant(el.querySelector('#notified-at').value);
    if (!notifiedAt) return { text: 'Enter when the police were told', href: '#notified-at' };
    const value = (id) => el.querySelector(id).value.trim() || null;
    return send('mutation($i: RecordNotificationInput!) { recordNotification(input: $i) { reference } }',
      { i: { reference: order.reference, kind: value('#notification-kind'), source: value('#notification-source'), notifiedAt,
        changedOn: value('#changed-on'), details: value('#notification-details') } }, '#notification-kind', () => done('Notification recorded.'));
  });

  const breaches = order.breaches ?? [];
  const outcome = breaches.length ? form('breach-outcome', 'Record what happened after a breach', [
    select({ id: 'outcome-breach', label: 'Breach', options: breaches.map((b) => [b.id, `Breach ${b.ordinal}: ${when(b.occurredAt)} (${words(b.outcome)})`]), value: breaches[breaches.length - 1].id }),
    select({ id: 'outcome', label: 'Outcome', options: BREACH_OUTCOMES, value: 'UNDER_INVESTIGATION' }),
    h('div', { class: 'govuk-checkboxes govuk-checkboxes--small govuk-form-group' },
      h('div', { class: 'govuk-checkboxes__item' },
        h('input', { class: 'govuk-checkboxes__input', id: 'recorded-as-crime', name: 'recorded-as-crime', type: 'checkbox' }),
        h('label', { class: 'govuk-label govuk-checkboxes__label', for: 'recorded-as-crime' }, 'Also recorded as a crime'))),
  ], 'Record outcome', async (el) => send(
    'mutation($id: ID!, $o: BreachOutcome!, $c: Boolean) { updateBreachOutcome(id: $id, outcome: $o, recordedAsCrime: $c) { id } }',
    { id: el.querySelector('#outcome-breach').value, o: el.querySelector('#outcome').value, c: el.querySelector('#recorded-as-crime').checked || null },
    '#outcome', () => done('Outcome recorded.'))) : null;

  // An order made without notice binds once the subject knows of it: service, or awareness learnt otherwise.
  const aware = order.withoutNotice && !order.subjectAwareAt ? form('record-awareness', 'Record that the subject knows of the order', [
    field({ id: 'aware-at', label: 'Known to the subject since', hint: 'Date and time, London time; for example when an officer told them of it', type: 'datetime-local', value: nowLocal(), width: 20 }),
  ], 'Record awareness', async (el) => {
    const awareAt = instant(el.querySelector('#aware-at').value);
    if (!awareAt) return { text: 'Enter since when the subject has known of the order', href: '#aware-at' };
    return send('mutation($r: String!, $at: DateTime!) { recordAwareness(reference: $r, awareAt: $at) { reference } }',
      { r: order.reference, at: awareAt }, '#aware-at', () => done('Awareness recorded.'));
  }) : null;

  // The subject's registration as a sex offender changes when the order's own notification requirements apply.
  const registration = ['SPO', 'INTERIM_SPO', 'SHPO'].includes(order.type) ? form('soa-registration', 'Record the subject’s sex offender notification', [
    h('div', { class: 'govuk-checkboxes govuk-checkboxes--small govuk-form-group' },
      h('div', { class: 'govuk-checkboxes__item' },
        h('input', { class: 'govuk-checkboxes__input', id: 'soa-registered', name: 'soa-registered', type: 'checkbox', checked: order.soaPart2Notification ? null : true }),
        h('label', { class: 'govuk-label govuk-checkboxes__label', for: 'soa-registered' }, 'Subject to notification requirements under Part 2 of the Sexual Offences Act 2003 (untick to clear)'))),
    field({ id: 'soa-start', label: 'Day they began (optional)', hint: 'YYYY-MM-DD; only when after the order was made', width: 10 }),
    field({ id: 'soa-final', label: 'Day they end (optional)', hint: 'YYYY-MM-DD; leave empty while they last indefinitely', width: 10 }),
  ], 'Record notification requirements', async (el) => {
    const value = (id) => el.querySelector(id).value.trim() || null;
    for (const [id, what] of [['#soa-start', 'the day they began'], ['#soa-final', 'the day they end']]) {
      if (value(id) && !/^\d{4}-\d{2}-\d{2}$/.test(value(id))) return { text: `Enter ${what} as YYYY-MM-DD`, href: id };
    }
    return send('mutation($r: String!, $reg: Boolean!, $f: Date, $s: Date) { setSoaPart2Notification(reference: $r, registered: $reg, finalDay: $f, startDay: $s) { reference } }',
      { r: order.reference, reg: el.querySelector('#soa-registered').checked, f: value('#soa-final'), s: value('#soa-start') }, '#soa-start',
      () => done('Notification requirements recorded; the order’s deadlines are planned again.'));
  }) : null;

  return h('section', { id: 'actions', 'aria-labelledby': 'actions-heading' },
    h('h2', { class: 'govuk-heading-m', id: 'actions-heading' }, 'Record'),
    order.serviceStatus === 'SERVED' ? null : serve,
    aware, report, outcome, notify, registration);
}

const NOTIFICATION_KINDS = [['INITIAL', 'Initial notification (name and address)'], ['NEW_NAME', 'A new name'], ['HOME_ADDRESS', 'A new home address'], ['NO_HOME_ADDRESS', 'No longer has a home address (DAPO)']];
const SOURCES = [['SUBJECT', 'The subject'], ['POLICE', 'Learnt elsewhere (the subject has still to notify)']];
const BREACH_OUTCOMES = ['UNDER_INVESTIGATION', 'NO_FURTHER_ACTION', 'CHARGED', 'CONVICTED', 'ACQUITTED', 'CONTEMPT_FOUND'].map((o) => [o, words(o)]);
const HEARING_OUTCOMES = ['HEARD', 'ADJOURNED', 'VACATED', 'REFUSED', 'WITHDRAWN'].map((o) => [o, words(o)]);

/// Sends a mutation; on success calls `then` and returns null, otherwise the problem to show, linked to `problemAt`.
export async function send(query, variables, problemAt, then) {
  try {
    await gql(query, variables);
  } catch (e) {
    const v = e.violations?.[0];
    const at = v?.field ? `#${FIELD_INPUTS[v.field] ?? problemAt.slice(1)}` : problemAt;
    return { text: `${v?.message ?? e.message} (${v?.code ?? e.code})`, href: at };
  }
  then?.();
  return null;
}

/// The form input for an API field a refusal names, where it is not the form's first.
const FIELD_INPUTS = { notifiedAt: 'notified-at', changedOn: 'changed-on', details: 'notification-details', heldAt: 'held-at', scheduledFor: 'listed-for', expiresOn: 'vary-to', conditionIds: 'outcome-breach',
  mainApplication: 'main-application', reportedOn: 'reported-on', internalDecision: 'internal-decision', internalDecisionOn: 'internal-decision-on',
  internalRefusalReason: 'internal-refusal-reason', madeToCourtOn: 'made-to-court-on', refusalReason: 'court-refusal-reason', orderReference: 'granted-order',
  finalDay: 'soa-final', startDay: 'soa-start' };

/// The forms the court that made an order uses on it: renew it to a later last day, discharge it, or record that the
/// event a DAPO lasted until occurred. Whether each is allowed (this court, the order in force, the consent an early
/// SPO discharge needs) is the server's to say.
export function courtActions(order, me, done) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  const decided = (id) => field({ id, label: 'Day the court decided', hint: 'YYYY-MM-DD', value: today, width: 10 });
  const forms = [];
  // A court records decisions on the orders it made; any court lists and records the hearings of a police notice.
  const own = order.court?.code === me.agency;
  if (own && order.untilEvent && !order.expiresOn) {
    forms.push(form('record-ending-event', `Record that the event occurred: ${order.untilEvent}`, [
      field({ id: 'occurred-on', label: 'Day the event occurred', hint: 'YYYY-MM-DD; the order is in force to the end of that day', value: today, width: 10 }),
    ], 'Record the event', async (el) => {
      const problem = await send('mutation($r: String!, $d: Date!) { recordEndingEvent(input: { reference: $r, occurredOn: $d }) { reference } }',
        { r: order.reference, d: el.querySelector('#occurred-on').value.trim() }, '#occurred-on');
      if (!problem) done('The event is recorded: the order ends at the end of that day.');
      return problem;
    }));
  }
  if (own && order.expiresOn) {
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
  if (own) forms.push(form('vary-order', 'Vary', [
    field({ id: 'vary-to', label: 'New last day', hint: 'YYYY-MM-DD; leave empty to keep it', width: 10 }),
    select({ id: 'vary-kind', label: 'Add a condition', options: [['', 'None'], ['PROHIBITION', 'Prohibition'], ['REQUIREMENT', 'Requirement']], value: '' }),
    field({ id: 'vary-text', label: 'Its words', hint: 'As the order words it; the conditions already in force stay' }),
    decided('vary-decided'),
    order.type === 'DAPO' ? h('div', { class: 'govuk-checkboxes govuk-checkboxes--small govuk-form-group' },
      h('div', { class: 'govuk-checkboxes__item' },
        h('input', { class: 'govuk-checkboxes__input', id: 'vary-without-notice', name: 'vary-without-notice', type: 'checkbox' }),
        h('label', { class: 'govuk-label govuk-checkboxes__label', for: 'vary-without-notice' }, 'Made without notice to the subject (what it adds binds once they are aware of it)'))) : null,
  ], 'Vary the order', async (el) => {
    const value = (id) => el.querySelector(id)?.value.trim() || null;
    const kind = value('#vary-kind');
    const text = value('#vary-text');
    if (kind && !text) return { text: 'Enter the words of the condition to add', href: '#vary-text' };
    const input = { reference: order.reference, decidedOn: value('#vary-decided'), withoutNotice: el.querySelector('#vary-without-notice')?.checked ?? false };
    if (value('#vary-to')) input.expiresOn = value('#vary-to');
    if (kind) {
      input.conditions = order.conditions.filter((c) => c.inForce).map((c) => ({ kind: c.kind, text: c.text, expiresOn: c.expiresOn }))
        .concat([{ kind, text }]);
    }
    if (!input.expiresOn && !input.conditions) return { text: 'Enter a new last day or a condition to add', href: '#vary-to' };
    return send('mutation($i: VaryOrderInput!) { varyOrder(input: $i) { reference } }', { i: input }, '#vary-to', () => done('Varied.'));
  }));
  forms.push(form('list-hearing', 'List a hearing', [
    field({ id: 'listed-for', label: 'Listed for', hint: 'Date and time, London time', type: 'datetime-local', width: 20 }),
  ], 'List the hearing', async (el) => {
    const at = instant(el.querySelector('#listed-for').value);
    if (!at) return { text: 'Enter when the hearing is listed for', href: '#listed-for' };
    return send('mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { reference } }',
      { i: { reference: order.reference, scheduledFor: at } }, '#listed-for', () => done('Hearing listed.'));
  }));
  const open = (order.hearings ?? []).filter((x) => !x.outcome && x.court === me.agency);
  if (open.length) {
    forms.push(form('hearing-outcome', 'Record a hearing’s outcome', [
      select({ id: 'hearing', label: 'Hearing', options: open.map((x) => [x.id, `Listed for ${when(x.scheduledFor)}`]), value: open[0].id }),
      select({ id: 'hearing-outcome-value', label: 'Outcome', options: HEARING_OUTCOMES, value: 'HEARD' }),
      field({ id: 'held-at', label: 'When it began', hint: 'Date and time, London time; for a withdrawal, when it was withdrawn', type: 'datetime-local', value: nowLocal(), width: 20 }),
    ], 'Record the outcome', async (el) => send(
      'mutation($i: RecordHearingOutcomeInput!) { recordHearingOutcome(input: $i) { reference } }',
      { i: { hearingId: el.querySelector('#hearing').value, outcome: el.querySelector('#hearing-outcome-value').value, heldAt: instant(el.querySelector('#held-at').value) } },
      '#hearing-outcome-value', () => done('Hearing outcome recorded.'))));
  }
  if (own) forms.push(form('discharge-order', 'Discharge', [
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

/// A court lists the hearing of a police notice's application by its reference: it sees the notice only once a
/// hearing is listed at it.
export function listNoticeHearing(reference, done) {
  return form('list-notice-hearing', `List the hearing of police notice ${reference}`, [
    field({ id: 'notice-listed-for', label: 'Listed for', hint: 'Date and time, London time', type: 'datetime-local', width: 20 }),
  ], 'List the hearing', async (el) => {
    const at = instant(el.querySelector('#notice-listed-for').value);
    if (!at) return { text: 'Enter when the hearing is listed for', href: '#notice-listed-for' };
    return send('mutation($i: ScheduleHearingInput!) { scheduleHearing(input: $i) { reference } }',
      { i: { reference, scheduledFor: at } }, '#notice-listed-for', () => done('Hearing listed.'));
  });
}

/// A Crown Court allowing an appeal quashes a magistrates' court's order by its reference: it does not see the
/// orders other courts made, so the server alone decides whether this one may be quashed by this court.
export function quashByReference(reference, done) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  return form('quash-order', `Quash order ${reference} on appeal`, [
    h('p', { class: 'govuk-body' }, 'For a Crown Court allowing an appeal against an order a magistrates’ court made.'),
    field({ id: 'quash-decided', label: 'Day the court decided', hint: 'YYYY-MM-DD', value: today, width: 10 }),
    field({ id: 'quash-note', label: 'Note (optional)', hint: 'For example the appeal’s case number' }),
  ], 'Quash the order', async (el) => send('mutation($r: String!, $d: Date, $n: String) { quashOrder(input: { reference: $r, decidedOn: $d, note: $n }) { reference } }',
    { r: reference, d: el.querySelector('#quash-decided').value.trim() || null, n: el.querySelector('#quash-note').value.trim() || null },
    '#quash-decided', () => done('Quashed.')));
}

/// The court that made an order, or its managing force, records a protected person's consent to share it with an
/// advocacy service (whose advocates then see it and its alerts), or its withdrawal.
export function shareActions(order, done) {
  const people = (order.protectedPersons ?? []).map((p) => [p.id, p.name]);
  if (!people.length) return null;
  const fields = (prefix) => [
    select({ id: `${prefix}-person`, label: 'Protected person', options: people, value: people[0][0] }),
    field({ id: `${prefix}-agency`, label: 'Advocacy service', hint: 'Its agency code, for example ADV-LDN', width: 10 }),
  ];
  const call = (mutation, prefix, message) => async (el) => {
    const agency = el.querySelector(`#${prefix}-agency`).value.trim();
    if (!agency) return { text: 'Enter the advocacy service’s agency code', href: `#${prefix}-agency` };
    return send(`mutation($r: String!, $p: ID!, $a: String!) { ${mutation}(reference: $r, protectedPersonId: $p, advocacyAgency: $a) { id } }`,
      { r: order.reference, p: el.querySelector(`#${prefix}-person`).value, a: agency }, `#${prefix}-agency`, () => done(message));
  };
  return h('section', { id: 'sharing', 'aria-labelledby': 'sharing-heading' },
    h('h2', { class: 'govuk-heading-m', id: 'sharing-heading' }, 'Sharing with advocacy services'),
    form('share-order', 'Record consent to share', fields('share'), 'Share', call('shareOrderWithAdvocacy', 'share', 'Consent recorded: the service’s advocates now see the order and its alerts.')),
    form('revoke-share', 'Record that consent was withdrawn', fields('revoke'), 'Withdraw', call('revokeOrderShare', 'revoke', 'Withdrawal recorded: the service’s advocates no longer see the order.')));
}
