// The counter app's journeys, one app run each, in order, on one embedded data
// directory: what a clerk and a supervisor do at the counter in a day. Run by
// scripts/app-e2e.sh (`node tests/app/journeys.test.js`); screenshots of each
// screen go to $KOFU_E2E_SCREENSHOTS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFile } from 'node:fs/promises';

import { App, account, demoStaff, pdfPages, pdfText, settings, windowTitles } from './lib/app.js';
import {
  applicantInPerson,
  chooseRow,
  denominations,
  findResident,
  isFlagged,
  normalise,
  previewRendered,
  printedPdf,
  rowName,
  printStatus,
  shownYen,
  visible,
  spooledJob,
  tick,
  yenAmounts,
} from './lib/flows.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { keyboardClerkJourney, walkInJourney } from './lib/keyboard.js';
import { enrolTerminal, startProxy, startServer, waitUntil } from './lib/network.js';
import { freshTotp } from './lib/totp.js';

const ISSUE_NUMBER = /\d{8}\s*\S+\s+\S+\s+\S+\s+\d{3}/;
const TENDERED_YEN = 1000;

/** Launches the app for `journey`, runs `body`, always ends the session. */
async function withApp(journey, body) {
  const app = await App.launch(journey);
  try {
    await body(app);
  } finally {
    await app.close();
  }
}

test('app starts: window title, first screen, demo staff', async () => {
  await withApp('start', async (app) => {
    await app.step('document loaded', () =>
      app.until('document.readyState complete', async () => (await app.browser.execute(() => document.readyState)) === 'complete'),
    );
    assert.equal(await app.browser.getTitle(), 'kofu');
    await app.step('window title', async () => {
      const title = await app.until('the app window on the display', async () =>
        (await windowTitles()).find((name) => name.startsWith('kofu 窓口')),
      );
      console.log(`# window title: ${title}`);
      assert.match(title, /^kofu 窓口 — .+ — .+ — (組込み|サーバー|.+)$/);
    });
    await app.step('first screen rendered', () =>
      app.until('React rendered into #root', async () => app.browser.execute(() => document.getElementById('root')?.childElementCount > 0)),
    );
    await app.shot('first-screen');
    await app.step('demo-staff.json written', async () => {
      const roles = (await demoStaff()).map((entry) => entry.role);
      for (const role of ['clerk', 'supervisor']) assert.ok(roles.includes(role), `no ${role} among ${roles}`);
    });
    await app.step('login form', () => app.shown('login-form', 30_000));
    await app.shot('login-form');
  });
});

test('login: a wrong code is refused with login-error', async () => {
  const clerk = await account('clerk');
  await withApp('login-refused', async (app) => {
    await app.step('fill the form with a wrong code', async () => {
      await app.shown('login-form', 60_000);
      const user = await app.shown('login-user');
      if ((await user.getTagName()).toLowerCase() === 'select') await user.selectByAttribute('value', clerk.login);
      else await app.type('login-user', clerk.login);
      await app.type('login-password', clerk.password);
      await app.type('login-totp', '000000');
      await app.click('login-submit');
    });
    const error = await app.step('login-error shown', async () => {
      await app.shown('login-error');
      return app.until('login-error text', async () => (await app.el('login-error').getText()).trim());
    });
    console.log(`# login-error: ${error}`);
    await app.shot('login-error');
  });
});

/** Issuances the journeys made (the daily close expects their cash). */
let issuedCount = 0;
/** Support-measure overrides issued in this run (the report must list them). */
let overrideCount = 0;

const QUEUE = process.env.KOFU_COUNTER_QUEUE ?? 'kofu-test';
const JOB = new RegExp(`${QUEUE}-(\\d+)`);

/** The clerk's journey: 住民票 with 続柄, previewed, issued for cash, printed, receipt. */
async function clerkIssues(app, clerk) {
  await app.step('log in', () => app.logIn(clerk));
  await app.shot('logged-in');
  await app.step('applicant in person with a photo ID', async () => {
    const nav = app.el('nav-request');
    if ((await nav.isExisting()) && (await nav.isDisplayed())) await nav.click();
    await applicantInPerson(app);
  });
  const resident = await app.step('search: a resident without flags', () =>
    findResident(app, (row) => !isFlagged(row), 'without flags'),
  );
  const name = rowName(resident);
  console.log(`# resident ${resident.id}: ${name} (searched ${resident.surname})`);
  await app.shot('search-results');
  await app.step('choose the resident', async () => {
    await chooseRow(app, resident);
    await app.shown('cert-kind');
  });
  await app.step('住民票 with 続柄', async () => {
    await app.select('cert-kind', 'juminhyo');
    await tick(app, 'show_relationship');
  });
  await app.step('preview', async () => {
    await app.click('preview-button');
    await previewRendered(app);
  });
  await app.shot('preview');
  await app.step('issue, paid in cash', async () => {
    await app.select('pay-method', 'cash');
    await app.click('issue-button');
    // Printing starts by itself, or from a print button.
    await app.until('print-status or print-button', async () => (await visible(app, 'print-status')) || (await visible(app, 'print-button')), 30_000);
  });
  await app.shot('issued');
  const printedSince = Date.now() - 5000;
  const status = await app.step('print', async () => {
    if (await visible(app, 'print-button')) await app.click('print-button');
    return printStatus(app);
  });
  console.log(`# print-status: ${status.replace(/\n/g, ' / ')}`);
  const fee = await app.step('fee and change', async () => {
    const total = await shownYen(app, 'fee-total');
    assert.ok(total > 0 && total < TENDERED_YEN, `fee-total ${total} 円`);
    await app.type('cash-tendered', TENDERED_YEN);
    const change = await app.until('change-due', async () => yenAmounts(await app.el('change-due').getText().catch(() => ''))[0]);
    assert.equal(change, TENDERED_YEN - total, `change-due for ${TENDERED_YEN} 円 tendered against ${total} 円`);
    return total;
  });
  await app.shot('printed-and-paid');
  await app.step('receipt', async () => {
    if (await visible(app, 'fee-done')) await app.click('fee-done');
    await app.shown('receipt');
    const receiptNo = (await app.text('receipt-no')).trim();
    assert.match(receiptNo, /\S{4,}/, 'receipt-no is empty');
    assert.equal(await shownYen(app, 'receipt-total'), fee, 'receipt-total is not the fee');
    assert.ok(yenAmounts(await app.text('receipt')).includes(fee), 'the receipt does not show the fee');
    console.log(`# receipt ${receiptNo}, fee ${fee} 円`);
  });
  await app.shot('receipt');
  // What the app handed CUPS is checked first: the spooled job (PreserveJobFiles)
  // holds the exact bytes lp got. cups-pdf's own output is the job re-rendered by
  // Ghostscript, whose Type 3 fonts carry no usable text, so of that file only its
  // pages are compared: the queue really printed the whole document.
  const { number, pages } = await app.step('the bytes CUPS got are the issued document', async () => {
    const spooled = spooledJob(Number(status.match(JOB)[1]));
    const shown = (status.match(/\b[0-9a-f]{64}\b/) ?? [])[0];
    console.log(`# spooled ${spooled.file} sha256 ${spooled.sha256}; print-status sha256 ${shown ?? '(not shown)'}`);
    if (shown) assert.equal(spooled.sha256, shown, 'the spooled job is not the document whose SHA-256 the UI shows');
    const text = await pdfText(spooled.file);
    assert.ok(normalise(text).includes(normalise(name)), `the spooled job ${spooled.file} does not name ${name}`);
    const found = text.match(ISSUE_NUMBER);
    assert.ok(found, `the spooled job ${spooled.file} has no 発行番号`);
    assert.ok(normalise(status).includes(normalise(found[0])), `print-status does not show the printed 発行番号 ${found[0]}`);
    console.log(`# 発行番号 ${found[0]}`);
    return { number: found[0], pages: await pdfPages(spooled.file) };
  });
  const pdf = await app.step('cups-pdf output', () => printedPdf(app, printedSince));
  console.log(`# printed file ${pdf} (${number})`);
  await app.step('the queue printed every page', async () => {
    assert.equal(await pdfPages(pdf), pages, `${pdf} has not the spooled job's ${pages} page(s)`);
  });
  issuedCount += 1;
}

test('clerk: issues a 住民票 with 続柄 for cash and prints it', async () => {
  const clerk = await account('clerk');
  await withApp('clerk', (app) => clerkIssues(app, clerk));
});

test('clerk: a flagged resident is refused with a reason', async () => {
  const clerk = await account('clerk');
  await withApp('refusal', async (app) => {
    await app.step('log in', () => app.logIn(clerk));
    await app.step('applicant in person with a photo ID', async () => {
      const nav = app.el('nav-request');
      if ((await nav.isExisting()) && (await nav.isDisplayed())) await nav.click();
      await applicantInPerson(app);
    });
    const resident = await app.step('search: a flagged resident (支援措置 or 死亡 first)', async () => {
      try {
        return await findResident(app, (row) => /支援措置|死亡/.test(row.flags), 'with 支援措置 or 死亡');
      } catch (error) {
        console.log(`# ${error.message}; any flag will do`);
        return findResident(app, isFlagged, 'flagged');
      }
    });
    console.log(`# resident ${resident.id}: ${rowName(resident)}, flags ${resident.flags}`);
    await app.shot('flagged-hit');
    await app.step('choose the resident and 住民票', async () => {
      await chooseRow(app, resident);
      await app.select('cert-kind', 'juminhyo');
    });
    const refusalText = () => app.until('refusal text', async () => (await app.el('refusal').getText()).trim());
    const previewReason = await app.step('refusal on preview', async () => {
      await app.click('preview-button');
      await app.shown('refusal');
      return refusalText();
    });
    console.log(`# refusal (preview): ${previewReason}`);
    assert.ok(previewReason.length >= 4, `refusal gives no reason: ${JSON.stringify(previewReason)}`);
    // A refusal shows no preview at all; if the pane is there, it holds no page.
    const pages = await app.browser.$$('[data-testid="preview"] canvas');
    assert.equal(pages.length, 0, 'a refused subject was rendered');
    await app.shot('refusal-preview');
    const issueOutcome = await app.step('no issuance for a refused subject', async () => {
      const issue = app.el('issue-button');
      if (!(await issue.isEnabled())) return 'issue-button disabled';
      await app.select('pay-method', 'cash');
      await issue.click();
      await app.until('a refusal after issuing', async () => (await app.all('refusal')).length > 0 && !(await visible(app, 'print-status')));
      assert.equal(await visible(app, 'print-status'), false, 'a refused issuance is printing');
      return `refused on issue: ${await app.text('refusal')}`;
    });
    console.log(`# issue: ${issueOutcome}`);
    await app.shot('refusal-issue');
  });
});

test('support officer: a stop on a protected household member, named to the clerk, overridden with a reason', async () => {
  const clerk = await account('clerk');
  const officer = await account('support_officer');
  await withApp('override', async (app) => {
    await app.step('log in', () => app.logIn(clerk));
    await app.step('applicant in person with a photo ID', async () => {
      const nav = app.el('nav-request');
      if ((await nav.isExisting()) && (await nav.isDisplayed())) await nav.click();
      await applicantInPerson(app);
    });
    // The demo town (2000 residents, seed 1) puts 久保 望 under a support measure;
    // her husband 久保 実 (17794427860), head of their household, is not protected
    // himself, but his 住民票 would print her address.
    const resident = await app.step('search: 久保 実, whose wife is protected', () =>
      findResident(app, (row) => row.id === '17794427860' && /支援措置/.test(row.flags), 'the husband of a protected wife', ['久保']),
    );
    console.log(`# resident ${resident.id}: ${rowName(resident)}, flags ${resident.flags}`);
    await app.step('choose the resident and 住民票', async () => {
      await chooseRow(app, resident);
      await app.select('cert-kind', 'juminhyo');
    });
    const detail = await app.step('the stop names the protected person', async () => {
      await app.click('preview-button');
      await app.shown('refusal');
      return app.until('refusal-detail text', async () => (await app.el('refusal-detail').getText().catch(() => '')).trim());
    });
    console.log(`# refusal detail: ${detail}`);
    assert.match(detail, /同一世帯員 久保 望（17794428158）/, `the clerk is not told who is protected: ${detail}`);
    // The stop and the officer's form, in view for the screenshot.
    await app.el('refusal').scrollIntoView({ block: 'center' });
    await app.shot('override-stop');
    await app.step('the support officer authorises it with a reason', async () => {
      await app.type('override-reason', '申出者本人が来庁し本人確認のうえ交付');
      const user = await app.shown('override-user');
      if ((await user.getTagName()).toLowerCase() === 'select') await user.selectByAttribute('value', officer.login);
      else await app.type('override-user', officer.login);
      await app.type('override-password', officer.password);
      await app.type('override-totp', await freshTotp(officer.totp_secret));
      await app.click('override-submit');
      await previewRendered(app);
    });
    await app.shot('override-preview');
    await app.step('issue, paid in cash', async () => {
      await app.select('pay-method', 'cash');
      await app.click('issue-button');
      await app.until('print-status or print-button', async () => (await visible(app, 'print-status')) || (await visible(app, 'print-button')), 30_000);
      if (await visible(app, 'print-button')) await app.click('print-button');
      await printStatus(app);
    });
    await app.shot('override-issued');
    issuedCount += 1;
    overrideCount += 1;
  });
});

test('clerk, keyboard only: issues a 住民票 with 続柄 for cash', async () => {
  const clerk = await account('clerk');
  await withApp('keyboard', async (app) => {
    const resident = await keyboardClerkJourney(app, clerk, TENDERED_YEN);
    issuedCount += 1;
    await app.step('keyboard: new request for a walk-in', async () => {
      if (!(await visible(app, 'applicant-type'))) await app.click('nav-request');
      await app.shown('applicant-type');
    });
    const actions = await app.step('walk-in: empty request to a printed 住民票', () => walkInJourney(app, resident));
    issuedCount += 1;
    console.log(`# measure actions per walk-in ${actions} (target 8)`);
    await app.shot('walk-in-printed');
    assert.ok(actions <= 8, `a walk-in took ${actions} actions`);
  });
});

test('clerk, network cut mid-day: offline banner, offline issuance, upload on reconnection', async () => {
  const clerk = await account('clerk');
  const supervisor = await account('supervisor');
  const kofu = process.env.KOFU_E2E_KOFU;
  assert.ok(kofu, 'KOFU_E2E_KOFU (the kofu binary) is not set: run through scripts/app-e2e.sh');
  // The town hall's server on the demo database the embedded journeys used (no app
  // has it open now); the app, in server mode, reaches it through a proxy.
  const database = `sqlite:${join(settings.dataDir, 'kofu.sqlite')}`;
  const server = await startServer(kofu, database, process.env.KOFU_E2E_LOGS ?? settings.screenshots);
  const proxy = await startProxy(server.port);
  // The administrator enrols this terminal at the server's console; the code is typed
  // into the app, which registers a key pair of its own.
  const enrolmentCode = await enrolTerminal(kofu, database, '本庁1');
  const counterJson = join(settings.dataDir, 'counter.json');
  writeFileSync(counterJson, JSON.stringify({ KOFU_COUNTER_DEMO: '1', KOFU_COUNTER_SERVER: `http://127.0.0.1:${proxy.port}` }));
  try {
    await withApp('offline', async (app) => {
      await app.step('an unregistered terminal asks for its enrolment code', () => app.shown('terminal-enrolment', 20_000));
      await app.shot('terminal-unregistered');
      await app.step('enrol the terminal with the administrator\'s code', async () => {
        await app.type('enrolment-code', enrolmentCode);
        await app.click('enrol-terminal');
        await waitUntil('terminal-key.json is written', () => existsSync(join(settings.dataDir, 'terminal-key.json')));
        await app.until('the enrolment form is gone', async () => !(await visible(app, 'terminal-enrolment')), 20_000);
      });
      await app.step('log in online', () => app.logIn(clerk));
      await app.step('the replica key is kept for this login', () =>
        waitUntil('replica-keys.json names the clerk', () => {
          const file = join(settings.dataDir, 'replica-keys.json');
          return existsSync(file) && JSON.parse(readFileSync(file, 'utf8')).logins?.[clerk.login];
        }),
      );
      assert.equal(await app.el('offline-banner').isExisting(), false, 'an offline banner while online');
      await app.shot('online');
      const cutAt = Date.now();
      proxy.cut();
      await app.step('the offline banner', () => app.shown('offline-banner', 20_000));
      console.log(`# measure network cut to offline banner ${Date.now() - cutAt} ms`);
      console.log(`# offline banner: ${(await app.text('offline-banner')).replace(/\n/g, ' / ')}`);
      await app.shot('offline-banner');
      await app.step('log out of the online session', async () => {
        if (await visible(app, 'logout')) await app.click('logout');
        await app.shown('login-form', 30_000);
      });
      await clerkIssues(app, clerk);
      await app.step('the banner counts the unsynced issuance', () =>
        app.until('offline-age says 1 unsynced', async () => /未送信 1 件|1 not yet synced/.test(await app.text('offline-age'))),
      );
      await app.shot('offline-issued');
      proxy.restore();
      await app.step('back online: the pending notice', () => app.shown('offline-pending', 20_000));
      await app.shot('online-pending');
      await app.step('log in online again: the upload', async () => {
        if (await visible(app, 'logout')) await app.click('logout');
        await app.logIn(clerk);
        await app.until('no pending notice', async () => !(await visible(app, 'offline-pending')), 60_000);
      });
      await app.shot('synced');
    });
    // The server holds the offline issuance, once, with who issued it.
    const login = await fetch(`${server.base}/counter/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: supervisor.login, password: supervisor.password, totp: await freshTotp(supervisor.totp_secret) }),
    });
    assert.equal(login.status, 200, `supervisor login: ${await login.clone().text()}`);
    const { token } = await login.json();
    const review = await (await fetch(`${server.base}/counter/v1/offline/review`, { headers: { authorization: `Bearer ${token}` } })).json();
    const issued = review.terminals.flatMap((t) => t.issuances);
    console.log(`# offline review: ${JSON.stringify(review).slice(0, 400)}`);
    assert.equal(issued.length, 1, 'the offline issuance reached the server once');
    assert.equal(issued[0].staff, clerk.login);
    await fetch(`${server.base}/counter/v1/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  } finally {
    writeFileSync(counterJson, JSON.stringify({ KOFU_COUNTER_DEMO: '1' }));
    await proxy.close();
    await server.stop();
  }
});

test('supervisor: report, audit verification, daily close', async () => {
  const staff = await demoStaff();
  const supervisor = await account('supervisor');
  await withApp('supervisor', async (app) => {
    await app.step('log in', () => app.logIn(supervisor));
    await app.step('open the report', async () => {
      await app.click('nav-report');
      await app.shown('report-day');
    });
    await app.step('charts drawn', async () => {
      for (const chart of ['chart-kind', 'chart-channel', 'chart-hour']) {
        await app.shown(chart);
        await app.until(`${chart} drawn`, async () => (await app.el(chart).$$('svg, canvas, rect, [role="img"]')).length > 0 || (await app.el(chart).getText()).trim());
      }
      if (issuedCount > 0) assert.match(await app.text('chart-kind'), /住民票|juminhyo|\d/);
    });
    await app.shot('report');
    if (overrideCount > 0) {
      await app.step('the override is on the report', async () => {
        const text = await app.until('the override reason in report-overrides', async () => {
          const shown = await app.el('report-overrides').getText().catch(() => '');
          return /申出者本人/.test(shown) ? shown : false;
        });
        console.log(`# report-overrides: ${text.replace(/\n/g, ' / ')}`);
      });
    }
    // The exports are saved by the shell (the web view cannot download); the PDF is
    // the rendering core's report, read back with poppler.
    for (const [button, extension] of [['export-csv', 'csv'], ['export-pdf', 'pdf']]) {
      const saved = await app.step(`${button}: saved`, async () => {
        await app.click(button);
        return app.until(`${button} saved`, async () => {
          const text = (await app.el('export-saved').getText().catch(() => '')).trim();
          const found = text.match(/(\/\S+\.(?:csv|pdf))$/);
          return found && found[1].endsWith(`.${extension}`) ? found[1] : false;
        }, 60_000);
      });
      console.log(`# ${button} saved to ${saved}`);
      assert.ok(saved.startsWith(process.env.KOFU_COUNTER_EXPORT_DIR), `${saved} is not in the export directory`);
      if (extension === 'csv') {
        assert.match(await readFile(saved, 'utf8'), /by_kind/, `${saved} is not the report's CSV`);
      } else {
        const text = (await pdfText(saved)).replace(/\s+/g, '');
        assert.match(text, /交付日報\d{4}-\d{2}-\d{2}/, `${saved} has no report title`);
        assert.match(text, /交付件数/, `${saved} has no key figures`);
        assert.ok((await pdfPages(saved)) >= 1);
      }
    }
    await app.shot('report-exported');
    const audit = await app.step('audit verification', async () => {
      await app.click('audit-verify');
      return app.until('audit-status result', async () => {
        const text = (await app.el('audit-status').getText().catch(() => '')).trim();
        return text && !/中|…|\.\.\./.test(text) ? text : false;
      }, 60_000);
    });
    console.log(`# audit-status: ${audit}`);
    await app.shot('audit-verified');
    assert.doesNotMatch(audit, /異常があります|失敗|不一致|改ざんを検出|broken|mismatch|fail/i, `audit-status: ${audit}`);
    await app.step('open the daily close', async () => {
      await app.click('nav-close');
      await app.shown('close-expected');
    });
    const expected = await app.step('expected cash', async () => {
      const text = await app.until('close-expected amount', async () => {
        const value = await app.el('close-expected').getText();
        return /[0-9]/.test(value) ? value : false;
      });
      return yenAmounts(text)[0] ?? Number(text.replace(/[^0-9]/g, ''));
    });
    console.log(`# expected cash ${expected} 円 after ${issuedCount} issuance(s) in this run`);
    await app.step('count the till', async () => {
      for (const [yen, count] of Object.entries(denominations(expected))) await app.type(`denom-${yen}`, count);
      await app.until('close-difference 0', async () => {
        const difference = (await app.el('close-difference').getText()).replace(/[^0-9-]/g, '');
        return Number(difference) === 0 && difference !== '';
      });
      const counted = yenAmounts(await app.text('close-counted'))[0] ?? Number((await app.text('close-counted')).replace(/[^0-9]/g, ''));
      assert.equal(counted, expected);
    });
    await app.shot('close-counted');
    await app.step('approve and seal', async () => {
      const approver = staff.find((entry) => entry.role === 'supervisor' && entry.login !== supervisor.login) ?? supervisor;
      const user = await app.shown('approve-user');
      if ((await user.getTagName()).toLowerCase() === 'select') await user.selectByAttribute('value', approver.login);
      else await app.type('approve-user', approver.login);
      await app.type('approve-password', approver.password);
      await app.type('approve-totp', await freshTotp(approver.totp_secret));
      await app.click('close-submit');
      await app.shown('close-sealed', 30_000);
    });
    console.log(`# close-sealed: ${(await app.text('close-sealed')).replace(/\n/g, ' / ')}`);
    await app.shot('close-sealed');
  });
});

test('administrator: staff accounts, a fee change and a terminal registered, each in the history', async () => {
  const admin = await account('admin');
  await withApp('admin', async (app) => {
    await app.step('log in', () => app.logIn(admin));
    await app.step('open the administration', async () => {
      await app.click('nav-admin');
      await app.shown('staff-list');
    });
    await app.shot('admin-staff');
    await app.step('open the settings', async () => {
      await app.click('admin-tab-settings');
      await app.shown('fee-counter-juminhyo');
    });
    const before = Number((await app.el('fee-kiosk-juminhyo').getValue()) || (await app.el('fee-counter-juminhyo').getValue()));
    const fee = before >= 10 ? before - 10 : before + 10;
    await app.step('change the kiosk fee of 住民票', async () => {
      await app.type('fee-kiosk-juminhyo', String(fee));
      await app.type('reason-fees', 'コンビニ交付の手数料改定（E2E）');
      await app.click('save-fees');
      await app.until('settings-message says saved', async () => /保存しました|saved/.test(await app.text('settings-message')));
    });
    assert.equal(Number(await app.el('fee-kiosk-juminhyo').getValue()), fee, 'the saved fee is shown after the reload');
    await app.step('register this terminal and its printer', async () => {
      await app.click('terminal-add');
      await app.type('terminal-name', '本庁1');
      await app.type('terminal-location', '本庁舎1階 市民課 1番窓口');
      await app.type('printer-code-0', 'P001');
      await app.type('printer-description-0', 'A4 レーザー');
      await app.type('reason-terminal', '窓口端末の登録（E2E）');
      await app.click('save-terminal');
      await app.until('the terminal listed', async () => (await app.text('terminal-list').catch(() => '')).includes('本庁1'));
    });
    const history = await app.text('settings-history');
    console.log(`# settings history: ${history.replace(/\n/g, ' / ').slice(0, 300)}`);
    assert.match(history, /コンビニ交付の手数料改定/);
    assert.match(history, /窓口端末の登録/);
    await app.shot('admin-settings');
  });
});

test('first start outside demo mode: the first administrator, then a clerk invited and enrolled at first login', async () => {
  // A new town's terminal: no demo town, no demo account, no staff at all.
  for (const file of ['kofu.sqlite', 'kofu.sqlite-wal', 'kofu.sqlite-shm', 'demo-staff.json', 'counter.json', 'replica.sqlite', 'replica-keys.json', 'terminal-key.json']) {
    rmSync(join(settings.dataDir, file), { force: true });
  }
  const otpSecret = (text) => /secret=([A-Z2-7]+)/.exec(text)?.[1];
  const admin = { login: 'kanrisha', password: 'first administrator passphrase' };
  const clerk = { login: 'atarashii', password: 'a new clerk chose this passphrase' };
  await withApp('first-start', async (app) => {
    await app.step('the first-start screen', () => app.shown('first-admin-form', 60_000));
    assert.equal(await app.el('login-form').isExisting(), false, 'no login before the first administrator');
    await app.shot('first-admin');
    await app.step('the first administrator sets their own password', async () => {
      await app.type('first-admin-login', admin.login);
      await app.type('first-admin-password', admin.password);
      await app.type('first-admin-password2', admin.password);
      await app.click('first-admin-submit');
      await app.shown('first-admin-secret');
    });
    admin.totp_secret = otpSecret(await app.text('first-admin-secret'));
    assert.ok(admin.totp_secret, 'the TOTP secret is shown once');
    await app.shot('first-admin-secret');
    await app.step('back to the login', async () => {
      await app.click('first-admin-done');
      await app.shown('login-form');
    });
    await app.step('the administrator logs in', () => app.logIn(admin));
    await app.step('invite a clerk', async () => {
      await app.click('nav-admin');
      await app.shown('staff-list');
      await app.type('enrol-login', clerk.login);
      await app.select('enrol-role', 'clerk');
      await app.click('enrol-submit');
      await app.shown('staff-enrolment-code');
    });
    const code = (await app.text('staff-enrolment-code')).trim();
    assert.match(code, /^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    await app.until('the clerk listed as awaiting first login', async () => /登録待ち|Awaiting/.test(await app.text('staff-list')));
    await app.shot('staff-invited');
    await app.step('log out', async () => {
      await app.click('logout');
      await app.shown('login-form', 30_000);
    });
    await app.step('the clerk enrols at first login', async () => {
      await app.click('first-login');
      await app.shown('enrol-form');
      await app.type('enrol-login', clerk.login);
      await app.type('enrol-code', code.toLowerCase());
      await app.type('enrol-password', clerk.password);
      await app.type('enrol-password2', clerk.password);
      await app.click('enrol-submit');
      await app.shown('enrol-secret');
    });
    clerk.totp_secret = otpSecret(await app.text('enrol-secret'));
    assert.ok(clerk.totp_secret);
    await app.shot('clerk-enrolled');
    await app.step('the clerk logs in with what only they know', async () => {
      await app.click('enrol-done');
      await app.logIn(clerk);
    });
    await app.shot('clerk-logged-in');
  });
});
