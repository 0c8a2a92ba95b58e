// The clerk's journey done with the keyboard alone: focus moves with Tab, fields
// are typed into, selects change with the arrow keys, checkboxes with Space and
// buttons with Enter. The page is only read (which element has the focus, what
// a select holds), never clicked.
import assert from 'node:assert/strict';

import { findRowsForKeyboard, isFlagged, previewRendered, printStatus, rowName, SURNAMES, visible, yenAmounts } from './flows.js';
import { freshTotp } from './totp.js';

const TAB_LIMIT = 80;

/** data-testid of the focused element, or of the nearest ancestor having one. */
function focused(app) {
  return app.browser.execute(() => {
    const element = document.activeElement;
    const own = element?.getAttribute('data-testid');
    if (own) return own;
    return element?.closest('[data-testid]')?.getAttribute('data-testid') ?? null;
  });
}

/** Presses Tab until data-testid `id` has the focus (bounded). */
async function tabTo(app, id, accept = async () => true) {
  for (const key of ['Tab', ['Shift', 'Tab']]) {
    for (let presses = 0; presses < TAB_LIMIT; presses += 1) {
      if ((await focused(app)) === id && (await accept())) return;
      await app.browser.keys(key);
    }
  }
  throw new Error(`[data-testid="${id}"] never got the focus within ${TAB_LIMIT} Tab and ${TAB_LIMIT} Shift+Tab presses`);
}

/** Types `text` into the focused field, after emptying it (End, Backspace…), and checks it took. */
async function typeFocused(app, text) {
  const value = () => app.browser.execute(() => document.activeElement.value ?? '');
  const old = await value();
  if (old.length > 0) await app.browser.keys(['End', ...Array(old.length).fill('Backspace')]);
  for (const char of String(text)) await app.browser.keys(char);
  const now = await value();
  if (now !== String(text)) throw new Error(`typed ${JSON.stringify(String(text))} but the field holds ${JSON.stringify(now)}`);
}

async function fill(app, id, text) {
  await tabTo(app, id);
  await typeFocused(app, text);
}

/** Moves the focused select to the option whose value is `value` with arrow keys. */
async function choose(app, id, value) {
  await tabTo(app, id);
  const valueNow = () => app.browser.execute(() => document.activeElement.value);
  const count = await app.browser.execute(() => document.activeElement.options?.length ?? 0);
  await app.browser.keys('Home');
  for (let presses = 0; presses <= count; presses += 1) {
    if ((await valueNow()) === value) return;
    await app.browser.keys('ArrowDown');
  }
  throw new Error(`${id}: the arrow keys never reached ${value} (at ${await valueNow()})`);
}

async function press(app, id) {
  await tabTo(app, id);
  await app.browser.keys('Enter');
}

/** Presses ArrowDown on the focused hit row until it is `id` (bounded). */
async function arrowToRow(app, id, rows) {
  const focusedRow = () =>
    app.browser.execute(() => document.activeElement?.closest('[data-testid="resident-row"]')?.getAttribute('data-resident-id') ?? null);
  await app.until('a hit row focused', focusedRow, 5_000).catch(async () => tabTo(app, 'resident-row'));
  for (let presses = 0; presses <= rows; presses += 1) {
    if ((await focusedRow()) === id) return;
    await app.browser.keys('ArrowDown');
  }
  throw new Error(`ArrowDown never reached the row of ${id}`);
}

export async function keyboardClerkJourney(app, clerk, tenderedYen) {
  await app.step('keyboard: log in', async () => {
    await app.shown('login-form', 60_000);
    await fill(app, 'login-user', clerk.login);
    await fill(app, 'login-password', clerk.password);
    await fill(app, 'login-totp', await freshTotp(clerk.totp_secret));
    await app.browser.keys('Enter');
    await app.until('session-staff', async () => (await app.el('session-staff').getText().catch(() => '')).includes(clerk.login));
  });
  await app.shot('logged-in');
  await app.step('keyboard: applicant in person with a photo ID', async () => {
    if (!(await app.el('applicant-type').isDisplayed().catch(() => false))) await press(app, 'nav-request');
    await choose(app, 'applicant-type', 'person');
    const first = await app.browser.execute(
      (select) => [...select.options].map((option) => option.value).find((value) => value !== ''),
      await app.el('identity-photo'),
    );
    await choose(app, 'identity-photo', first);
    if (await app.el('applicant-next').isExisting()) await press(app, 'applicant-next');
    await app.shown('search-name');
  });
  const resident = await app.step('keyboard: search and choose a resident without flags', async () => {
    for (const surname of SURNAMES) {
      await fill(app, 'search-name', surname);
      await app.browser.keys('Enter');
      const rows = await findRowsForKeyboard(app);
      const row = rows.find((candidate) => !isFlagged(candidate));
      if (!row) continue;
      await arrowToRow(app, row.id, rows.length);
      await app.shot('search-results');
      await app.browser.keys('Enter');
      await app.shown('cert-kind');
      return row;
    }
    throw new Error('no resident without flags under the demo surnames');
  });
  console.log(`# resident ${resident.id}: ${rowName(resident)}`);
  await app.step('keyboard: 住民票 with 続柄', async () => {
    await choose(app, 'cert-kind', 'juminhyo');
    await tabTo(app, 'opt-show_relationship');
    if (!(await app.el('opt-show_relationship').isSelected())) await app.browser.keys(' ');
    assert.ok(await app.el('opt-show_relationship').isSelected(), 'Space did not tick opt-show_relationship');
  });
  await app.step('keyboard: preview', async () => {
    await press(app, 'preview-button');
    await previewRendered(app);
  });
  await app.shot('preview');
  await app.step('keyboard: issue, paid in cash', async () => {
    await choose(app, 'pay-method', 'cash');
    await press(app, 'issue-button');
    await app.until('print-status or print-button', async () => (await visible(app, 'print-status')) || (await visible(app, 'print-button')), 30_000);
  });
  await app.step('keyboard: print', async () => {
    if (await visible(app, 'print-button')) await press(app, 'print-button');
    console.log(`# print-status: ${(await printStatus(app)).replace(/\n/g, ' / ')}`);
  });
  const fee = await app.step('keyboard: cash tendered and change', async () => {
    const total = yenAmounts(await app.text('fee-total'))[0];
    await fill(app, 'cash-tendered', tenderedYen);
    const change = await app.until('change-due', async () => yenAmounts(await app.el('change-due').getText().catch(() => ''))[0]);
    assert.equal(change, tenderedYen - total);
    await app.shot('printed-and-paid');
    if (await visible(app, 'fee-done')) await press(app, 'fee-done');
    await app.shown('receipt');
    return total;
  });
  const receipt = await app.text('receipt');
  console.log(`# receipt: ${receipt.replace(/\n/g, ' / ')}`);
  assert.ok(yenAmounts(receipt).includes(fee), `the fee ${fee} 円 is not on the receipt`);
  await app.shot('receipt');
  await app.step('keyboard: new request', async () => {
    await press(app, 'new-request');
    await app.shown('search-name');
  });
  return resident;
}

/**
 * A walk-in asking for their own 住民票, counted: from the empty request to the printed
 * certificate, every key press and click is one action, and a name typed into the
 * search box is one action (its characters are the resident's, not the app's). Uses
 * the shortcuts a practised clerk uses; answers the count.
 */
export async function walkInJourney(app, resident) {
  let actions = 0;
  const log = [];
  const key = async (what, keys) => {
    actions += 1;
    log.push(what);
    await app.browser.keys(keys);
  };
  await app.shown('applicant-type');
  if ((await focused(app)) !== 'applicant-type') {
    actions += 1;
    log.push('click applicant-type');
    await app.el('applicant-type').click();
  }
  // 申請者は本人 (the default); the identity document: the first photo ID.
  await key('Tab to identity-photo', 'Tab');
  assert.equal(await focused(app), 'identity-photo');
  await key('ArrowDown: first photo ID', 'ArrowDown');
  await key('Tab to search-name', 'Tab');
  assert.equal(await focused(app), 'search-name');
  // The name as the resident says it: variation selectors are not typed (the search folds them).
  const spoken = rowName(resident).replace(/[\uFE00-\uFE0F]|\uDB40[\uDD00-\uDDEF]/g, '');
  actions += 1;
  log.push(`type ${spoken}`);
  for (const char of spoken) await app.browser.keys(char);
  await key('Enter: search', 'Enter');
  const rows = await findRowsForKeyboard(app);
  const focusedRow = () =>
    app.browser.execute(() => document.activeElement?.closest('[data-testid="resident-row"]')?.getAttribute('data-resident-id') ?? null);
  await app.until('a hit row focused', focusedRow, 5_000);
  for (let presses = 0; presses < rows.length && (await focusedRow()) !== resident.id; presses += 1) await key('ArrowDown: next hit', 'ArrowDown');
  assert.equal(await focusedRow(), resident.id, 'the resident is among the hits');
  await key('Enter: choose the resident', 'Enter');
  await app.shown('cert-kind');
  assert.equal(await app.el('cert-kind').getValue(), 'juminhyo', '住民票 is the default certificate');
  await key('Alt+I: issue (prints at once)', ['Alt', 'i']);
  const printed = await printStatus(app);
  console.log(`# walk-in print-status: ${printed.replace(/\n/g, ' / ')}`);
  console.log(`# walk-in actions: ${log.join(' | ')}`);
  return actions;
}
