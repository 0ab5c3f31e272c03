// The console: a page per task, chosen by the address's fragment (#/alerts, #/worklist, #/orders, #/statistics).
// Everything shown comes from the API for the caller's token; the browser decides nothing about the record.

import { initAll } from 'govuk-frontend';
import { ApiError, gql, session } from './api.js';
import { button, errorSummary, field, h } from './dom.js';
import { alertDesk } from './alerts.js';
import { worklist } from './worklist.js';
import { orderView } from './orders.js';
import { statistics } from './statistics.js';
import { recordOrder } from './record.js';
import { applications } from './applications.js';
import { agencies, auditLog } from './admin.js';

document.body.classList.add('js-enabled', 'govuk-frontend-supported');
initAll();

const main = document.getElementById('main-content');
const nav = document.getElementById('nav');

/// The pages each role's tasks need (the API refuses anything else in any case).
function pages(me) {
  const all = [
    ['alerts', 'Alert desk', ['POLICE', 'ADVOCATE']],
    ['worklist', 'Worklist', ['POLICE', 'COURT', 'ADVOCATE']],
    ['orders', 'Find an order', ['POLICE', 'COURT', 'ADVOCATE']],
    ['record', 'Record an order', ['COURT']],
    ['applications', 'Applications', ['POLICE', 'COURT']],
    ['statistics', 'Statistics', me.role === 'POLICE' && me.supervisor ? ['POLICE'] : ['ANALYST']],
    ['audit', 'Audit log', ['AUDITOR']],
    ['agencies', 'Agencies', ['ADMIN']],
  ];
  return all.filter(([, , roles]) => roles.includes(me.role));
}

const routes = { alerts: alertDesk, worklist, orders: orderView, statistics, record: recordOrder, applications, audit: auditLog, agencies };

let me = null;
// What the page on show must close when another replaces it (its websocket, its timers), and which page that is.
let leaving = [];
let shown = 0;

async function whoAmI() {
  if (!session.token) return null;
  try {
    const { data } = await gql('{ me { sub role agency supervisor } }');
    return data.me;
  } catch (e) {
    if (e.code === 'UNAUTHENTICATED') {
      session.signOut();
      return null;
    }
    throw e;
  }
}

function renderNav(current) {
  nav.replaceChildren();
  if (!me) return;
  const item = (href, text, active) => h('li', { class: `govuk-service-navigation__item${active ? ' govuk-service-navigation__item--active' : ''}` },
    h('a', { class: 'govuk-service-navigation__link', href, 'aria-current': active ? 'page' : null },
      active ? h('strong', { class: 'govuk-service-navigation__active-fallback' }, text) : text));
  for (const [page, text] of pages(me)) nav.append(item(`#/${page}`, text, page === current));
  nav.append(item('#/sign-out', 'Sign out', false));
}

/// Shows a page: its heading takes focus and the title names it, so screen reader users hear where they are.
export function show(title, ...content) {
  document.title = `${title} – orderwatch`;
  main.replaceChildren(...content.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function signIn(problem) {
  const form = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    const token = form.querySelector('#token').value.trim();
    if (!token) return signIn('Enter your token');
    session.signIn(token);
    try {
      me = await whoAmI();
    } catch (err) {
      session.signOut();
      return signIn(err.message);
    }
    if (!me) return signIn('The server did not accept this token: it may have expired. Get a new one and try again.');
    const next = `#/${pages(me)[0]?.[0] ?? ''}`;
    // A new fragment routes by itself; the same one needs asking.
    if (location.hash === next) route();
    else location.hash = next;
  } },
  field({ id: 'token', label: 'Token', hint: 'Paste the bearer token your organisation issued you. In development: orderwatch token --role POLICE --agency MET --sub you', error: problem, type: 'password', autocomplete: 'off' }),
  button('Sign in'));
  show('Sign in',
    problem ? errorSummary([{ text: problem, href: '#token' }]) : null,
    h('h1', { class: 'govuk-heading-l' }, 'Sign in'),
    h('p', { class: 'govuk-body' }, 'The console shows what your role may see, and nothing else. Your token stays in this browser tab until you sign out or close it.'),
    form);
  if (problem) main.querySelector('.govuk-error-summary').focus();
}

function home() {
  show('Home',
    h('h1', { class: 'govuk-heading-l' }, 'Protection orders console'),
    h('p', { class: 'govuk-body' }, `Signed in as ${me.sub}, ${me.role.toLowerCase()}, ${me.agency}${me.supervisor ? ' (supervisor)' : ''}.`),
    h('ul', { class: 'govuk-list' }, pages(me).map(([page, text]) => h('li', {}, h('a', { class: 'govuk-link', href: `#/${page}` }, text)))));
}

async function route() {
  for (const close of leaving.splice(0)) close();
  const current = ++shown;
  // #/page/param?filters: the filters belong to the page, which reads them itself.
  const [page, ...rest] = location.hash.replace(/^#\/?/, '').split('?')[0].split('/');
  if (page === 'sign-out') {
    session.signOut();
    me = null;
    renderNav();
    history.replaceState(null, '', '#/');
    return signIn();
  }
  if (!me) {
    try {
      me = await whoAmI();
    } catch (e) {
      renderNav();
      return show('Unavailable', h('h1', { class: 'govuk-heading-l' }, 'Sorry, there is a problem with the service'), h('p', { class: 'govuk-body' }, e.message));
    }
  }
  if (!me) {
    renderNav();
    return signIn();
  }
  renderNav(page);
  const page_ = routes[page];
  if (!page_) return home();
  try {
    await page_({
      me,
      // A page still loading when another is asked for shows nothing more.
      show: (...args) => { if (current === shown) show(...args); },
      onLeave: (close) => { if (current === shown) leaving.push(close); else close(); },
      params: rest.map(decodeURIComponent),
    });
  } catch (e) {
    if (current !== shown) return;
    const message = e instanceof ApiError ? `${e.message} (${e.code})` : 'Something went wrong showing this page.';
    show('Problem', h('h1', { class: 'govuk-heading-l' }, 'Sorry, there is a problem'), h('p', { class: 'govuk-body' }, message));
  }
}

// Links within a page (the skip link, an error summary's links) move the focus to their target rather than change
// the fragment, which names the page.
document.addEventListener('click', (e) => {
  const link = e.target.closest?.('a[href^="#"]');
  const id = link?.getAttribute('href').slice(1);
  if (!id || id.startsWith('/')) return;
  const target = document.getElementById(id);
  if (!target) return;
  e.preventDefault();
  if (!target.hasAttribute('tabindex') && !/^(INPUT|SELECT|TEXTAREA|BUTTON|A)$/.test(target.tagName)) target.setAttribute('tabindex', '-1');
  target.focus();
  target.scrollIntoView({ block: 'center' });
});

addEventListener('hashchange', route);
route();
