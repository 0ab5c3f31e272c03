// What the browser tests run against: the real orderwatch binary on a new SQLite file, Debian's Chromium driven by
// puppeteer-core (it never downloads a browser), and the API itself to set up what a page should show.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const BIN = process.env.ORDERWATCH_BIN ?? path.join(root, 'target/debug/orderwatch');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/// A server on its own database. `restart()` stops it and starts it again on the same port and file.
export class Server {
  static async start() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orderwatch-console-'));
    const s = new Server(dir);
    await s.spawn('127.0.0.1:0');
    s.cli('seed', '--demo');
    return s;
  }

  constructor(dir) {
    this.dir = dir;
    this.env = {
      ...process.env,
      DATABASE_URL: `sqlite://${dir}/ow.db`,
      ORDERWATCH_CHECK_INTERVAL: '0',
      ORDERWATCH_LOG: 'warn',
    };
  }

  async spawn(listen) {
    this.proc = spawn(BIN, ['serve'], { env: { ...this.env, ORDERWATCH_LISTEN: listen }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr ?? '') + d; });
    this.url = await new Promise((resolve, reject) => {
      this.proc.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/serving (http:\/\/[0-9.:]+)\/graphql/);
        if (m) resolve(m[1]);
      });
      this.proc.on('exit', (code) => reject(new Error(`orderwatch exited with ${code}: ${this.stderr ?? ''}`)));
    });
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }

  async restart() {
    await this.stop();
    await this.spawn(this.url.replace('http://', ''));
  }

  cli(...args) {
    return execFileSync(BIN, args, { env: this.env, encoding: 'utf8' }).trim();
  }

  token(role, agency, sub = `${agency.toLowerCase()}-user`, ...extra) {
    return this.cli('token', '--role', role, '--agency', agency, '--sub', sub, ...extra);
  }

  /// Sends a GraphQL request; fails the test on any error.
  async gql(token, query, variables = {}, headers = {}) {
    const res = await fetch(`${this.url}/graphql`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json();
    if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    return body.data;
  }

  async close() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/// Headless Chromium as the machine's own package, with nothing reaching outside.
export async function browser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/// A new page that records every request it makes and every console error, so a test can check that nothing left the
/// server's origin and nothing failed.
export async function open(b, server) {
  const page = await b.newPage();
  page.requests = [];
  page.problems = [];
  page.on('request', (r) => page.requests.push(r.url()));
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console: ${m.text()}`); });
  page.setDefaultTimeout(15000);
  page.server = server;
  return page;
}

/// Every request a page made went to the server itself (or stayed in the page: data: and blob: addresses).
export function foreign(page) {
  const origin = new URL(page.server.url).origin;
  return page.requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('data:') && !u.startsWith('blob:'));
}

export const SCREENSHOTS = path.join(root, 'target/console-screenshots');

/// Saves the page as it looks at desktop and phone widths, as `<name>-desktop.png` and `<name>-phone.png`.
export async function screenshots(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [width, height, label] of [[1280, 900, 'desktop'], [375, 812, 'phone']]) {
    await page.setViewport({ width, height });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewport({ width: 1280, height: 900 });
}

/// Runs axe-core in the page against WCAG 2.0, 2.1 and 2.2 A and AA, and answers its violations of at least
/// `impact` (every one by default).
export async function accessibility(page, impact = 'minor') {
  const axe = fs.readFileSync(path.join(root, 'console/node_modules/axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axe);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } });
    return r.violations;
  }).then((violations) => {
    const rank = ['minor', 'moderate', 'serious', 'critical'];
    return violations.filter((v) => rank.indexOf(v.impact) >= rank.indexOf(impact))
      .map((v) => `${v.id} (${v.impact}): ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
}

export async function signIn(page, token) {
  await page.goto(`${page.server.url}/#/`);
  await page.waitForSelector('#token');
  await page.type('#token', token);
  await Promise.all([page.waitForFunction(() => !document.querySelector('#token')), page.click('button[type=submit]')]);
}

/// An instant `ms` before `now`, but not before the day `spo` makes its orders on (the UTC date of `now`, never after
/// London's): a breach must not fall before the day its order was made, which "an hour ago" does just after midnight.
export function earlierToday(ms, now = new Date()) {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(Math.max(now.getTime() - ms, midnight)).toISOString();
}

/// An SPO made today by Westminster Magistrates' on MET's application, with one protected person.
export function spo(reference, today = new Date()) {
  const made = today.toISOString().slice(0, 10);
  const end = new Date(today);
  end.setUTCFullYear(end.getUTCFullYear() + 2);
  end.setUTCDate(end.getUTCDate() - 1);
  return {
    reference,
    type: 'SPO',
    applicantAgency: 'MET',
    subject: { names: ['Sam Subject'], dateOfBirth: '1980-05-05' },
    protectedPersons: [{ name: 'Pat Protected', dateOfBirth: '1990-01-01', contact: '07700 900123' }],
    madeOn: made,
    expiresOn: end.toISOString().slice(0, 10),
    conditions: [{ kind: 'PROHIBITION', text: 'Must not contact the protected person' }],
  };
}
