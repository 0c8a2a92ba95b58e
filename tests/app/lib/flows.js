// The steps the journeys share: finding a resident, choosing a certificate,
// paying, the printed file and the money arithmetic.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { settings } from './app.js';

/** Surnames of the demo town (crates/kofu-demo/src/names.rs), most frequent first. */
export const SURNAMES = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤', '吉田', '山田'];

/** Words a flagged hit's `resident-flags` shows (支援措置, 発行抑止, 転出, 死亡). */
const FLAG_WORDS = /支援措置|抑止|転出|死亡|消除|support|suppress|moved|deceased/i;

/** Variation selectors and spaces, which neither the comparison nor pdftotext keeps reliably. */
export const normalise = (text) => text.normalize('NFC').replace(/[\uFE00-\uFE0F\u{E0100}-\u{E01EF}\s\u3000]/gu, '');

/** Yen amounts written in `text` (1,234円, ¥1,234, 1234 円). */
export function yenAmounts(text) {
  return [...text.matchAll(/(?:[¥￥]\s*([0-9][0-9,]*))|(?:([0-9][0-9,]*)\s*円)/g)].map((m) => Number((m[1] ?? m[2]).replace(/,/g, '')));
}

/** The hits shown, as { id, name, text, flags }, read in one go (no stale elements). */
export async function residentRows(app) {
  return app.browser.execute(() =>
    [...document.querySelectorAll('[data-testid="resident-row"]')].map((row) => ({
      id: row.getAttribute('data-resident-id'),
      name: (row.querySelector('td')?.innerText ?? '').trim(),
      text: row.innerText.trim(),
      flags: (row.querySelector('[data-testid="resident-flags"]')?.innerText ?? '').trim(),
    })),
  );
}

/** Chooses hit `row` with the mouse (its first cell: WebKit will not click a <tr>). */
export async function chooseRow(app, row) {
  const cell = app.browser.$(`[data-testid="resident-row"][data-resident-id="${row.id}"] td`);
  // WebKitWebDriver counts a cell below the fold as not displayed: scroll first.
  await cell.waitForExist({ timeout: 10_000, timeoutMsg: `the row of ${row.id} is not in the hits` });
  await cell.scrollIntoView({ block: 'center' });
  await cell.waitForDisplayed({ timeout: 10_000, timeoutMsg: `the row of ${row.id} is not shown` });
  await cell.click();
}

/** Whether data-testid `id` is on the page and displayed (no waiting). */
export async function visible(app, id) {
  const element = app.el(id);
  return (await element.isExisting()) && (await element.isDisplayed());
}

/** Waits for every line of print-status to say printed (with the job); fails on a print failure. */
export async function printStatus(app, queue = process.env.KOFU_COUNTER_QUEUE ?? 'kofu-test') {
  const job = new RegExp(`${queue}-\\d+`);
  return app.until(
    `print-status naming the job (${queue}-N)`,
    async () => {
      const text = (await app.el('print-status').getText().catch(() => '')).trim();
      if (/失敗|エラー|error|failed|no_printer|digest/i.test(text)) throw new Error(`print-status: ${text}`);
      return job.test(text) && !/未印刷|印刷中|printing|waiting/i.test(text) ? text : false;
    },
    60_000,
  );
}

/** The hits shown after a search, waited for (8 s); none: []. */
export async function findRowsForKeyboard(app) {
  try {
    return await app.until('hits', async () => {
      const found = await residentRows(app);
      return found.length > 0 ? found : false;
    }, 8_000);
  } catch {
    return [];
  }
}

export const isFlagged = (row) => FLAG_WORDS.test(row.flags);

/**
 * Searches the demo town's surnames (or `surnames`) one after another until a hit
 * satisfies `wanted`; answers that row (not yet chosen). Fails naming what was tried.
 */
export async function findResident(app, wanted, what, surnames = SURNAMES) {
  const tried = [];
  for (const surname of surnames) {
    await app.type('search-name', surname);
    await app.click('search-submit');
    let rows = [];
    try {
      rows = await app.until(
        `hits for ${surname}`,
        async () => {
          const found = await residentRows(app);
          // Until the new search has answered, the previous surname's hits are
          // still on screen: only rows naming this surname count.
          const current = found.filter((row) => row.text.includes(surname));
          return current.length > 0 && found.every((row) => row.text.length > 0) ? current : false;
        },
        8_000,
      );
    } catch {
      tried.push(`${surname}: no hit`);
      continue;
    }
    const row = rows.find(wanted);
    if (row) return { ...row, surname };
    tried.push(`${surname}: ${rows.length} hits, none ${what}`);
  }
  throw new Error(`no resident ${what} found (${tried.join('; ')})`);
}

/** The name of a hit: its row's first line (the name as registered). */
export const rowName = (row) => row.name || row.text.split('\n')[0].trim();

/**
 * Fills the applicant (本人) and a photo identity document, then goes on to the
 * search (applicant-next, when the UI has that step).
 */
export async function applicantInPerson(app) {
  const applicant = app.el('applicant-type');
  if (await applicant.isExisting()) await app.select('applicant-type', 'person');
  const photo = app.el('identity-photo');
  if (await photo.isExisting()) {
    const values = await app.browser.execute(
      (select) => [...select.options].map((option) => option.value).filter((value) => value !== ''),
      await photo,
    );
    if (values.length === 0) throw new Error('identity-photo has no document to choose');
    await app.select('identity-photo', values[0]);
  }
  const next = app.el('applicant-next');
  if ((await next.isExisting()) && (await next.isDisplayed())) await next.click();
  await app.shown('search-name');
}

/** Ticks checkbox `opt-<name>` if it is not ticked. */
export async function tick(app, name) {
  const box = await app.shown(`opt-${name}`);
  if (!(await box.isSelected())) await box.click();
  if (!(await box.isSelected())) throw new Error(`opt-${name} did not become ticked`);
}

/** Waits for the preview to hold at least one rendered page (a canvas). */
export async function previewRendered(app) {
  await app.shown('preview');
  return app.until('a canvas in preview', async () => (await app.el('preview').$$('canvas')).length, 30_000);
}

/** Yen amount shown by data-testid `id` (the first amount in its text). */
export async function shownYen(app, id) {
  const text = await app.text(id);
  const amount = yenAmounts(text)[0];
  if (amount === undefined) throw new Error(`[data-testid="${id}"] shows no amount: ${JSON.stringify(text)}`);
  return amount;
}

/** The newest cups-pdf output that appeared after `since` (ms), waited for. */
export async function printedPdf(app, since, timeout = 60_000) {
  return app.until(
    `a PDF from cups-pdf in ${settings.pdfDir}`,
    () => {
      const files = readdirSync(settings.pdfDir)
        .filter((name) => name.endsWith('.pdf'))
        .map((name) => join(settings.pdfDir, name))
        .filter((file) => statSync(file).mtimeMs >= since && statSync(file).size > 0);
      // cups-pdf writes then closes: wait for two equal sizes a moment apart.
      if (files.length === 0) return false;
      const newest = files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
      const size = statSync(newest).size;
      return new Promise((resolve) => setTimeout(() => resolve(statSync(newest).size === size ? newest : false), 300));
    },
    timeout,
  );
}

/** CUPS's spooled copy of job `jobId` (PreserveJobFiles): the bytes lp got. */
export function spooledJob(jobId) {
  const file = join(settings.spoolDir, `d${String(jobId).padStart(5, '0')}-001`);
  return { file, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
}

/** Counts of each note and coin making up `yen` (greedy, 10000 … 1). */
export function denominations(yen) {
  const counts = {};
  let left = yen;
  for (const value of [10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1]) {
    counts[value] = Math.floor(left / value);
    left -= counts[value] * value;
  }
  return counts;
}
