// Building the page from API data: text always goes in as text (never as HTML), so nothing the API returns can
// become markup or script.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k === 'className' ? 'class' : k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
}

/// A date-time from the API (UTC) as London time, e.g. "6 Dec 2026, 14:05".
export function when(iso) {
  if (!iso) return '';
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}

/// A date from the API (YYYY-MM-DD), e.g. "6 Dec 2026".
export function day(date) {
  if (!date) return '';
  const [y, m, d] = date.split('-').map(Number);
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric' })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

const ACRONYMS = new Set(['spo', 'dvpn', 'dvpo', 'dapn', 'dapo', 'shpo', 'soa']);

/// An enum value as words: BREACH_REPORTED → "Breach reported", INTERIM_SPO → "Interim SPO".
export function words(value) {
  if (!value) return '';
  const w = value.toLowerCase().split('_').map((x) => (ACRONYMS.has(x) ? x.toUpperCase() : x)).join(' ');
  return w.charAt(0).toUpperCase() + w.slice(1);
}

/// A GOV.UK summary list of [label, value] pairs.
export function summary(rows) {
  return h('dl', { class: 'govuk-summary-list' },
    rows.filter(Boolean).map(([k, v]) => h('div', { class: 'govuk-summary-list__row' },
      h('dt', { class: 'govuk-summary-list__key' }, k),
      h('dd', { class: 'govuk-summary-list__value' }, v ?? ''))));
}

let regions = 0;

/// A table in a region that scrolls sideways on a narrow screen (rather than the whole page), reachable by keyboard.
export function scrolling(label, tableElement) {
  regions += 1;
  return h('div', { class: 'ow-scroll', role: 'region', 'aria-label': label, tabindex: '0', id: `region-${regions}` }, tableElement);
}

/// A GOV.UK table with a caption, headers and rows of cells, in a region that scrolls on a narrow screen.
export function table(caption, headers, rows, { numeric = [] } = {}) {
  const cell = (tag, i, v) => h(tag, {
    class: `govuk-table__${tag === 'th' ? 'header' : 'cell'}${numeric.includes(i) ? ` govuk-table__${tag === 'th' ? 'header' : 'cell'}--numeric` : ''}`,
    scope: tag === 'th' ? 'col' : null,
  }, v);
  return scrolling(caption ?? headers.join(', '), h('table', { class: 'govuk-table' },
    caption ? h('caption', { class: 'govuk-table__caption govuk-table__caption--m' }, caption) : null,
    h('thead', { class: 'govuk-table__head' }, h('tr', { class: 'govuk-table__row' }, headers.map((x, i) => cell('th', i, x)))),
    h('tbody', { class: 'govuk-table__body' }, rows.map((r) => h('tr', { class: 'govuk-table__row' }, r.map((v, i) => cell('td', i, v)))))));
}

/// A GOV.UK error summary listing `problems` ([{ text, href }]); it takes focus, as the pattern asks.
export function errorSummary(problems) {
  const box = h('div', { class: 'govuk-error-summary', 'data-module': 'govuk-error-summary', tabindex: '-1' },
    h('div', { role: 'alert' },
      h('h2', { class: 'govuk-error-summary__title' }, 'There is a problem'),
      h('div', { class: 'govuk-error-summary__body' },
        h('ul', { class: 'govuk-list govuk-error-summary__list' },
          problems.map((p) => h('li', {}, p.href ? h('a', { href: p.href }, p.text) : p.text))))));
  return box;
}

/// A labelled text input in a GOV.UK form group; `error` marks it as in error.
export function field({ id, label, hint, value = '', type = 'text', width, error, autocomplete }) {
  return h('div', { class: `govuk-form-group${error ? ' govuk-form-group--error' : ''}` },
    h('label', { class: 'govuk-label', for: id }, label),
    hint ? h('div', { class: 'govuk-hint', id: `${id}-hint` }, hint) : null,
    error ? h('p', { class: 'govuk-error-message', id: `${id}-error` }, h('span', { class: 'govuk-visually-hidden' }, 'Error: '), error) : null,
    h('input', {
      class: `govuk-input${width ? ` govuk-input--width-${width}` : ''}${error ? ' govuk-input--error' : ''}`,
      id, name: id, type, value, autocomplete: autocomplete ?? 'off', spellcheck: 'false',
      'aria-describedby': [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || null,
    }));
}

/// A labelled select in a GOV.UK form group.
export function select({ id, label, options, value }) {
  return h('div', { class: 'govuk-form-group' },
    h('label', { class: 'govuk-label', for: id }, label),
    h('select', { class: 'govuk-select', id, name: id },
      options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

export function button(text, attrs = {}) {
  return h('button', { class: 'govuk-button', 'data-module': 'govuk-button', type: 'submit', ...attrs }, text);
}

export function tag(text, colour) {
  return h('strong', { class: `govuk-tag${colour ? ` govuk-tag--${colour}` : ''}` }, text);
}

/// A GOV.UK success banner saying what was recorded; it takes the focus when shown.
export function success(...message) {
  return h('div', { class: 'govuk-notification-banner govuk-notification-banner--success', role: 'alert', tabindex: '-1', 'aria-labelledby': 'success-title', id: 'success' },
    h('div', { class: 'govuk-notification-banner__header' }, h('h2', { class: 'govuk-notification-banner__title', id: 'success-title' }, 'Success')),
    h('div', { class: 'govuk-notification-banner__content' }, h('p', { class: 'govuk-notification-banner__heading' }, ...message)));
}
