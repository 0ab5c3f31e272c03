// The console and GraphiQL in a real browser against the real server.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accessibility, browser, earlierToday, foreign, open, screenshots, Server, signIn, spo } from './harness.mjs';

let server;
let chrome;

before(async () => {
  server = await Server.start();
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  await server?.close();
});

/// Every page test ends here: nothing loaded from elsewhere, no script error, no accessibility failure; and the page
/// is saved at desktop and phone widths (target/console-screenshots/).
async function clean(page, what) {
  assert.deepEqual(foreign(page), [], `${what}: requests left the server`);
  assert.deepEqual(page.problems.filter((p) => !p.includes('401')), [], `${what}: errors in the page`);
  assert.deepEqual(await accessibility(page), [], `${what}: WCAG 2.2 AA`);
  // On a phone the page reflows: nothing but a table's own region scrolls sideways (WCAG 1.4.10).
  await page.setViewport({ width: 320, height: 800 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 320), `${what}: wider than a 320 px screen`);
  assert.deepEqual(await accessibility(page), [], `${what}: WCAG 2.2 AA at 320 px`);
  await screenshots(page, what.replaceAll(/[^a-z0-9]+/gi, '-').toLowerCase());
}

describe('signing in', () => {
  test('a pasted token signs in and shows the pages of its role; a refused one says why and stays signed out', async () => {
    const page = await open(chrome, server);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#token');
    await clean(page, 'sign-in page');
    await page.type('#token', 'not-a-token');
    await page.click('button[type=submit]');
    await page.waitForSelector('.govuk-error-summary');
    const problem = await page.$eval('.govuk-error-summary', (e) => e.textContent);
    assert.match(problem, /did not accept this token/);
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('govuk-error-summary')), true);
    await clean(page, 'sign-in error');

    await page.$eval('#token', (e) => { e.value = ''; });
    await page.type('#token', server.token('POLICE', 'MET', 'officer-1'));
    await Promise.all([page.waitForSelector('#nav a[href="#/alerts"]'), page.click('button[type=submit]')]);
    const nav = await page.$$eval('#nav a', (as) => as.map((a) => a.textContent));
    assert.deepEqual(nav, ['Alert desk', 'Worklist', 'Find an order', 'Applications', 'Sign out']);
    await page.close();
  });
});

const GRANT = 'mutation($i: GrantOrderInput!) { grantOrder(input: $i) { reference protectedPersons { id } } }';
const REPORT = 'mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }';
let breaches = 0;

/// MET reports a breach of `reference` now.
async function breach(reference) {
  breaches += 1;
  await server.gql(server.token('POLICE', 'MET'), REPORT, {
    i: { reference, occurredAt: earlierToday(60000), description: 'Seen outside the protected person’s home', externalRef: `CAD-${breaches}` },
  });
}

/// An order made today by Westminster Magistrates' on MET's application, shared with the London advocacy service.
async function sharedOrder(reference, input = spo(reference)) {
  const made = await server.gql(server.token('COURT', 'WMC'), GRANT, { i: input });
  await server.gql(server.token('POLICE', 'MET'),
    'mutation($r: String!, $p: ID!) { shareOrderWithAdvocacy(reference: $r, protectedPersonId: $p, advocacyAgency: "ADV-LDN") { id } }',
    { r: reference, p: made.grantOrder.protectedPersons[0].id });
}

async function rows(page) {
  return page.$$eval('#alerts tr[data-kind="BREACH_REPORTED"]', (trs) => trs.map((tr) => tr.dataset.alertId));
}

async function waitForRows(page, n) {
  await page.waitForFunction((n) => document.querySelectorAll('#alerts tr[data-kind="BREACH_REPORTED"]').length >= n, {}, n);
  return rows(page);
}

async function live(page) {
  await page.waitForFunction(() => document.querySelector('#connection-state')?.textContent.includes('live'));
}

describe('the alert desk', () => {
  test('shows alerts as they arrive, acknowledges with one click, and resumes after a reload or a dropped connection with no gap and no duplicate', async () => {
    await sharedOrder('WMC/UI/1');
    const page = await open(chrome, server);
    await signIn(page, server.token('ADVOCATE', 'ADV-LDN', 'advocate-1'));
    await page.goto(`${server.url}/#/alerts`);
    await live(page);
    await clean(page, 'empty alert desk');

    const reported = Date.now();
    await breach('WMC/UI/1');
    const [first] = await waitForRows(page, 1);
    // Measured, not asserted (timings belong to benchmarks): the issue asks for under 2 seconds.
    console.log(`alert desk: breach reported to row shown in ${Date.now() - reported} ms`);
    const row = await page.$eval(`tr[data-alert-id="${first}"]`, (tr) => tr.textContent);
    assert.match(row, /Breach reported/);
    assert.match(row, /WMC\/UI\/1/);
    assert.match(await page.$eval('#alert-announcer', (e) => e.textContent), /New alert: Breach reported on WMC\/UI\/1/);
    await page.click(`tr[data-alert-id="${first}"] button`);
    await page.waitForFunction((id) => document.querySelector(`tr[data-alert-id="${id}"]`).textContent.includes('Acknowledged by advocate-1'), {}, first);
    await clean(page, 'alert desk with an alert');

    // Newest first.
    await breach('WMC/UI/1');
    const two = await waitForRows(page, 2);
    assert.equal(two.length, 2);
    assert.equal(two[1], first);

    // A reload: each alert is there once, newest first, the first still acknowledged.
    await page.reload();
    await live(page);
    assert.deepEqual(await rows(page), two);
    assert.match(await page.$eval(`tr[data-alert-id="${first}"]`, (tr) => tr.textContent), /Acknowledged by advocate-1/);

    // The server goes away and comes back; an alert raised before the page reconnects still arrives, once.
    await server.restart();
    await breach('WMC/UI/1');
    await page.waitForFunction(() => /reconnecting|live/.test(document.querySelector('#connection-state').textContent));
    const three = await waitForRows(page, 3);
    await live(page);
    assert.equal(three.length, 3);
    assert.deepEqual(three.slice(1), two);
    assert.equal(new Set(await rows(page)).size, (await rows(page)).length);
    await clean(page, 'alert desk after reconnecting');
    await page.close();
  });
});

async function subscribers() {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(text.match(/^orderwatch_alert_subscribers (\d+)/m)[1]);
}

/// Waits until the server counts `n` live alert subscriptions (it updates the count as sockets open and close).
async function waitForSubscribers(n) {
  for (let i = 0; i < 200; i++) {
    if ((await subscribers()) === n) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.equal(await subscribers(), n, 'live alert subscriptions');
}

describe('the desk’s connection', () => {
  test('signing in opens one subscription, leaving the desk closes it, and the skip link stays on the page', async () => {
    // The pages of earlier tests are closed: their sockets close as the server notices.
    await waitForSubscribers(0);
    const before = 0;
    const page = await open(chrome, server);
    await signIn(page, server.token('ADVOCATE', 'ADV-LDN', 'advocate-1'));
    await page.waitForFunction(() => location.hash === '#/alerts');
    await live(page);
    await waitForSubscribers(before + 1);

    // The skip link moves the focus to the main content and leaves the page (and its connection) as it is.
    await page.evaluate(() => document.querySelector('.govuk-skip-link').click());
    assert.equal(await page.evaluate(() => location.hash), '#/alerts');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main-content');
    assert.match(await page.$eval('#connection-state', (e) => e.textContent), /live/);

    await page.click('#nav a[href="#/worklist"]');
    await page.waitForSelector('#worklist-results');
    await waitForSubscribers(before);
    await page.close();
  });
});

describe('the worklist', () => {
  test('lists the force’s deadlines soonest first, filtered by kind, each linking to its order', async () => {
    const today = new Date();
    const interim = {
      ...spo('WMC/UI/2'),
      type: 'INTERIM_SPO',
      expiresOn: new Date(today.getTime() + 30 * 86400000).toISOString().slice(0, 10),
    };
    await sharedOrder('WMC/UI/2', interim);
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-1'));
    await page.goto(`${server.url}/#/worklist`);
    await page.waitForSelector('#worklist-results table, #no-deadlines');
    await page.select('#kind', 'ORDER_END');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#worklist-results[data-kind="ORDER_END"] table');
    assert.ok((await page.$$eval('#worklist-results tbody tr', (trs) => trs.map((tr) => tr.textContent))).every((t) => t.includes('Order end')));
    const refs = await page.$$eval('#worklist-results tbody tr a', (as) => as.map((a) => a.textContent));
    assert.ok(refs.indexOf('WMC/UI/2') >= 0 && refs.indexOf('WMC/UI/2') < refs.indexOf('WMC/UI/1'), `soonest first: ${refs}`);
    await page.waitForSelector('#unserved');
    const unserved = await page.$$eval('#unserved tbody tr a', (as) => as.map((a) => a.textContent));
    assert.ok(unserved.includes('WMC/UI/1') && unserved.includes('WMC/UI/2'), `unserved: ${unserved}`);
    await clean(page, 'worklist');
    await page.click('#worklist-results tbody tr a');
    await page.waitForSelector('#reference');
    assert.equal(await page.$eval('#reference', (i) => i.value), refs[0]);
    await page.close();
  });
});

describe('an overdue notification', () => {
  test('a police worklist shows the missed notification and the order behind it', async () => {
    const day = (n) => new Date(Date.now() + n * 86400000);
    const made = spo('WMC/UI/3', day(-10));
    await sharedOrder('WMC/UI/3', made);
    await server.gql(server.token('POLICE', 'MET'),
      'mutation($at: DateTime!) { recordService(reference: "WMC/UI/3", servedAt: $at, method: PERSONAL) { serviceStatus } }',
      { at: day(-6).toISOString() });
    // The scheduled checks find the initial notification missed (3 days beginning with the day of service).
    server.cli('check');
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-1'));
    await page.goto(`${server.url}/#/worklist?kind=NOTIFICATIONS&status=MISSED`);
    await page.waitForSelector('#worklist-results[data-kind="NOTIFICATIONS"] table');
    const rows = await page.$$eval('#worklist-results tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.ok(rows.every((r) => /Missed/.test(r)));
    const row = rows.find((r) => r.includes('WMC/UI/3'));
    assert.match(row, /Notification initial/);
    assert.match(row, /WMC\/UI\/3/);
    assert.match(row, /Missed/);
    await clean(page, 'worklist of missed notifications');
    await page.click('#worklist-results tbody tr a[href$="WMC%2FUI%2F3"]');
    await page.waitForSelector('#reason');
    await page.type('#reason', 'Missed notification follow-up');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#order');
    const order = await page.$eval('#order', (e) => e.textContent);
    assert.match(order, /WMC\/UI\/3/);
    assert.match(order, /Notification initial.*Missed/s);
    await page.close();
  });
});

describe('finding an order', () => {
  test('asks for the reason, sends it (it is audited), and shows the order as the role may see it', async () => {
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-1'));
    await page.goto(`${server.url}/#/orders/${encodeURIComponent('WMC/UI/1')}`);
    await page.waitForSelector('#reference');
    await page.click('form button[type=submit]');
    await page.waitForSelector('.govuk-error-summary');
    assert.match(await page.$eval('.govuk-error-summary', (e) => e.textContent), /Enter the reason for the look-up/);
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('govuk-error-summary')), true);
    await clean(page, 'order look-up with a problem');

    await page.type('#reason', 'Incident CAD 4411 at the protected person’s home');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#order');
    const text = await page.$eval('#order', (e) => e.textContent);
    assert.match(text, /WMC\/UI\/1/);
    assert.match(text, /In force/);
    assert.match(text, /07700 900123/, 'the managing force reads the contact details');
    assert.match(text, /Seen outside the protected person’s home/, 'police read the breach description');
    await clean(page, 'an order, to its managing force');

    const audit = await server.gql(server.token('AUDITOR', 'DPO'),
      '{ auditEvents(filter: { actorSub: "officer-1" }, first: 100) { edges { node { action reason } } } }');
    assert.ok(audit.auditEvents.edges.some((e) => e.node.action === 'order' && e.node.reason === 'Incident CAD 4411 at the protected person’s home'));

    // A court reads no breach intelligence and no contact details: the page says so.
    const court = await open(chrome, server);
    await signIn(court, server.token('COURT', 'WMC', 'clerk-1'));
    await court.goto(`${server.url}/#/orders`);
    await court.waitForSelector('#reference');
    await court.type('#reference', 'WMC/UI/1');
    await court.type('#reason', 'Listing a variation');
    await court.click('form button[type=submit]');
    await court.waitForSelector('#order');
    const seen = await court.$eval('#order', (e) => e.textContent);
    assert.doesNotMatch(seen, /07700 900123/);
    assert.match(seen, /Not shown to your role/);
    await clean(court, 'an order, to a court');
    await court.close();

    // An advocate sees the order shared with the service, and no police-only field anywhere in the page.
    const advocate = await open(chrome, server);
    await signIn(advocate, server.token('ADVOCATE', 'ADV-LDN', 'advocate-1'));
    await advocate.goto(`${server.url}/#/orders/${encodeURIComponent('WMC/UI/1')}`);
    await advocate.waitForSelector('#reason');
    await advocate.type('#reason', 'Safety planning call');
    await advocate.click('form button[type=submit]');
    await advocate.waitForSelector('#order');
    const html = await advocate.content();
    for (const police of ['07700 900123', 'Seen outside the protected person', 'CAD-1']) {
      assert.ok(!html.includes(police), `an advocate's page holds ${police}`);
    }
    assert.match(await advocate.$eval('#order', (e) => e.textContent), /Breach reported|Not shown to your role/);
    await clean(advocate, 'an order, to an advocate');
    await advocate.close();
    await page.close();
  });
});

describe('recording from an order’s page', () => {
  test('an officer records service and reports a breach in the browser; a retry records nothing twice', async () => {
    await sharedOrder('WMC/UI/4');
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-1'));
    await page.goto(`${server.url}/#/orders/${encodeURIComponent('WMC/UI/4')}`);
    await page.waitForSelector('#reason');
    await page.type('#reason', 'Serving the order');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#record-service');
    await clean(page, 'an order with the forms police use');

    await page.select('#service-method', 'PERSONAL');
    await page.click('#record-service button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#success', (e) => e.textContent), /Service recorded/);
    assert.match(await page.$eval('#order', (e) => e.textContent), /Served:/);
    assert.equal(await page.$('#record-service'), null, 'served once: the form is gone');

    // A problem is shown in an error summary, and nothing is sent.
    await page.click('#report-breach button[type=submit]');
    await page.waitForSelector('#report-breach .govuk-error-summary');
    assert.match(await page.$eval('#report-breach .govuk-error-summary', (e) => e.textContent), /Enter what happened/);

    const report = async () => {
      await page.$eval('#breach-description', (e) => { e.value = 'Followed the protected person to work'; });
      await page.$eval('#external-ref', (e) => { e.value = 'CAD-UI-4'; });
      await page.evaluate(() => document.querySelector('#success')?.remove());
      await page.click('#report-breach button[type=submit]');
      await page.waitForSelector('#success');
    };
    await report();
    assert.match(await page.$eval('#success', (e) => e.textContent), /Breach reported/);
    await report();
    const breaches = await page.$$eval('#order tr', (trs) => trs.filter((tr) => tr.textContent.includes('CAD-UI-4')).length);
    assert.equal(breaches, 1, 'the same incident reference twice is one breach');
    await clean(page, 'an order after recording');
    await page.close();
  });
});

describe('recording an order', () => {
  test('a clerk records an order in the browser; a rule the order breaks is shown against its field and nothing is recorded', async () => {
    const page = await open(chrome, server);
    await signIn(page, server.token('COURT', 'WMC', 'clerk-1'));
    await page.click('#nav a[href="#/record"]');
    await page.waitForSelector('#record-order');
    await clean(page, 'record an order');
    const type = async (id, text) => {
      await page.$eval(`#${id}`, (e) => { e.value = ''; });
      await page.type(`#${id}`, text);
    };
    const made = new Date();
    const short = new Date(made.getTime() + 300 * 86400000).toISOString().slice(0, 10);
    await type('reference', 'WMC/UI/5');
    await type('applicant', 'MET');
    await type('expires-on', short);
    await type('subject-name', 'Robin Subject');
    await type('subject-dob', '1979-02-03');
    await type('person-name', 'Alex Protected');
    await type('person2-name', 'Jo Protected');
    await page.click('#add-person');
    await page.waitForSelector('#person3-name');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'person3-name', 'the new person’s name has the focus');
    assert.equal(await page.$eval('#person2-name', (e) => e.value), 'Jo Protected', 'what was typed stays');
    await type('person3-name', 'Charlie Protected');
    await type('prohibitions', 'Must not contact the protected person\nMust not enter Acacia Avenue');
    await page.click('#record-order button[type=submit]');
    await page.waitForSelector('.govuk-error-summary');
    assert.match(await page.$eval('.govuk-error-summary', (e) => e.textContent), /2 years|TERM_TOO_SHORT|at least/i);
    assert.ok(await page.$('#expires-on.govuk-input--error'), 'the term is marked on its field');
    await clean(page, 'record an order with a problem');
    const none = await server.gql(server.token('POLICE', 'MET'), '{ order(reference: "WMC/UI/5") { reference } }');
    assert.equal(none.order, null, 'nothing was recorded');

    const end = new Date(made);
    end.setUTCFullYear(end.getUTCFullYear() + 2);
    await type('expires-on', end.toISOString().slice(0, 10));
    await page.click('#record-order button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#success', (e) => e.textContent), /WMC\/UI\/5 recorded/);
    const made_ = await server.gql(server.token('POLICE', 'MET'), '{ order(reference: "WMC/UI/5") { type subject { names } protectedPersons { name } conditions { kind text } } }');
    assert.deepEqual(made_.order.subject.names, ['Robin Subject']);
    assert.deepEqual(made_.order.protectedPersons.map((p) => p.name), ['Alex Protected', 'Jo Protected', 'Charlie Protected']);
    assert.deepEqual(made_.order.conditions.map((c) => c.text), ['Must not contact the protected person', 'Must not enter Acacia Avenue']);
    await page.close();
  });
});

describe('a court’s decisions on an order', () => {
  test('the court that made an order records the event a DAPO lasted until, and discharges an SPO with the consent it needs', async () => {
    const dapo = { ...spo('WMC/UI/6'), type: 'DAPO', expiresOn: null, untilEvent: 'the end of the family court proceedings' };
    await sharedOrder('WMC/UI/6', dapo);
    const page = await open(chrome, server);
    await signIn(page, server.token('COURT', 'WMC', 'clerk-1'));
    const look = async (reference) => {
      await page.goto(`${server.url}/#/orders/${encodeURIComponent(reference)}`);
      await page.waitForSelector('#reason');
      await page.type('#reason', 'Recording the court’s decision');
      await page.click('form button[type=submit]');
      await page.waitForSelector('#order');
    };
    await look('WMC/UI/6');
    assert.match(await page.$eval('#order', (e) => e.textContent), /When this occurs: the end of the family court proceedings/);
    await clean(page, 'an order to the court that made it');
    await page.click('#record-ending-event button[type=submit]');
    await page.waitForSelector('#success');
    const today = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'short', year: 'numeric' }).format(new Date());
    assert.ok((await page.$eval('#order', (e) => e.textContent)).includes(today), 'its last day is today');
    assert.equal(await page.$('#record-ending-event'), null);

    await look('WMC/UI/5');
    await page.click('#discharge-order button[type=submit]');
    await page.waitForSelector('#discharge-order .govuk-error-summary');
    assert.match(await page.$eval('#discharge-order .govuk-error-summary', (e) => e.textContent), /DISCHARGE_NEEDS_CONSENT/);
    await page.click('#consent');
    await page.click('#discharge-order button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#order', (e) => e.textContent), /Discharged/);
    await page.close();
  });
});

describe('appeals and awareness', () => {
  const look = async (page, reference) => {
    await page.goto(`${server.url}/#/orders/${encodeURIComponent(reference)}`);
    await page.waitForSelector('#reason');
    await page.type('#reason', 'Recording a decision on the order');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#order, #quash-order');
  };

  test('a Crown Court quashes a magistrates’ court’s order on appeal by its reference; a magistrates’ court is refused', async () => {
    await sharedOrder('WMC/AP/1');
    // Another magistrates' court does not see the order; asked to quash it, the server refuses.
    const magistrates = await open(chrome, server);
    await signIn(magistrates, server.token('COURT', 'MMC', 'clerk-3'));
    await look(magistrates, 'WMC/AP/1');
    await magistrates.click('#quash-order button[type=submit]');
    await magistrates.waitForSelector('#quash-order .govuk-error-summary');
    assert.match(await magistrates.$eval('#quash-order .govuk-error-summary', (e) => e.textContent), /\([A-Z_]+\)/);
    await magistrates.close();

    const page = await open(chrome, server);
    await signIn(page, server.token('COURT', 'SCC', 'crown-clerk-1'));
    await look(page, 'WMC/AP/1');
    assert.match(await page.$eval('main', (e) => e.textContent), /No order found/, 'a Crown Court does not see it');
    await clean(page, 'quashing on appeal');
    await page.type('#quash-note', 'Appeal T20267001');
    await page.click('#quash-order button[type=submit]');
    await page.waitForSelector('#success');
    await page.close();
    const seen = await server.gql(server.token('POLICE', 'MET'), 'query { order(reference: "WMC/AP/1", reason: "Checking the appeal was recorded") { status } }');
    assert.equal(seen.order.status, 'QUASHED');
  });

  test('police record that the subject of an order made without notice knows of it', async () => {
    await sharedOrder('WMC/AP/2', { ...spo('WMC/AP/2'), type: 'DAPO', withoutNotice: true });
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-8'));
    await look(page, 'WMC/AP/2');
    assert.match(await page.$eval('#order', (e) => e.textContent), /Subject not yet known to be aware/);
    await clean(page, 'an order made without notice to police');
    await page.click('#record-awareness button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#order', (e) => e.textContent), /Subject aware since/);
    assert.equal(await page.$('#record-awareness'), null);
    await page.close();
  });

  test('police record the subject’s sex offender notification on an SPO, and a day in the wrong form is shown against its field', async () => {
    await sharedOrder('WMC/AP/3');
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-9'));
    await look(page, 'WMC/AP/3');
    await clean(page, 'recording sex offender notification');
    await page.type('#soa-final', '31/12/2030');
    await page.click('#soa-registration button[type=submit]');
    await page.waitForSelector('#soa-registration .govuk-error-summary');
    assert.equal(await page.$eval('#soa-registration .govuk-error-summary a', (a) => a.getAttribute('href')), '#soa-final');
    await page.$eval('#soa-final', (e) => { e.value = '2030-12-31'; });
    await page.click('#soa-registration button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#order', (e) => e.textContent), /Sex offender notification.*In place when the order was made; ends 31 Dec 2030/);
    await page.close();
  });
});

describe('the service’s own roles', () => {
  test('an auditor finds who read an order and why, filtered by agency and operation', async () => {
    await server.gql(server.token('POLICE', 'MET', 'officer-audited'),
      'query { order(reference: "NO/SUCH/ORDER", reason: "Checking a caller’s story at 3am") { reference } }');
    const page = await open(chrome, server);
    await signIn(page, server.token('AUDITOR', 'DPO', 'auditor-1'));
    assert.deepEqual(await page.$$eval('#nav a', (as) => as.map((a) => a.textContent)), ['Audit log', 'Sign out']);
    await page.waitForSelector('#audit-events table');
    await page.type('#audit-agency', 'MET');
    await page.select('#audit-operation', 'CONSULT');
    await Promise.all([page.waitForFunction(() => location.hash.includes('operation=CONSULT')), page.click('#audit-filter button[type=submit]')]);
    await page.waitForFunction(() => document.querySelector('#audit-events')?.textContent.includes('Checking a caller’s story at 3am'));
    const text = await page.$eval('#audit-events', (e) => e.textContent);
    assert.match(text, /POLICE MET \(officer-audited\)/);
    assert.doesNotMatch(text, /AUDITOR DPO/, 'only MET’s reads are listed');
    await clean(page, 'audit log');
    await page.close();
  });

  test('an administrator registers an agency, and the same code twice is refused with its code', async () => {
    const page = await open(chrome, server);
    await signIn(page, server.token('ADMIN', 'OPS', 'admin-1'));
    assert.deepEqual(await page.$$eval('#nav a', (as) => as.map((a) => a.textContent)), ['Agencies', 'Sign out']);
    await page.waitForSelector('#agency-list table');
    assert.match(await page.$eval('#agency-list', (e) => e.textContent), /Southwark Crown Court/);
    await clean(page, 'agencies');
    const register = async () => {
      await page.type('#agency-code', 'ADV-NTH');
      await page.type('#agency-name', 'Northern Stalking Advocacy');
      await page.select('#agency-kind', 'ADVOCACY_SERVICE');
      await page.click('#create-agency button[type=submit]');
    };
    await register();
    await page.waitForSelector('#success');
    await page.waitForFunction(() => document.querySelector('#agency-list')?.textContent.includes('Northern Stalking Advocacy'));
    await register();
    await page.waitForSelector('#create-agency .govuk-error-summary');
    assert.match(await page.$eval('#create-agency .govuk-error-summary', (e) => e.textContent), /\([A-Z_]+\)/);
    await page.close();
  });
});

describe('hearings, variations, notifications and outcomes', () => {
  test('a court varies its order and records a notice’s hearing; police record a notification and a breach’s outcome', async () => {
    await sharedOrder('WMC/UI/7');
    const met = server.token('POLICE', 'MET', 'officer-2');
    const dapn = { ...spo('MET/UI/8'), type: 'DAPN', expiresOn: null, conditions: [{ kind: 'PROHIBITION', text: 'Must not contact the protected person' }] };
    await server.gql(met, GRANT, { i: dapn });
    await server.gql(met, 'mutation($i: ReportBreachInput!) { reportBreach(input: $i) { id } }',
      { i: { reference: 'WMC/UI/7', occurredAt: earlierToday(3600000), description: 'Called the protected person', externalRef: 'CAD-UI-7' } });
    let page = await open(chrome, server);
    const look = async (reference) => {
      await page.goto(`${server.url}/#/orders/${encodeURIComponent(reference)}`);
      await page.waitForSelector('#reason');
      await page.type('#reason', 'Recording what happened');
      await page.click('form button[type=submit]');
      await page.waitForSelector('#order');
    };
    const sent = async (form, message) => {
      await page.evaluate(() => document.querySelector('#success')?.remove());
      await page.click(`${form} button[type=submit]`);
      await page.waitForSelector('#success');
      assert.match(await page.$eval('#success', (e) => e.textContent), message);
    };

    await signIn(page, server.token('COURT', 'WMC', 'clerk-2'));
    await look('WMC/UI/7');
    assert.equal(await page.$('#vary-without-notice'), null, 'only a DAPO’s variation is made without notice');
    await page.select('#vary-kind', 'PROHIBITION');
    await page.click('#vary-order button[type=submit]');
    await page.waitForSelector('#vary-order .govuk-error-summary');
    assert.match(await page.$eval('#vary-order .govuk-error-summary', (e) => e.textContent), /Enter the words/);
    await page.type('#vary-text', 'Must not enter Elm Street');
    await sent('#vary-order', /Varied/);
    const varied = await server.gql(met, '{ order(reference: "WMC/UI/7") { version conditions { text inForce } } }');
    assert.equal(varied.order.version, 2);
    assert.deepEqual(varied.order.conditions.filter((c) => c.inForce).map((c) => c.text), ['Must not contact the protected person', 'Must not enter Elm Street']);

    // A police notice: a magistrates’ court lists its hearing by reference (it sees the notice from then on) and records
    // that it was adjourned.
    await page.goto(`${server.url}/#/orders/${encodeURIComponent('MET/UI/8')}`);
    await page.waitForSelector('#reason');
    await page.type('#reason', 'Listing the application');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#list-notice-hearing');
    await page.$eval('#notice-listed-for', (e) => { e.value = '2030-01-07T10:00'; });
    await sent('#list-notice-hearing', /Hearing listed/);
    await page.waitForSelector('#hearing-outcome');
    assert.equal(await page.$('#vary-order'), null, 'the court did not make the notice');
    await page.select('#hearing-outcome-value', 'ADJOURNED');
    await clean(page, 'a notice’s hearing to a court');
    await sent('#hearing-outcome', /Hearing outcome recorded/);
    assert.match(await page.$eval('#order', (e) => e.textContent), /Adjourned/);
    const notice = await server.gql(met, '{ order(reference: "MET/UI/8") { status hearings { outcome } } }');
    assert.deepEqual(notice.order, { status: 'IN_FORCE', hearings: [{ outcome: 'ADJOURNED' }] });

    // The force records the subject’s initial notification and what came of the breach.
    await page.close();
    page = await open(chrome, server);
    await signIn(page, met);
    await look('WMC/UI/7');
    await clean(page, 'an order with notification and outcome forms');
    await page.select('#notification-kind', 'INITIAL');
    await page.type('#notification-details', 'Sam Subject, 1 High Street');
    await sent('#record-notification', /Notification recorded/);
    await page.select('#outcome', 'CHARGED');
    await page.click('#recorded-as-crime');
    await sent('#breach-outcome', /Outcome recorded/);
    const after = await server.gql(met, '{ order(reference: "WMC/UI/7") { notifications { kind } breaches { outcome recordedAsCrime } } }');
    assert.deepEqual(after.order.notifications.map((n) => n.kind), ['INITIAL']);
    assert.deepEqual(after.order.breaches, [{ outcome: 'CHARGED', recordedAsCrime: true }]);
    await page.close();
  });
});

describe('applications', () => {
  test('a force records an application and its stages, and the court it went to records its decision', async () => {
    let page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-3'));
    await page.click('#nav a[href="#/applications"]');
    await page.waitForSelector('#record-application');
    await clean(page, 'applications to a force');
    const type = async (id, text) => {
      await page.$eval(`#${id}`, (e) => { e.value = ''; });
      await page.type(`#${id}`, text);
    };
    // A refusal inside the force needs its reason: shown, and nothing recorded.
    await type('new-application-reference', 'MET/APP/UI1');
    await type('reported-on', '2026-11-01');
    await page.select('#internal-decision', 'REFUSED');
    await type('internal-decision-on', '2026-11-20');
    await page.click('#record-application button[type=submit]');
    await page.waitForSelector('#record-application .govuk-error-summary');
    assert.match(await page.$eval('#record-application .govuk-error-summary', (e) => e.textContent), /INCOMPLETE_STAGE/);
    await page.select('#internal-decision', 'AUTHORISED');
    await type('made-to-court-on', '2026-11-25');
    await type('application-court', 'WMC');
    await page.click('#record-application button[type=submit]');
    await page.waitForSelector('#application');
    assert.match(await page.$eval('#application', (e) => e.textContent), /Authorised.*Made to court.*WMC/s);
    await page.close();

    page = await open(chrome, server);
    await signIn(page, server.token('COURT', 'WMC', 'clerk-3'));
    await page.goto(`${server.url}/#/applications/${encodeURIComponent('MET/APP/UI1')}`);
    await page.waitForSelector('#application-outcome');
    assert.equal(await page.$('#record-application'), null, 'a court records no application');
    await clean(page, 'an application to the court it went to');
    await page.select('#court-outcome', 'REFUSED');
    await page.select('#court-refusal-reason', 'TEST_NOT_MET');
    await page.click('#application-outcome button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#application', (e) => e.textContent), /Refused.*Test not met/s);
    const recorded = await server.gql(server.token('POLICE', 'MET'), '{ application(reference: "MET/APP/UI1") { courtOutcome courtRefusalReason } }');
    assert.deepEqual(recorded.application, { courtOutcome: 'REFUSED', courtRefusalReason: 'TEST_NOT_MET' });
    await page.close();
  });
});

describe('sharing with an advocacy service', () => {
  test('the managing force records consent to share an order with an advocacy service, and its withdrawal', async () => {
    await server.gql(server.token('COURT', 'WMC'), GRANT, { i: spo('WMC/UI/9') });
    const advocate = server.token('ADVOCATE', 'ADV-LDN', 'advocate-2');
    const seen = async () => (await server.gql(advocate, '{ order(reference: "WMC/UI/9") { reference } }')).order;
    assert.equal(await seen(), null, 'not shared yet');
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-4'));
    await page.goto(`${server.url}/#/orders/${encodeURIComponent('WMC/UI/9')}`);
    await page.waitForSelector('#reason');
    await page.type('#reason', 'Victim consents to sharing');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#share-order');
    await clean(page, 'an order with the sharing forms');
    await page.type('#share-agency', 'ADV-LDN');
    await page.click('#share-order button[type=submit]');
    await page.waitForSelector('#success');
    assert.match(await page.$eval('#success', (e) => e.textContent), /Consent recorded/);
    assert.deepEqual(await seen(), { reference: 'WMC/UI/9' });
    await page.type('#revoke-agency', 'ADV-LDN');
    await page.evaluate(() => document.querySelector('#success')?.remove());
    await page.click('#revoke-share button[type=submit]');
    await page.waitForSelector('#success');
    assert.equal(await seen(), null, 'withdrawn: the advocates no longer see it');
    await page.close();
  });
});

describe('statistics', () => {
  test('an analyst sees charts with their tables and CSV; an officer without the supervisory scope is refused', async () => {
    const page = await open(chrome, server);
    await signIn(page, server.token('ANALYST', 'STATS', 'analyst-1'));
    await page.goto(`${server.url}/#/statistics`);
    await page.waitForSelector('#funnel-chart');
    for (const id of ['funnel', 'outcomes', 'quarters']) {
      assert.ok(await page.$(`#${id} svg[role=img] title`), `${id} chart has a text alternative`);
      assert.ok(await page.$(`#${id} table`), `${id} has a table`);
    }
    const href = await page.$eval('#quarters-csv', (a) => a.href);
    const csv = decodeURIComponent(href.slice(href.indexOf(',') + 1));
    const table = await page.$$eval('#quarters table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent).join(',')));
    assert.deepEqual(csv.trim().split('\r\n'), ['Quarter,Orders made,Breaches reported', ...table]);
    assert.ok(table.some((r) => /,[1-9]/.test(r)), `orders made this year are counted: ${table}`);
    await clean(page, 'statistics');

    const officer = await open(chrome, server);
    await signIn(officer, server.token('POLICE', 'MET', 'officer-1'));
    assert.deepEqual(await officer.$$eval('#nav a', (as) => as.map((a) => a.textContent)).then((n) => n.includes('Statistics')), false);
    await officer.goto(`${server.url}/#/statistics`);
    await officer.waitForSelector('.govuk-error-summary');
    assert.match(await officer.$eval('.govuk-error-summary', (e) => e.textContent), /SUPERVISOR_SCOPE_REQUIRED/);
    await officer.close();

    const sergeant = await open(chrome, server);
    await signIn(sergeant, server.token('POLICE', 'MET', 'sgt-1', '--supervisor'));
    assert.ok((await sergeant.$$eval('#nav a', (as) => as.map((a) => a.textContent))).includes('Statistics'));
    await sergeant.goto(`${server.url}/#/statistics`);
    await sergeant.waitForSelector('#funnel-chart');
    assert.match(await sergeant.$eval('main', (e) => e.textContent), /Figures for MET/);
    await sergeant.close();
    await page.close();
  });
});

describe('GraphiQL', () => {
  test('loads from the server alone, shows the schema at once, and runs subscriptions with the token from the headers pane', async () => {
    const page = await open(chrome, server);
    await signIn(page, server.token('POLICE', 'MET', 'officer-1'));
    await page.goto(`${server.url}/graphiql`);
    await page.waitForSelector('[aria-label="Show Documentation Explorer"]');
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.waitForFunction(() => document.body.textContent.includes('QueryRoot'));
    await page.click('[aria-label="Show GraphiQL Explorer"]');
    await page.waitForFunction(() => document.body.textContent.includes('subjectHistory'));

    const editor = (i, value) => page.evaluate((i, value) => document.querySelectorAll('.CodeMirror')[i].CodeMirror.setValue(value), i, value);
    const response = () => page.evaluate(() => [...document.querySelectorAll('.graphiql-response .CodeMirror')].map((c) => c.CodeMirror.getValue()).join(''));
    await editor(0, 'subscription { alerts { kind orderReference } }');
    await page.click('.graphiql-execute-button');
    // The subscription is running once the server has it: a breach reported now reaches it.
    for (let i = 0; i < 50 && !(await response()).includes('BREACH_REPORTED'); i++) {
      await breach('WMC/UI/1');
      await page.waitForFunction(() => [...document.querySelectorAll('.graphiql-response .CodeMirror')].some((c) => c.CodeMirror.getValue().includes('BREACH_REPORTED')), { timeout: 1000 }).catch(() => {});
    }
    assert.match(await response(), /BREACH_REPORTED/);
    assert.match(await response(), /WMC\/UI\/1/);
    assert.deepEqual(foreign(page), []);
    assert.deepEqual(page.problems, []);
    // Nothing GraphiQL keeps (tabs, history, headers) outlives the page: the token is not in the browser's storage.
    const token = await page.evaluate(() => sessionStorage.getItem('orderwatch.token'));
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
    assert.ok(!stored.includes(token) && !stored.includes('Bearer'), `GraphiQL stored the token: ${stored.slice(0, 200)}`);
    // No serious or critical WCAG 2.2 A/AA failure, with the documentation and explorer panes open.
    assert.deepEqual(await accessibility(page, 'serious'), [], 'GraphiQL: WCAG 2.2 AA, serious and critical');
    await screenshots(page, 'graphiql');
    await page.close();
  });
});
