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

/// The ids' prefix of the `i`-th protected person's fields (from 0): `person`, `person2`, `person3`...
const person = (i) => (i === 0 ? 'person' : `person${i + 1}`);

/// Which form field an API field path (`subject.names`, `protectedPersons[0].name`) belongs to.
function fieldOf(path = '') {
  const p = path.replace(/^input\./, '');
  const at = p.match(/^protectedPersons(?:\.|\[)(\d+)/);
  if (at) return `${person(Number(at[1]))}-${/dateOfBirth/.test(p) ? 'dob' : /contact/.test(p) ? 'contact' : 'name'}`;
  const map = [
    [/^reference/, 'reference'], [/^type/, 'type'], [/^applicantAgency/, 'applicant'],
    [/^subject\.names/, 'subject-name'], [/^subject/, 'subject-dob'], [/^protectedPersons/, 'person-name'],
    [/^madeOn/, 'made-on'], [/^expiresOn|^term/, 'expires-on'], [/^conditions/, 'prohibitions'], [/^replacesReference|^replaced/, 'replaces'],
  ];
  return map.find(([re]) => re.test(p))?.[1] ?? 'reference';
}

const lines = (text) => text.split('\n').map((l) => l.trim()).filter(Boolean);

export async function recordOrder({ me, show }) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  // How many protected people the form asks about: two at first, one more for each "Add another".
  let persons = 2;
  const personIds = () => Array.from({ length: persons }, (_, i) => ['name', 'dob', 'contact'].map((k) => `${person(i)}-${k}`)).flat();
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
      Array.from({ length: persons }, (_, i) => [
        h('h2', { class: 'govuk-heading-m' }, i === 0 ? 'The protected person' : `Protected person ${i + 1} (optional)`),
        f(`${person(i)}-name`, 'Full name', { width: 20 }),
        f(`${person(i)}-dob`, 'Date of birth (optional)', { hint: 'YYYY-MM-DD', width: 10 }),
        f(`${person(i)}-contact`, 'How the police can reach them (optional)', { hint: 'Seen only by the applicant force' }),
      ]),
      button('Add another protected person', { type: 'button', id: 'add-person', class: 'govuk-button govuk-button--secondary', onclick: () => {
        const typed = valuesOf(form);
        persons += 1;
        render(typed);
        document.querySelector(`#${person(persons - 1)}-name`).focus();
      } }),
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

  const valuesOf = (form) => {
    const ids = ['reference', 'type', 'applicant', 'made-on', 'expires-on', 'replaces', 'subject-name', 'subject-dob', ...personIds(), 'prohibitions', 'requirements'];
    return Object.fromEntries(ids.map((id) => [id, form.querySelector(`#${id}`).value.trim()]));
  };

  const submit = async (form) => {
    const values = valuesOf(form);
    const problems = {};
    const needed = { reference: 'Enter the order reference', applicant: 'Enter the applicant force', 'made-on': 'Enter the day the order was made', 'subject-name': 'Enter the subject’s full name', 'person-name': 'Enter the protected person’s full name' };
    for (const [id, text] of Object.entries(needed)) if (!values[id]) problems[id] = text;
    for (let i = 1; i < persons; i += 1) {
      const p = person(i);
      if ((values[`${p}-dob`] || values[`${p}-contact`]) && !values[`${p}-name`]) problems[`${p}-name`] = `Enter protected person ${i + 1}’s full name, or leave their details empty`;
    }
    for (const id of ['made-on', 'expires-on', 'subject-dob', ...Array.from({ length: persons }, (_, i) => `${person(i)}-dob`)]) {
      if (values[id] && !/^\d{4}-\d{2}-\d{2}$/.test(values[id])) problems[id] = 'Enter the date as YYYY-MM-DD';
    }
    if (Object.keys(problems).length) return render(values, problems);
    const input = {
      reference: values.reference,
      type: values.type,
      applicantAgency: values.applicant.toUpperCase(),
      subject: { names: [values['subject-name']], dateOfBirth: values['subject-dob'] || null },
      protectedPersons: Array.from({ length: persons }, (_, i) => person(i)).filter((p) => values[`${p}-name`])
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
