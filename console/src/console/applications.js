// Applications for orders: a force records each it considers, with the stages known so far, and adds the rest as they
// happen; the court it went to records its decision. Only the force and that court see an application; what each
// may record is the server's to say, and its refusal is shown against the field it names.

import { gql } from './api.js';
import { form, send } from './actions.js';
import { button, day, errorSummary, field, h, select, success, summary, words } from './dom.js';

const FIELDS = `reference force orderType mainApplication reportedOn internalDecision internalDecisionOn internalRefusalReason
  madeToCourtOn court courtOutcome courtOutcomeOn courtRefusalReason orderReference`;
const TYPES = ['SPO', 'INTERIM_SPO', 'DVPO', 'DAPO', 'SHPO'].map((t) => [t, words(t)]);
const DECISIONS = [['', 'Not yet decided'], ['AUTHORISED', 'Authorised'], ['REFUSED', 'Refused']];
const FORCE_REASONS = [['', 'None'], ...['INSUFFICIENT_EVIDENCE', 'TEST_NOT_MET', 'OTHER_MEASURES_IN_PLACE', 'VICTIM_DOES_NOT_SUPPORT', 'SUBJECT_IN_CUSTODY', 'OTHER'].map((r) => [r, words(r)])];
const OUTCOMES = ['GRANTED', 'REFUSED', 'WITHDRAWN', 'ADJOURNED'].map((o) => [o, words(o)]);
const COURT_REASONS = [['', 'None'], ...['TEST_NOT_MET', 'INSUFFICIENT_EVIDENCE', 'NOT_NECESSARY', 'PROCEDURAL_DEFECT', 'OTHER'].map((r) => [r, words(r)])];

const value = (el, id) => el.querySelector(id)?.value.trim() || null;

/// The force's stages from a form: only those given.
function stages(el) {
  return {
    reportedOn: value(el, '#reported-on'),
    internalDecision: value(el, '#internal-decision'),
    internalDecisionOn: value(el, '#internal-decision-on'),
    internalRefusalReason: value(el, '#internal-refusal-reason'),
    madeToCourtOn: value(el, '#made-to-court-on'),
    court: value(el, '#application-court'),
  };
}

function stageFields() {
  return [
    field({ id: 'reported-on', label: 'Day first reported to police', hint: 'YYYY-MM-DD, the crime report’s date', width: 10 }),
    select({ id: 'internal-decision', label: 'The force’s decision', options: DECISIONS, value: '' }),
    field({ id: 'internal-decision-on', label: 'Day of the force’s decision', hint: 'YYYY-MM-DD', width: 10 }),
    select({ id: 'internal-refusal-reason', label: 'Why the force refused', options: FORCE_REASONS, value: '' }),
    field({ id: 'made-to-court-on', label: 'Day made to court', hint: 'YYYY-MM-DD', width: 10 }),
    field({ id: 'application-court', label: 'Magistrates’ court', hint: 'Its agency code, for example WMC', width: 10 }),
  ];
}

function detail(a) {
  return h('div', { id: 'application' },
    h('h2', { class: 'govuk-heading-l', tabindex: '-1' }, `Application ${a.reference}`),
    summary([
      ['Force', a.force],
      ['Order applied for', words(a.orderType)],
      a.mainApplication ? ['Pending the main application', a.mainApplication] : null,
      ['First reported', day(a.reportedOn)],
      ['The force’s decision', a.internalDecision ? `${words(a.internalDecision)}, ${day(a.internalDecisionOn)}${a.internalRefusalReason ? ` (${words(a.internalRefusalReason)})` : ''}` : 'Not yet decided'],
      ['Made to court', a.madeToCourtOn ? `${day(a.madeToCourtOn)}, ${a.court}` : 'Not yet'],
      ['The court’s decision', a.courtOutcome ? `${words(a.courtOutcome)}, ${day(a.courtOutcomeOn)}${a.courtRefusalReason ? ` (${words(a.courtRefusalReason)})` : ''}` : 'Not yet decided'],
      a.orderReference ? ['Order granted', h('a', { class: 'govuk-link', href: `#/orders/${encodeURIComponent(a.orderReference)}` }, a.orderReference)] : null,
    ]));
}

export async function applications({ me, show, params }) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());

  const render = async (reference, banner = null) => {
    let found = null;
    let problem = null;
    if (reference) {
      try {
        found = (await gql(`query($r: String!) { application(reference: $r) { ${FIELDS} } }`, { r: reference })).data.application;
      } catch (e) {
        problem = `${e.message} (${e.code})`;
      }
    }
    const reload = (r) => (message) => render(r, success(message));
    const find = h('form', { novalidate: true, onsubmit: (e) => { e.preventDefault(); location.hash = `#/applications/${encodeURIComponent(find.querySelector('#application-reference').value.trim())}`; } },
      field({ id: 'application-reference', label: 'Application reference', hint: 'For example MET/APP/42', value: reference ?? '', width: 20, error: problem }),
      button('Find'));
    const result = !reference ? null : found ? [detail(found),
      me.role === 'POLICE' ? form('update-application', 'Add stages', stageFields(), 'Add stages', async (el) => send(
        'mutation($r: String!, $s: ApplicationStagesInput!) { updateApplication(reference: $r, stages: $s) { reference } }',
        { r: found.reference, s: stages(el) }, '#reported-on', () => reload(found.reference)('Stages added.'))) : null,
      me.role === 'COURT' ? form('application-outcome', 'Record the court’s decision', [
        select({ id: 'court-outcome', label: 'Decision', options: OUTCOMES, value: 'GRANTED' }),
        field({ id: 'court-decided-on', label: 'Day decided', hint: 'YYYY-MM-DD', value: today, width: 10 }),
        select({ id: 'court-refusal-reason', label: 'Why the court refused', options: COURT_REASONS, value: '' }),
        field({ id: 'granted-order', label: 'Order made on it', hint: 'For a grant: the reference of the order recorded', width: 20 }),
      ], 'Record the decision', async (el) => send(
        'mutation($i: RecordApplicationOutcomeInput!) { recordApplicationOutcome(input: $i) { reference } }',
        { i: { reference: found.reference, outcome: value(el, '#court-outcome'), decidedOn: value(el, '#court-decided-on'), refusalReason: value(el, '#court-refusal-reason'), orderReference: value(el, '#granted-order') } },
        '#court-outcome', () => reload(found.reference)('Decision recorded.'))) : null]
      : h('div', {}, h('h2', { class: 'govuk-heading-m' }, 'No application found'), h('p', { class: 'govuk-body' }, 'There is no application with this reference that you may see.'));

    const record = me.role === 'POLICE' ? h('section', { 'aria-labelledby': 'record-application-heading' },
      h('h2', { class: 'govuk-heading-m', id: 'record-application-heading' }, 'Record an application'),
      form('record-application', 'A new application, with the stages known so far', [
        field({ id: 'new-application-reference', label: 'Reference', hint: `Your force’s, beginning ${me.agency}/`, width: 20 }),
        select({ id: 'application-type', label: 'Order applied for', options: TYPES, value: 'SPO' }),
        field({ id: 'main-application', label: 'Main application', hint: 'For an interim SPO: the reference of the SPO application it is pending', width: 20 }),
        ...stageFields(),
      ], 'Record the application', async (el) => {
        const r = value(el, '#new-application-reference');
        if (!r) return { text: 'Enter the application’s reference', href: '#new-application-reference' };
        return send('mutation($i: RecordApplicationInput!) { recordApplication(input: $i) { reference } }',
          { i: { reference: r, orderType: value(el, '#application-type'), mainApplication: value(el, '#main-application'), stages: stages(el) } },
          '#new-application-reference', () => { location.hash = `#/applications/${encodeURIComponent(r.toUpperCase())}`; });
      })) : null;

    show('Applications', banner, problem ? errorSummary([{ text: problem, href: '#application-reference' }]) : null,
      h('h1', { class: 'govuk-heading-l' }, 'Applications'), find, result, record);
    if (banner) banner.focus();
    else if (found) document.querySelector('#application h2')?.focus();
  };
  await render(params[0]);
}
