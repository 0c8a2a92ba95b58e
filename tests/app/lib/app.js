// Drives one run of the counter app through tauri-driver (which starts
// WebKitWebDriver, which starts the app): launching it, finding elements by
// data-testid, waiting with bounds, screenshots, demo staff and logging in.
// Settings come from the environment scripts/app-e2e.sh sets.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { remote } from 'webdriverio';

import { freshTotp } from './totp.js';
import { captureDisplay } from './xwd.js';

const run = promisify(execFile);

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the journeys through scripts/app-e2e.sh`);
  return value;
}

export const settings = {
  application: required('KOFU_E2E_APP'),
  dataDir: required('KOFU_COUNTER_DATA_DIR'),
  screenshots: required('KOFU_E2E_SCREENSHOTS'),
  pdfDir: required('KOFU_E2E_PDF_DIR'),
  spoolDir: process.env.KOFU_E2E_SPOOL_DIR ?? '/var/spool/cups',
  driverPort: Number(process.env.KOFU_E2E_DRIVER_PORT ?? 4444),
  display: process.env.DISPLAY,
};

/** How long a wait for something the UI shows may take, unless told otherwise. */
export const WAIT_MS = 20_000;

let shotCounter = 0;

/** One running app with its WebDriver session. */
export class App {
  constructor(browser, journey) {
    this.browser = browser;
    this.journey = journey;
  }

  /** Starts the app (a new process, the same data directory) for `journey`. */
  static async launch(journey) {
    mkdirSync(settings.screenshots, { recursive: true });
    const started = performance.now();
    const browser = await remote({
      hostname: '127.0.0.1',
      port: settings.driverPort,
      logLevel: 'error',
      connectionRetryTimeout: 45_000,
      connectionRetryCount: 0,
      waitforTimeout: WAIT_MS,
      capabilities: {
        'tauri:options': { application: settings.application },
        // WebKitWebDriver speaks classic WebDriver only (no BiDi).
        'wdio:enforceWebDriverClassic': true,
      },
    });
    const app = new App(browser, journey);
    await app.reportStart(started);
    return app;
  }

  /**
   * Prints (does not assert: figures belong in the report, not in a timed test)
   * how long the launch took until the login form was shown, and the memory of
   * the running app's processes then.
   */
  async reportStart(started) {
    try {
      // The login form, or on a new terminal the first administrator's form.
      await this.browser.$('[data-testid="login-form"], [data-testid="first-admin-form"]').waitForDisplayed({ timeout: 60_000 });
      const ms = Math.round(performance.now() - started);
      console.log(`# measure ${this.journey}: launch to login form ${ms} ms; resident memory ${appMemory()}`);
    } catch (error) {
      console.log(`# measure ${this.journey}: login form not seen at launch (${error.message})`);
    }
  }

  async close() {
    try {
      await this.browser.deleteSession();
    } catch (error) {
      console.error(`# closing the session of ${this.journey}: ${error.message}`);
    }
  }

  /** The element with data-testid `id` (not waited for). */
  el(id) {
    return this.browser.$(`[data-testid="${id}"]`);
  }

  /** Every element with data-testid `id`. */
  all(id) {
    return this.browser.$$(`[data-testid="${id}"]`);
  }

  /** Waits (bounded) for data-testid `id` to be displayed and returns it. */
  async shown(id, timeout = WAIT_MS) {
    const element = this.el(id);
    await element.waitForDisplayed({ timeout, timeoutMsg: `[data-testid="${id}"] not shown within ${timeout} ms` });
    return element;
  }

  async click(id) {
    const element = await this.shown(id);
    await element.waitForEnabled({ timeout: WAIT_MS, timeoutMsg: `[data-testid="${id}"] not enabled within ${WAIT_MS} ms` });
    await element.click();
  }

  /** Types `value` into input `id` (an empty field first). */
  async type(id, value) {
    const element = await this.shown(id);
    await element.clearValue();
    await element.setValue(String(value));
  }

  /** Picks the option whose value is `value` in select `id`. */
  async select(id, value) {
    const element = await this.shown(id);
    await element.selectByAttribute('value', value);
  }

  async text(id) {
    return (await this.shown(id)).getText();
  }

  /** Waits (bounded) until `predicate()` is truthy; answers its value. */
  async until(what, predicate, timeout = WAIT_MS) {
    let value;
    await this.browser.waitUntil(
      async () => {
        value = await predicate();
        return value;
      },
      { timeout, interval: 250, timeoutMsg: `${what}: not within ${timeout} ms` },
    );
    return value;
  }

  /** Saves a screenshot of the webview as NN-journey-name.png. */
  async shot(name) {
    shotCounter += 1;
    const file = join(settings.screenshots, `${String(shotCounter).padStart(2, '0')}-${this.journey}-${name}.png`);
    if (this.screenshotsHang) return this.shotOfDisplay(file);
    // WebKitWebDriver's screenshot sometimes never answers (and then neither
    // does any later one in the session): bounded, and given up after one.
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 40 s')), 40_000);
    });
    try {
      await Promise.race([this.browser.saveScreenshot(file), timeout]);
      console.log(`# screenshot ${file}`);
      return file;
    } catch (error) {
      console.log(`# screenshot ${file} failed: ${error.message.split('\n')[0]}`);
      if (/within 40 s|timed out|TIMEOUT/i.test(error.message)) {
        this.screenshotsHang = true;
        return this.shotOfDisplay(file);
      }
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The screenshot taken from the Xvfb display instead of the web view (once the
   * driver's screenshot hung: every later one would too). */
  async shotOfDisplay(file) {
    try {
      await captureDisplay(settings.display, file);
      console.log(`# screenshot ${file} (of the display: the driver's screenshot hung earlier)`);
      return file;
    } catch (error) {
      console.log(`# screenshot ${file} failed, of the display too: ${error.message.split('\n')[0]}`);
      return null;
    }
  }

  /**
   * Runs one step of a journey; on failure takes a screenshot and fails with the
   * step's name, so a journey that cannot go on says where.
   */
  async step(name, body) {
    try {
      return await body();
    } catch (error) {
      await this.shot(`FAILED-${name.replace(/[^A-Za-z0-9_-]+/g, '_')}`);
      const failure = new Error(`${this.journey}: step "${name}" failed: ${error.message}`);
      failure.cause = error;
      throw failure;
    }
  }

  /** Logs `account` (from demoStaff) in through the login form. */
  async logIn(account) {
    await this.shown('login-form', 60_000);
    const user = await this.shown('login-user');
    if ((await user.getTagName()).toLowerCase() === 'select') {
      await user.selectByAttribute('value', account.login);
    } else {
      await this.type('login-user', account.login);
    }
    await this.type('login-password', account.password);
    await this.type('login-totp', await freshTotp(account.totp_secret));
    await this.click('login-submit');
    await this.until(`session-staff showing ${account.login}`, async () => {
      const error = await this.el('login-error');
      if ((await error.isExisting()) && (await error.isDisplayed())) {
        const message = await error.getText();
        if (message.trim()) throw new Error(`login-error: ${message}`);
      }
      const staff = await this.el('session-staff');
      return (await staff.isExisting()) && (await staff.getText()).includes(account.login);
    });
  }
}

/** The demo accounts the embedded app wrote (waits, bounded, for the file). */
export async function demoStaff(timeout = 60_000) {
  const file = join(settings.dataDir, 'demo-staff.json');
  const deadline = Date.now() + timeout;
  for (;;) {
    if (existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8'));
        const list = Array.isArray(parsed) ? parsed : (parsed.staff ?? parsed.accounts ?? []);
        if (list.length > 0) return list;
      } catch {
        // being written: try again
      }
    }
    if (Date.now() > deadline) throw new Error(`${file} did not appear (with accounts) within ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The first demo account with `role`. */
export async function account(role) {
  const staff = await demoStaff();
  const found = staff.find((entry) => entry.role === role);
  if (!found) throw new Error(`no demo account with role ${role} in demo-staff.json (roles: ${staff.map((s) => s.role).join(', ')})`);
  for (const key of ['login', 'password', 'totp_secret']) {
    if (!found[key]) throw new Error(`demo account ${found.login ?? '?'} has no ${key}`);
  }
  return found;
}

/** The names of the top-level X windows on the Xvfb display (the app's title). */
export async function windowTitles() {
  const { stdout } = await run('xwininfo', ['-root', '-tree'], { env: process.env, timeout: 10_000 });
  return [...stdout.matchAll(/0x[0-9a-f]+ "([^"]*)"/g)].map((match) => match[1]);
}

/** Text of a PDF file (pdftotext -layout). */
export async function pdfText(file) {
  const { stdout } = await run('pdftotext', ['-layout', file, '-'], { timeout: 30_000, maxBuffer: 16 << 20 });
  return stdout;
}

/** Number of pages of a PDF file (pdfinfo). */
export async function pdfPages(file) {
  const { stdout } = await run('pdfinfo', [file], { timeout: 30_000 });
  const found = stdout.match(/^Pages:\s+(\d+)/m);
  if (!found) throw new Error(`pdfinfo gives no page count for ${file}`);
  return Number(found[1]);
}

/** Resident memory (VmRSS) of the app and its web processes, summed, as text. */
export function appMemory() {
  const names = new Set(['kofu-counter', 'WebKitWebProces', 'WebKitNetworkPr']);
  let kib = 0;
  const parts = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const name = status.match(/^Name:\s+(.+)$/m)?.[1];
      const rss = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1] ?? 0);
      if (name && names.has(name) && rss > 0) {
        kib += rss;
        parts.push(`${name} ${Math.round(rss / 1024)} MiB`);
      }
    } catch {
      // The process ended while /proc was read.
    }
  }
  return `${Math.round(kib / 1024)} MiB (${parts.join(', ') || 'no process found'})`;
}
