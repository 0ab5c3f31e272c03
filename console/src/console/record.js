// Recording an order a court has made: the court's daily task. The form sends what the clerk typed; every rule (the
// term the law allows, ages, who may make which order, the reference's namespace) is the server's, and each rule
// broken is shown against its field.

import { gql } from './api.js';
import { button, errorSummary, field, h, select, success } from './dom.js';

const TYPES = [
  ['SPO', 'Stalking protection order'],
  ['INTERIM_SPO', 'Interim stalking protection order'],
  ['DVPO', 'Domestic violence protection order'],
  ['DAPO', 'Domestic abuse protection order'],
  ['RESTRAINING_ORDER', 'Restraining order'],
  ['NON_MOLESTATION_ORDER', 'Non-molestation order'],
  ['SHPO', 'Sexual harm prevention order'],
];

/// Which form field an API field path (`subject.names`, `protectedPersons[0].name`) belongs to.
function fieldOf(path = '') {
  const p = path.replace(/^input\./, '');
  const map = [
    [/^reference/, 'reference'], [/^type/, 'type'], [/^applicantAgency/, 'applicant'],
    [/^subject\.names/, 'subject-name'], [/^subject/, 'subject-dob'],
    [/^protectedPersons(\.|\[)1.*dateOfBirth/, 'person2-dob'], [/^protectedPersons(\.|\[)1.*contact/, 'person2-contact'], [/^protectedPersons(\.|\[)1/, 'person2-name'],
    [/^protectedPersons.*dateOfBirth/, 'person-dob'], [/^protectedPersons.*contact/, 'person-contact'], [/^protectedPersons/, 'person-name'],
    [/^madeOn/, 'made-on'], [/^expiresOn|^term/, 'expires-on'], [/^conditions/, 'prohibitions'], [/^replacesReference|^replaced/, 'replaces'],
  ];
  return map.find(([re]) => re.test(p))?.[1] ?? 'reference';
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

export async function recordOrder({ me, show }) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  const render = (values, problems = {}, banner = null) => {
    const list = Object.entries(problems).map(([id, text]) => ({ text, href: `#${id}` }));
    const textarea = (id, label, hint) => h('div', { class: `govuk-form-group${problems[id] ? ' govuk-form-group--error' : ''}` },
      h('label', { class: 'govuk-label', for: id }, label),
      h('div', { class: 'govuk-hint', id: `${id}-hint` }, hint),
      problems[id] ? h('p', { class: 'govuk-error-message', id: `${id}-error` }, h('span', { class: 'govuk-visually-hidden' }, 'Error: '), problems[id]) : null,
      h('textarea', { class: `govuk-textarea${problems[id] ? ' govuk-textarea--error' : ''}`, id, name: id, rows: '3', 'aria-describedby': `${id}-hint${problems[id] ? ` ${id}-error` : ''}` }, values[id] ?? ''));
    const f = (id, label, extra = {}) => field({ id, label, value: values[id] ?? '', error: problems[id], ...extra });
    const form = h('form', { novalidate: true, id: 'record-order', onsubmit: (e) => { e.preventDefault(); submit(form); } },
      h('h2', { class: 'govuk-heading-m' }, 'The order'),
      f('reference', 'Order reference', { hint: `Your court’s reference, beginning ${me.agency}/`, width: 20 }),
      select({ id: 'type', label: 'Type of order', options: TYPES, value: values.type ?? 'SPO' }),
      f('applicant', 'Applicant police force', { hint: 'The force’s code, for example MET', width: 10 }),
      f('made-on', 'Made on', { hint: 'YYYY-MM-DD', width: 10 }),
      f('expires-on', 'Last day in force', { hint: 'YYYY-MM-DD; leave empty for an order until further order', width: 10 }),
      f('replaces', 'Replaces order (optional)', { hint: 'The reference of the interim order or notice this order replaces', width: 20 }),
      h('h2', { class: 'govuk-heading-m' }, 'The subject'),
      f('subject-name', 'Full name', { width: 20 }),
      f('subject-dob', 'Date of birth', { hint: 'YYYY-MM-DD', width: 10 }),
      h('h2', { class: 'govuk-heading-m' }, 'The protected person'),
      f('person-name', 'Full name', { width: 20 }),
      f('person-dob', 'Date of birth (optional)', { hint: 'YYYY-MM-DD', width: 10 }),
      f('person-contact', 'How the police can reach them (optional)', { hint: 'Seen only by the applicant force' }),
      h('h2', { class: 'govuk-heading-m' }, 'A second protected person (optional)'),
      f('person2-name', 'Full name', { width: 20 }),
      f('person2-dob', 'Date of birth (optional)', { hint: 'YYYY-MM-DD', width: 10 }),
      f('person2-contact', 'How the police can reach them (optional)', { hint: 'Seen only by the applicant force' }),
      h('h2', { class: 'govuk-heading-m' }, 'Conditions'),
      textarea('prohibitions', 'Prohibitions', 'One per line, as the order words them'),
      textarea('requirements', 'Requirements', 'One per line, as the order words them'),
      button('Record the order'));
    show('Record an order',
      banner,
      list.length ? errorSummary(list) : null,
      h('h1', { class: 'govuk-heading-l' }, 'Record an order'),
      h('p', { class: 'govuk-body' }, 'An order your court has made. It is shared with the applicant force at once and its deadlines are planned.'),
      form);
    if (list.length) document.querySelector('.govuk-error-summary').focus();
    else if (banner) banner.focus();
  };

  const submit = async (form) => {
    const ids = ['reference', 'type', 'applicant', 'made-on', 'expires-on', 'replaces', 'subject-name', 'subject-dob', 'person-name', 'person-dob', 'person-contact', 'person2-name', 'person2-dob', 'person2-contact', 'prohibitions', 'requirements'];
    const values = Object.fromEntries(ids.map((id) => [id, form.querySelector(`#${id}`).value.trim()]));
    const problems = {};
    const needed = { reference: 'Enter the order reference', applicant: 'Enter the applicant force', 'made-on': 'Enter the day the order was made', 'subject-name': 'Enter the subject’s full name', 'person-name': 'Enter the protected person’s full name' };
    for (const [id, text] of Object.entries(needed)) if (!values[id]) problems[id] = text;
    if ((values['person2-dob'] || values['person2-contact']) && !values['person2-name']) problems['person2-name'] = 'Enter the second protected person’s full name, or leave their details empty';
    for (const id of ['made-on', 'expires-on', 'subject-dob', 'person-dob', 'person2-dob']) {
      if (values[id] && !/^\d{4}-\d{2}-\d{2}$/.test(values[id])) problems[id] = 'Enter the date as YYYY-MM-DD';
    }
    if (Object.keys(problems).length) return render(values, problems);
    const input = {
      reference: values.reference,
      type: values.type,
      applicantAgency: values.applicant.toUpperCase(),
      subject: { names: [values['subject-name']], dateOfBirth: values['subject-dob'] || null },
      protectedPersons: ['person', 'person2'].filter((p) => values[`${p}-name`])
        .map((p) => ({ name: values[`${p}-name`], dateOfBirth: values[`${p}-dob`] || null, contact: values[`${p}-contact`] || null })),
      madeOn: values['made-on'],
      expiresOn: values['expires-on'] || null,
      replacesReference: values.replaces || null,
      conditions: [
        ...lines(values.prohibitions).map((text) => ({ kind: 'PROHIBITION', text })),
        ...lines(values.requirements).map((text) => ({ kind: 'REQUIREMENT', text })),
      ],
    };
    try {
      const { data } = await gql('mutation($i: GrantOrderInput!) { grantOrder(input: $i) { reference } }', { i: input });
      const reference = data.grantOrder.reference;
      render({ 'made-on': today }, {}, success('Order ', h('a', { class: 'govuk-notification-banner__link', href: `#/orders/${encodeURIComponent(reference)}` }, reference), ' recorded.'));
    } catch (e) {
      const found = {};
      for (const v of e.violations ?? []) {
        const id = fieldOf(v.field);
        found[id] = found[id] ? `${found[id]}; ${v.message}` : v.message;
      }
      if (!Object.keys(found).length) found[fieldOf(e.code === 'REFERENCE_TAKEN' || e.code === 'REFERENCE_OUTSIDE_NAMESPACE' ? 'reference' : '')] = `${e.message} (${e.code})`;
      render(values, found);
    }
  };

  render({ 'made-on': today, type: 'SPO' });
}
