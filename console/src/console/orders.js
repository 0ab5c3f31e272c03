// Finding an order: by reference, or by the subject's name and date of birth. The reason for the look-up is asked
// every time and sent with it (as the query's `reason`, which may hold any text): the server records it in the audit
// log. The order is shown exactly as the API returns
// it for the caller's role; fields the role may not read are marked as such.

import { gql } from './api.js';
import { courtActions, listNoticeHearing, policeActions, quashByReference, shareActions } from './actions.js';
import { button, day, errorSummary, field, h, success, summary, table, tag, when, words } from './dom.js';

const ORDER = `reference type status serviceStatus servedAt serviceMethod madeOn expiresOn untilEvent withoutNotice subjectAwareAt
  soaPart2Notification { finalDay startDay }
  replacesReference replacedByReference applicantAgency { code name } court { code name }
  subject { names dateOfBirth }
  protectedPersons { id name dateOfBirth contact }
  conditions { id kind text expiresOn inForce }
  deadlines { id kind dueAt status rule }
  hearings { id court scheduledFor outcome heldAt }
  breaches { id ordinal occurredAt outcome recordedAsCrime reportedByAgency description externalRef }
  versions { version event status recordedAt decidedOn recordedByAgency }`;

const STATUS_COLOUR = { IN_FORCE: 'green', EXPIRED: 'grey', DISCHARGED: 'grey', LAPSED: 'grey', CEASED: 'grey', QUASHED: 'grey', REPLACED: 'grey' };

const withheldNote = h.bind(null, 'p', { class: 'govuk-body govuk-hint' });

function section(title, withheld, content) {
  return [h('h2', { class: 'govuk-heading-m' }, title), withheld ? withheldNote('Not shown to your role.') : content];
}

function orderDetail(o, withheld) {
  const hidden = (path) => withheld.has(`order.${path}`) || [...withheld].some((p) => p.startsWith(`order.${path}.`));
  return h('div', { id: 'order' },
    h('h2', { class: 'govuk-heading-l' }, `${words(o.type)} ${o.reference} `, tag(words(o.status), STATUS_COLOUR[o.status])),
    summary([
      ['Made', day(o.madeOn)],
      ['Ends', o.expiresOn ? day(o.expiresOn) : o.untilEvent ? `When this occurs: ${o.untilEvent}` : 'Until further order'],
      ['Court', o.court ? o.court.name : 'None'],
      ['Applicant force', o.applicantAgency.name],
      ['Service', o.servedAt ? `${words(o.serviceStatus)}: ${when(o.servedAt)}${o.serviceMethod ? ` (${words(o.serviceMethod)})` : ''}` : words(o.serviceStatus)],
      o.withoutNotice ? ['Made without notice', o.subjectAwareAt ? `Subject aware since ${when(o.subjectAwareAt)}` : 'Subject not yet known to be aware'] : null,
      o.soaPart2Notification ? ['Sex offender notification (Sexual Offences Act 2003 Part 2)',
        `${o.soaPart2Notification.startDay ? `From ${day(o.soaPart2Notification.startDay)}` : 'In place when the order was made'}; ${o.soaPart2Notification.finalDay ? `ends ${day(o.soaPart2Notification.finalDay)}` : 'indefinite'}`] : null,
      o.replacesReference ? ['Replaces', o.replacesReference] : null,
      o.replacedByReference ? ['Replaced by', o.replacedByReference] : null,
    ]),
    section('Subject', false, summary([['Names', o.subject.names.join('; ')], ['Date of birth', o.subject.dateOfBirth ? day(o.subject.dateOfBirth) : 'Not recorded']])),
    section('Protected people', false, o.protectedPersons.length
      ? table(null, ['Name', 'Date of birth', 'Contact'], o.protectedPersons.map((p, i) => [p.name, day(p.dateOfBirth), hidden(`protectedPersons.${i}.contact`) ? 'Not shown to your role' : (p.contact ?? '')]))
      : withheldNote('None you may see.')),
    section('Conditions', false, o.conditions.length
      ? table(null, ['Kind', 'Condition', 'Ends', 'In force'], o.conditions.map((c) => [words(c.kind), c.text, c.expiresOn ? day(c.expiresOn) : 'With the order', c.inForce ? 'Yes' : 'No']))
      : withheldNote('No conditions recorded.')),
    section('Deadlines', false, o.deadlines.length
      ? table(null, ['Due', 'Kind', 'Status'], o.deadlines.map((d) => [when(d.dueAt), words(d.kind), words(d.status)]))
      : withheldNote('No deadlines.')),
    section('Hearings', false, o.hearings.length
      ? table(null, ['Court', 'Listed for', 'Outcome'], o.hearings.map((x) => [x.court, when(x.scheduledFor), x.outcome ? `${words(x.outcome)}${x.heldAt ? `, ${when(x.heldAt)}` : ''}` : 'Not yet held']))
      : withheldNote('No hearings.')),
    section('Breaches', hidden('breaches'), (o.breaches ?? []).length
      ? table(null, ['Breach', 'Occurred', 'What happened', 'Force reference', 'Outcome', 'Recorded as a crime', 'Reported by'], o.breaches.map((b, i) => [
        `${b.ordinal}`, when(b.occurredAt),
        hidden(`breaches.${i}.description`) ? 'Not shown to your role' : (b.description ?? ''),
        hidden(`breaches.${i}.externalRef`) ? 'Not shown to your role' : (b.externalRef ?? ''),
        words(b.outcome), b.recordedAsCrime ? 'Yes' : 'No', b.reportedByAgency]))
      : withheldNote('No breaches reported.')),
    section('History', false, table(null, ['Version', 'Event', 'Status', 'Decided', 'Recorded', 'By'],
      o.versions.map((v) => [`${v.version}`, words(v.event), words(v.status), v.decidedOn ? day(v.decidedOn) : '', when(v.recordedAt), v.recordedByAgency]))));
}

export async function orderView({ me, show, params }) {
  const asked = params[0] ?? '';
  const render = (values, problems = {}, result = null, banner = null) => {
    const list = Object.entries(problems).map(([id, text]) => ({ text, href: `#${id}` }));
    const form = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); submit(form); } },
      field({ id: 'reference', label: 'Order reference', hint: 'For example WMC/2026/0042', value: values.reference, width: 20, error: problems.reference }),
      h('p', { class: 'govuk-body' }, 'Or find by the subject:'),
      field({ id: 'name', label: 'Subject’s full name', value: values.name, width: 20, error: problems.name }),
      field({ id: 'dob', label: 'Subject’s date of birth', hint: 'As YYYY-MM-DD, for example 1980-03-27', value: values.dob, width: 10, error: problems.dob }),
      field({ id: 'reason', label: 'Reason for the look-up', hint: 'Recorded in the audit log with your name, for example an incident number', value: values.reason, error: problems.reason }),
      button('Find'));
    show('Find an order',
      banner,
      list.length ? errorSummary(list) : null,
      h('h1', { class: 'govuk-heading-l' }, 'Find an order'),
      form,
      result);
    if (list.length) document.querySelector('.govuk-error-summary').focus();
    else if (banner) banner.focus();
    else if (result) {
      result.querySelector('h2')?.setAttribute('tabindex', '-1');
      result.querySelector('h2')?.focus();
    }
  };

  const submit = async (form, banner = null) => {
    const values = Object.fromEntries(['reference', 'name', 'dob', 'reason'].map((k) => [k, form.querySelector(`#${k}`).value.trim()]));
    const problems = {};
    if (!values.reason) problems.reason = 'Enter the reason for the look-up';
    if (!values.reference && !(values.name && values.dob)) problems.reference = 'Enter an order reference, or the subject’s name and date of birth';
    if (values.dob && !/^\d{4}-\d{2}-\d{2}$/.test(values.dob)) problems.dob = 'Enter the date of birth as YYYY-MM-DD';
    if (Object.keys(problems).length) return render(values, problems);
    try {
      if (values.reference) {
        const { data, withheld } = await gql(`query($r: String!, $why: String) { order(reference: $r, reason: $why) { ${ORDER} } }`, { r: values.reference, why: values.reason });
        // After recording something, the order is read again (with the same reason) to show it as it now stands.
        const done = (message) => submit(form, success(message));
        const detail = data.order && orderDetail(data.order, withheld);
        if (detail && me.role === 'POLICE') detail.append(policeActions(data.order, done));
        // Consent to share: recorded by the court that made the order or the force that manages it.
        const mine = data.order && ((me.role === 'POLICE' && data.order.applicantAgency.code === me.agency) || (me.role === 'COURT' && data.order.court?.code === me.agency));
        if (detail && mine && data.order.status === 'IN_FORCE') {
          const sharing = shareActions(data.order, done);
          if (sharing) detail.append(sharing);
        }
        // The court that made the order records its decisions on it; a court lists a police notice's hearings.
        if (detail && me.role === 'COURT' && (data.order.court?.code === me.agency || !data.order.court) && data.order.status === 'IN_FORCE') {
          detail.append(courtActions(data.order, me, done));
        }
        render(values, {}, detail
          ?? h('div', {}, h('h2', { class: 'govuk-heading-m' }, 'No order found'), h('p', { class: 'govuk-body' }, 'There is no order with this reference that your role may see.'),
            me.role === 'COURT' ? listNoticeHearing(values.reference, done) : null,
            me.role === 'COURT' ? quashByReference(values.reference, done) : null), banner);
      } else {
        const { data } = await gql(`query($f: OrderFilter, $why: String) { orders(filter: $f, first: 50, reason: $why) { edges { node { reference type status madeOn expiresOn } } } }`,
          { f: { subjectName: values.name, subjectDateOfBirth: values.dob }, why: values.reason });
        const found = data.orders.edges.map((e) => e.node);
        render(values, {}, h('div', { id: 'matches' }, h('h2', { class: 'govuk-heading-m' }, `${found.length} order${found.length === 1 ? '' : 's'} found`),
          found.length ? table(null, ['Reference', 'Type', 'Status', 'Made', 'Ends'], found.map((o) => [
            h('a', { class: 'govuk-link', href: `#/orders/${encodeURIComponent(o.reference)}` }, o.reference), words(o.type), words(o.status), day(o.madeOn), o.expiresOn ? day(o.expiresOn) : '',
          ])) : null));
      }
    } catch (e) {
      render(values, { reference: `${e.message} (${e.code})` });
    }
  };

  render({ reference: asked, name: '', dob: '', reason: '' });
}
