import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { App } from './App';
import { bytesOfBase64 } from './base64';
import { apiCalls, error, lastBody, loginAs, mockBackend, type Routes } from './testUtil';

async function start(role: string, routes: Routes, locale: 'ja' | 'en' = 'ja', options: Parameters<typeof mockBackend>[1] = {}) {
  const calls = mockBackend({ 'POST /counter/v1/login': loginAs('who', role), ...routes }, options);
  render(<App initialLocale={locale} />);
  fireEvent.change(await screen.findByTestId('login-user'), { target: { value: 'who' } });
  fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'pw' } });
  fireEvent.change(screen.getByTestId('login-totp'), { target: { value: '123456' } });
  fireEvent.click(screen.getByTestId('login-submit'));
  await screen.findByTestId('session-staff');
  return calls;
}

describe('daily close', () => {
  it('counts the till, shows the difference and seals the day with a supervisor, then returns to the login screen', async () => {
    const calls = await start('clerk', {
      'GET /counter/v1/days/2026-05-07': [200, { day: '2026-05-07', expected: { cash_yen: 12300, cashless_yen: 900, exempt: 1, issuances: 40, voids: 1 } }],
      'POST /counter/v1/login': [loginAs('tanaka', 'clerk'), loginAs('boss', 'supervisor')],
      'POST /counter/v1/days/2026-05-07/close': [200, { day: '2026-05-07', counted_cash_yen: 12000, difference_yen: -300, audit_head: 'abc123' }],
      'POST /counter/v1/logout': [204, null],
    });
    fireEvent.click(screen.getByTestId('nav-close'));
    const first = await screen.findByTestId('denom-10000');
    await waitFor(() => expect(document.activeElement).toBe(first));
    expect(screen.getByTestId('close-expected').textContent).toBe('12,300円');
    expect(screen.getByTestId('close-counted').textContent).toBe('0円');
    fireEvent.change(first, { target: { value: '1' } });
    fireEvent.change(screen.getByTestId('denom-1000'), { target: { value: '2' } });
    expect(screen.getByTestId('close-counted').textContent).toBe('12,000円');
    expect(screen.getByTestId('close-difference').textContent).toBe('−300円');
    fireEvent.change(screen.getByTestId('denom-100'), { target: { value: '3' } });
    expect(screen.getByTestId('close-difference').textContent).toBe('0円');
    fireEvent.change(screen.getByTestId('denom-100'), { target: { value: 'x' } });
    expect(screen.getByTestId('close-difference').textContent).toBe('—');
    fireEvent.change(screen.getByTestId('denom-100'), { target: { value: '' } });

    fireEvent.change(screen.getByTestId('approve-user'), { target: { value: 'boss' } });
    fireEvent.change(screen.getByTestId('approve-password'), { target: { value: 'pw' } });
    fireEvent.change(screen.getByTestId('approve-totp'), { target: { value: '999999' } });
    fireEvent.click(screen.getByTestId('close-submit'));

    const sealed = await screen.findByTestId('close-sealed');
    expect(sealed.textContent).toContain('2026-05-07 を締めました。');
    expect(sealed.textContent).toContain('差額 −300円');
    expect(screen.getByTestId('login-form')).toBeDefined();
    expect(screen.queryByTestId('session-staff')).toBeNull();
    expect(lastBody(calls, 'POST', '/counter/v1/days/2026-05-07/close')).toEqual({ counted_cash_yen: 12000 });
    expect(lastBody(calls, 'POST', '/counter/v1/login')).toEqual({ login: 'boss', password: 'pw', totp: '999999' });
    expect(apiCalls(calls).slice(-2)).toEqual(['POST /counter/v1/days/2026-05-07/close', 'POST /counter/v1/logout']);
  });

  it('refuses a sign-off by someone who is not a supervisor', async () => {
    const calls = await start('clerk', {
      'GET /counter/v1/days/2026-05-07': [200, { day: '2026-05-07', expected: { cash_yen: 0 } }],
    });
    fireEvent.click(screen.getByTestId('nav-close'));
    fireEvent.change(await screen.findByTestId('approve-user'), { target: { value: 'who' } });
    fireEvent.change(screen.getByTestId('approve-password'), { target: { value: 'pw' } });
    fireEvent.change(screen.getByTestId('approve-totp'), { target: { value: '999999' } });
    fireEvent.click(screen.getByTestId('close-submit'));
    expect((await screen.findByTestId('approve-error')).textContent).toBe('監督者のアカウントではありません。');
    expect(apiCalls(calls)).not.toContain('POST /counter/v1/days/2026-05-07/close');
  });

  it('says when the day is already closed', async () => {
    await start('supervisor', {
      'GET /counter/v1/days/2026-05-07': [200, { day: '2026-05-07', expected: { cash_yen: 0 } }],
      'POST /counter/v1/login': [loginAs('who', 'supervisor')],
      'POST /counter/v1/days/2026-05-07/close': [409, error('day_closed')],
    });
    fireEvent.click(screen.getByTestId('nav-close'));
    fireEvent.change(await screen.findByTestId('approve-user'), { target: { value: 'who' } });
    fireEvent.change(screen.getByTestId('approve-password'), { target: { value: 'pw' } });
    fireEvent.change(screen.getByTestId('approve-totp'), { target: { value: '999999' } });
    fireEvent.click(screen.getByTestId('close-submit'));
    expect((await screen.findByTestId('approve-error')).textContent).toBe('この日はすでに締められています。');
  });
});

const REPORT = {
  day: '2026-05-07',
  by_kind: { juminhyo: 5, inkan: 2 },
  by_channel: { counter: 4, kiosk: 3 },
  by_hour: { '09': 3, '23': 1 },
  by_staff: { tanaka: 4 },
  copies: 8,
  voids: [{ issuance_id: 'I-9', staff: 'boss', reason: '誤交付', at: '2026-05-07T10:00:00+09:00' }],
  overrides: [],
  kiosk_failures: [{ request_id: 'k1', outcome: 'paper_jam' }],
  kiosk_without_outcome: [],
  access_anomalies: { late_night: [{ staff: 'tanaka', action: 'staff.login', at: '2026-05-07T23:10:00+09:00' }], many_lookups: [], lookups_without_issuance: [], denied: [] },
};

/** An issuance as GET /issuances answers it: two copies, at the counter. */
const FOUND = {
  issuance_id: 'I-9',
  channel: 'counter',
  point: '本庁1/P001',
  kind: 'juminhyo',
  subject_id: '00000000019',
  staff: 'tanaka',
  issued_at: '2026-05-07T01:05:00Z',
  fee_yen: 600,
  receipt_no: '20260507-本庁1-0003',
  issue_numbers: ['20260507 見本市 本庁1 P001 004', '20260507 見本市 本庁1 P001 005'],
  voided: false,
};

describe('supervisor report', () => {
  afterEach(() => vi.restoreAllMocks());

  it('shows the charts, the lists, the audit status and exports CSV and PDF', async () => {
    const calls = await start('supervisor', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/reports/2026-05-07/pdf': [200, { filename: 'kofu-report-2026-05-07.pdf', pdf_base64: 'JVBERi0xLjcgcmVwb3J0', sha256: 'x', pages: 1 }],
      'GET /counter/v1/reports/2026-05-06': [200, { ...REPORT, day: '2026-05-06', by_kind: { fuhyo: 1 } }],
      'GET /counter/v1/days/2026-05-07': [200, { day: '2026-05-07', expected: { cash_yen: 2100, cashless_yen: 300, exempt: 0, issuances: 7, voids: 1 } }],
      'GET /counter/v1/days/2026-05-06': [200, { day: '2026-05-06', expected: { cash_yen: 300 } }],
      'GET /counter/v1/audit': [200, { entries: 120, rows: 300, head: 'ffee', problems: [] }],
      'GET /counter/v1/issuances': [200, { issuances: [FOUND] }],
      'POST /counter/v1/issuances/I-9/voids': [200, { issuance_id: 'I-9', voided: true }],
    });
    fireEvent.click(screen.getByTestId('nav-report'));
    const kind = await screen.findByTestId('chart-kind');
    expect((screen.getByTestId('report-day') as HTMLInputElement).value).toBe('2026-05-07');
    const bars = kind.querySelectorAll('g.chart__bar');
    expect([...bars].map((bar) => `${bar.getAttribute('data-key')}=${bar.getAttribute('data-value')}`)).toEqual([
      'juminhyo=5',
      'kisai_jiko=0',
      'inkan=2',
      'koseki_zenbu=0',
      'koseki_kojin=0',
      'fuhyo=0',
      'shotoku_kazei=0',
    ]);
    fireEvent.click(bars[0] as Element);
    expect(within(kind).getByRole('status').textContent).toBe('住民票：5 件（71%）');
    expect(screen.getByTestId('chart-channel').querySelectorAll('g.chart__bar')).toHaveLength(2);
    expect(screen.getByTestId('chart-hour').querySelectorAll('g.chart__bar')).toHaveLength(24);
    expect(screen.getByTestId('report-voids').textContent).toContain('誤交付');
    expect(screen.getByTestId('report-kiosk-failures').textContent).toContain('paper_jam');
    expect(screen.getByTestId('report-anomalies').textContent).toContain('staff.login');
    expect((await screen.findByTestId('report-fees')).textContent).toContain('2,100円');

    fireEvent.click(screen.getByTestId('audit-verify'));
    await waitFor(() => expect(screen.getByTestId('audit-status').textContent).toContain('監査ログは正常です'));
    expect(screen.getByTestId('audit-status').textContent).toContain('監査エントリ数120');
    expect(screen.getByTestId('audit-status').textContent).not.toMatch(/失敗|不一致|改ざんを検出|broken|mismatch|fail|中|…/i);

    // Both exports are handed to the shell, which saves them (the web view cannot download).
    const saves = () => calls.filter((call) => call.command === 'save_export');
    fireEvent.click(screen.getByTestId('export-csv'));
    await waitFor(() => expect(screen.getByTestId('export-saved').textContent).toBe('保存しました：/home/clerk/Downloads/kofu-report-2026-05-07.csv'));
    expect(saves()).toHaveLength(1);
    expect(saves()[0]?.args.filename).toBe('kofu-report-2026-05-07.csv');
    const csv = new TextDecoder().decode(bytesOfBase64(String(saves()[0]?.args.contentBase64)));
    expect(csv).toContain('by_kind,juminhyo,5');

    // The PDF comes from the server's rendering core, in the screen's language.
    fireEvent.click(screen.getByTestId('export-pdf'));
    await waitFor(() => expect(screen.getByTestId('export-saved').textContent).toBe('保存しました：/home/clerk/Downloads/kofu-report-2026-05-07.pdf'));
    expect(apiCalls(calls)).toContain('GET /counter/v1/reports/2026-05-07/pdf?lang=ja');
    expect(saves()).toHaveLength(2);
    expect(saves()[1]?.args).toEqual({ filename: 'kofu-report-2026-05-07.pdf', contentBase64: 'JVBERi0xLjcgcmVwb3J0' });
    expect(screen.queryByTestId('export-error')).toBeNull();

    // The void starts from the number on the paper, never from the internal ID.
    fireEvent.change(screen.getByTestId('find-number'), { target: { value: FOUND.issue_numbers[0] } });
    fireEvent.click(screen.getByTestId('find-submit'));
    fireEvent.click(within(await screen.findByTestId('found-issuance')).getByTestId('found-choose'));
    fireEvent.change(screen.getByTestId('void-reason'), { target: { value: '二重交付' } });
    fireEvent.click(screen.getByTestId('void-submit'));
    expect((await screen.findByTestId('void-result')).textContent).toBe(`${FOUND.issue_numbers.join(' / ')} を取消しました。`);
    expect(lastBody(calls, 'POST', '/counter/v1/issuances/I-9/voids')).toEqual({ reason: '二重交付' });

    fireEvent.change(screen.getByTestId('report-day'), { target: { value: '2026-05-06' } });
    await waitFor(() =>
      expect(screen.getByTestId('chart-kind').querySelector('g[data-key="fuhyo"]')?.getAttribute('data-value')).toBe('1'),
    );
  });

  it('says why an export could not be saved', async () => {
    await start('supervisor', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/reports/2026-05-07/pdf': [200, { filename: 'kofu-report-2026-05-07.pdf', pdf_base64: 'JVBERi0x', sha256: 'x', pages: 1 }],
    }, 'en', {
      save: () => {
        throw { code: 'io_error', message: 'creating /home/clerk/Downloads: No space left on device' };
      },
    });
    fireEvent.click(screen.getByTestId('nav-report'));
    await screen.findByTestId('chart-kind');
    fireEvent.click(screen.getByTestId('export-pdf'));
    expect((await screen.findByTestId('export-error')).textContent).toContain('No space left on device');
    expect(screen.queryByTestId('export-saved')).toBeNull();
    expect((screen.getByTestId('export-pdf') as HTMLButtonElement).disabled).toBe(false);
  });

  it('lists the copies that failed to print, headed in the screen language, and exports them', async () => {
    const failure = { issuance_id: 'I-7', copy: 2, issue_number: '20260507 見本市 本庁1 P001 007', staff: 'tanaka', detail: 'paper jam', at: '2026-05-07T11:00:00+09:00' };
    const calls = await start('supervisor', { 'GET /counter/v1/reports/2026-05-07': [200, { ...REPORT, print_failures: [failure] }] });
    fireEvent.click(screen.getByTestId('nav-report'));
    const table = await screen.findByTestId('report-print-failures');
    expect(table.querySelector('caption')?.textContent).toBe('印刷に失敗した証明書');
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['交付ID', '部', '発行番号', '職員', '内容', '日時']);
    const cells = [...table.querySelectorAll('tbody td')].map((td) => td.textContent);
    expect(cells.slice(0, 5)).toEqual(['I-7', '2', '20260507 見本市 本庁1 P001 007', 'tanaka', 'paper jam']);

    fireEvent.click(screen.getByTestId('export-csv'));
    await waitFor(() => expect(calls.some((call) => call.command === 'save_export')).toBe(true));
    const saved = calls.find((call) => call.command === 'save_export');
    const csv = new TextDecoder().decode(bytesOfBase64(String(saved?.args.contentBase64)));
    expect(csv).toContain('print_failures,issuance_id,copy,issue_number,staff,detail,at');
    expect(csv).toContain('print_failures,I-7,2,20260507 見本市 本庁1 P001 007,tanaka,paper jam,');
  });

  it('heads the print failures in English, and says when there are none', async () => {
    const failure = { issuance_id: 'I-7', copy: 1, issue_number: null, staff: 'tanaka', detail: 'offline', at: '2026-05-07T11:00:00+09:00' };
    await start(
      'supervisor',
      {
        'GET /counter/v1/reports/2026-05-07': [200, { ...REPORT, print_failures: [failure] }],
        'GET /counter/v1/reports/2026-05-06': [200, { ...REPORT, day: '2026-05-06' }],
      },
      'en',
    );
    fireEvent.click(screen.getByTestId('nav-report'));
    const table = await screen.findByTestId('report-print-failures');
    expect(table.querySelector('caption')?.textContent).toBe('Certificates that failed to print');
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['Issuance ID', 'Copy', 'Issue number', 'Staff', 'Detail', 'At']);
    fireEvent.change(screen.getByTestId('report-day'), { target: { value: '2026-05-06' } });
    await waitFor(() => expect(screen.getByTestId('report-print-failures').textContent).toBe('Certificates that failed to printNone'));
  });

  it('shows a broken audit chain', async () => {
    const calls = await start('admin', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/audit': [200, { entries: 20, rows: 9, head: 'ab', problems: [{ problem: 'row_altered', seq: 17, key: 'fees/RC-1' }] }],
    }, 'en');
    fireEvent.click(screen.getByTestId('audit-verify'));
    await waitFor(() => expect(screen.getByTestId('audit-status').textContent).toContain('The audit log is NOT intact (1 problems)'));
    expect(screen.getByTestId('audit-status').textContent).toContain('row_altered');
    expect(screen.getByTestId('audit-status').textContent).toContain('fees/RC-1');
    expect(screen.queryByTestId('find-number')).toBeNull();
    // An administrator may not count cash: the report does not ask for the day's money.
    expect(apiCalls(calls).some((call) => call.includes('/counter/v1/days/'))).toBe(false);
  });
});

describe('voiding an issuance', () => {
  /** The supervisor on the report screen, with the day's report and `routes`. */
  async function openVoid(routes: Routes, locale: 'ja' | 'en' = 'ja') {
    const calls = await start('supervisor', { 'GET /counter/v1/reports/2026-05-07': [200, REPORT], ...routes }, locale);
    fireEvent.click(screen.getByTestId('nav-report'));
    await screen.findByTestId('chart-kind');
    return calls;
  }
  const finds = (calls: Parameters<typeof apiCalls>[0]) => apiCalls(calls).filter((call) => call.startsWith('GET /counter/v1/issuances'));
  /** Types `text` and presses Enter in the field (the form's implicit submission). */
  const search = (text: string) => {
    const field = screen.getByTestId('find-number') as HTMLInputElement;
    fireEvent.change(field, { target: { value: text } });
    fireEvent.submit(field.form as HTMLFormElement);
  };

  it('finds by the 発行番号 on the paper (sent URL-encoded as number) and shows what was issued', async () => {
    const number = FOUND.issue_numbers[1] ?? '';
    const calls = await openVoid({ 'GET /counter/v1/issuances': [200, { issuances: [FOUND] }] });
    expect(screen.queryByTestId('void-id')).toBeNull();
    search(`  ${number} `);
    const row = await screen.findByTestId('found-issuance');
    expect(finds(calls)).toEqual([`GET /counter/v1/issuances?number=${encodeURIComponent(number)}`]);
    const cells = [...row.querySelectorAll('td')].map((td) => td.textContent);
    expect(cells[0]).toContain('20260507 見本市 本庁1 P001 004');
    expect(cells[0]).toContain('20260507 見本市 本庁1 P001 005');
    expect(within(row).getByTestId('found-id').textContent).toBe('交付ID I-9');
    expect(cells.slice(1, 7)).toEqual(['住民票', '00000000019', 'tanaka本庁1/P001', '2026-05-07 10:05', '600円', '20260507-本庁1-0003']);
    expect(within(row).queryByTestId('found-voided')).toBeNull();
    // Nothing to void until a row is chosen.
    expect(screen.queryByTestId('void-reason')).toBeNull();
    expect(screen.queryByTestId('void-submit')).toBeNull();
  });

  it('tries the text as a receipt number when no 発行番号 matches', async () => {
    const receipt = FOUND.receipt_no;
    const calls = await openVoid({
      'GET /counter/v1/issuances': (_body, path) => [200, { issuances: path.includes('receipt=') ? [FOUND] : [] }],
    });
    search(receipt);
    await screen.findByTestId('found-issuance');
    expect(finds(calls)).toEqual([
      `GET /counter/v1/issuances?number=${encodeURIComponent(receipt)}`,
      `GET /counter/v1/issuances?receipt=${encodeURIComponent(receipt)}`,
    ]);
    expect(screen.queryByTestId('find-message')).toBeNull();
  });

  it('says so in words when nothing is found, and asks for a number before searching', async () => {
    const calls = await openVoid({ 'GET /counter/v1/issuances': [200, { issuances: [] }] }, 'en');
    fireEvent.click(screen.getByTestId('find-submit'));
    expect((await screen.findByTestId('find-message')).textContent).toBe('Enter an issue number or a receipt number.');
    expect(finds(calls)).toEqual([]);

    search('20260507 見本市 本庁1 P001 999');
    await waitFor(() => expect(screen.getByTestId('find-message').textContent).toBe('No issuance matches “20260507 見本市 本庁1 P001 999”.'));
    expect(finds(calls)).toHaveLength(2);
    expect(screen.queryByTestId('found-issuance')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: '日本語' }));
    expect(screen.getByTestId('find-message').textContent).toBe('「20260507 見本市 本庁1 P001 999」に当たる交付は見つかりませんでした。');
  });

  it('shows the server refusal of a search', async () => {
    await openVoid({ 'GET /counter/v1/issuances': [400, error('invalid_request')] });
    search('x');
    expect((await screen.findByTestId('find-message')).textContent).toBe('入力内容に誤りがあります。');
  });

  it('does not offer to void an issuance voided already', async () => {
    const calls = await openVoid({ 'GET /counter/v1/issuances': [200, { issuances: [{ ...FOUND, voided: true }] }] }, 'en');
    search(FOUND.issue_numbers[0] ?? '');
    const row = await screen.findByTestId('found-issuance');
    expect(within(row).getByTestId('found-voided').textContent).toBe('Voided');
    expect(within(row).queryByTestId('found-choose')).toBeNull();
    expect(screen.queryByTestId('void-reason')).toBeNull();
    expect(screen.queryByTestId('void-submit')).toBeNull();
    expect(apiCalls(calls).some((call) => call.endsWith('/voids'))).toBe(false);
  });

  it('voids the chosen issuance with its reason and shows it voided', async () => {
    const other = { ...FOUND, issuance_id: 'I-10', issue_numbers: ['20260507 見本市 本庁1 P001 006'], receipt_no: null, voided: false };
    const calls = await openVoid({
      'GET /counter/v1/issuances': [200, { issuances: [FOUND, other] }],
      'POST /counter/v1/issuances/I-9/voids': [200, { issuance_id: 'I-9', voided: true }],
    });
    search(FOUND.issue_numbers[0] ?? '');
    await screen.findAllByTestId('found-issuance');
    const [first, second] = screen.getAllByTestId('found-issuance');
    expect(within(second as HTMLElement).getAllByRole('cell')[6]?.textContent).toBe('—');
    fireEvent.click(within(first as HTMLElement).getByTestId('found-choose'));
    const reason = screen.getByTestId('void-reason');
    await waitFor(() => expect(document.activeElement).toBe(reason));
    expect(screen.getByTestId('void-chosen').textContent).toBe(`取消する交付：住民票 ${FOUND.issue_numbers.join(' / ')}`);

    // A reason is required before anything is sent.
    fireEvent.click(screen.getByTestId('void-submit'));
    expect((await screen.findByTestId('void-result')).textContent).toBe('取消の理由を入力してください。');
    expect(apiCalls(calls)).not.toContain('POST /counter/v1/issuances/I-9/voids');

    const reports = () => apiCalls(calls).filter((call) => call === 'GET /counter/v1/reports/2026-05-07').length;
    const before = reports();
    fireEvent.change(reason, { target: { value: '記載誤り' } });
    fireEvent.submit(reason.closest('form') as HTMLFormElement);
    await waitFor(() => expect(screen.getByTestId('void-result').textContent).toBe(`${FOUND.issue_numbers.join(' / ')} を取消しました。`));
    expect(lastBody(calls, 'POST', '/counter/v1/issuances/I-9/voids')).toEqual({ reason: '記載誤り' });
    expect(apiCalls(calls).filter((call) => call.startsWith('POST /counter/v1/issuances/'))).toEqual(['POST /counter/v1/issuances/I-9/voids']);
    const rows = screen.getAllByTestId('found-issuance');
    expect(within(rows[0] as HTMLElement).getByTestId('found-voided').textContent).toBe('取消済み');
    expect(within(rows[0] as HTMLElement).queryByTestId('found-choose')).toBeNull();
    expect(within(rows[1] as HTMLElement).queryByTestId('found-voided')).toBeNull();
    expect(screen.queryByTestId('void-reason')).toBeNull();
    // The report reloads, its list of voids with it.
    await waitFor(() => expect(reports()).toBeGreaterThan(before));
  });

  it('shows a refused void and keeps the issuance chosen', async () => {
    await openVoid({
      'GET /counter/v1/issuances': [200, { issuances: [FOUND] }],
      'POST /counter/v1/issuances/I-9/voids': [409, error('day_closed')],
    });
    search(FOUND.issue_numbers[0] ?? '');
    fireEvent.click(within(await screen.findByTestId('found-issuance')).getByTestId('found-choose'));
    fireEvent.change(screen.getByTestId('void-reason'), { target: { value: '記載誤り' } });
    fireEvent.click(screen.getByTestId('void-submit'));
    expect((await screen.findByTestId('void-result')).textContent).toBe('この日はすでに締められています。');
    expect(screen.queryByTestId('found-voided')).toBeNull();
    expect((screen.getByTestId('void-reason') as HTMLInputElement).value).toBe('記載誤り');
  });
});

describe('staff admin', () => {
  const INVITATION = { login: 'sato', role: 'supervisor', enrolment_code: 'ABCD-EFGH-JKLM-NPQR', expires_at: '2026-05-10T00:30:00Z' };

  it('lists, adds without a password (showing the enrolment code once), unlocks and deactivates', async () => {
    const calls = await start('admin', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/staff': [
        [200, { staff: [{ login: 'tanaka', role: 'clerk', active: true, locked: true, failed_attempts: 5, pending: false }] }],
        [200, { staff: [{ login: 'tanaka', role: 'clerk', active: true, locked: true, failed_attempts: 5, pending: false }, { login: 'sato', role: 'supervisor', active: true, locked: false, failed_attempts: 0, pending: true }] }],
      ],
      'POST /counter/v1/staff': [201, INVITATION],
      'POST /counter/v1/staff/tanaka/unlock': [204, null],
      'POST /counter/v1/staff/tanaka/deactivate': [204, null],
    });
    fireEvent.click(screen.getByTestId('nav-admin'));
    expect((await screen.findAllByTestId('staff-row'))[0]?.textContent).toContain('ロック中');
    // No password is asked for: the person sets it at first login.
    expect(screen.queryByTestId('enrol-password')).toBeNull();
    expect(screen.queryByTestId('enrol-password2')).toBeNull();

    fireEvent.change(screen.getByTestId('enrol-login'), { target: { value: 'Sato San' } });
    fireEvent.click(screen.getByTestId('enrol-submit'));
    expect((await screen.findByTestId('admin-message')).textContent).toBe('職員IDは英小文字・数字・. _ - で入力してください。');
    expect(apiCalls(calls)).not.toContain('POST /counter/v1/staff');

    fireEvent.change(screen.getByTestId('enrol-login'), { target: { value: 'sato' } });
    fireEvent.change(screen.getByTestId('enrol-role'), { target: { value: 'supervisor' } });
    fireEvent.click(screen.getByTestId('enrol-submit'));
    expect((await screen.findByTestId('staff-enrolment-code')).textContent).toBe('ABCD-EFGH-JKLM-NPQR');
    expect(lastBody(calls, 'POST', '/counter/v1/staff')).toEqual({ login: 'sato', role: 'supervisor' });
    const invitation = screen.getByTestId('staff-invitation');
    expect(invitation.textContent).toContain('sato（監督者）を追加しました。');
    expect(invitation.textContent).toContain('このコードを sato さん本人に渡してください。');
    expect(screen.getByTestId('staff-enrolment-expires').textContent).toBe('有効期限：2026-05-10 09:30（一度だけ使えます）');
    expect((screen.getByTestId('enrol-login') as HTMLInputElement).value).toBe('');
    // The list is reloaded: the new account awaits its first login.
    await waitFor(() => expect(screen.getAllByTestId('staff-row')).toHaveLength(2));
    expect(within(screen.getAllByTestId('staff-row')[1] as HTMLElement).getByTestId('staff-state').textContent).toBe('登録待ち');

    fireEvent.click(screen.getByTestId('unlock-tanaka'));
    await waitFor(() => expect(screen.getByTestId('admin-message').textContent).toBe('tanaka のロックを解除しました。'));

    fireEvent.click(screen.getByTestId('deactivate-tanaka'));
    fireEvent.change(await screen.findByTestId('deactivate-reason'), { target: { value: '退職' } });
    fireEvent.click(screen.getByTestId('deactivate-submit'));
    await waitFor(() => expect(screen.getByTestId('admin-message').textContent).toBe('tanaka を停止しました。'));
    expect(lastBody(calls, 'POST', '/counter/v1/staff/tanaka/deactivate')).toEqual({ reason: '退職' });
  });

  it('shows the enrolment code in English too, and a refusal in words', async () => {
    const calls = await start('admin', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/staff': [200, { staff: [] }],
      'POST /counter/v1/staff': [[409, error('duplicate_login')], [201, INVITATION]],
    }, 'en');
    fireEvent.click(screen.getByTestId('nav-admin'));
    fireEvent.change(await screen.findByTestId('enrol-login'), { target: { value: 'sato' } });
    fireEvent.click(screen.getByTestId('enrol-submit'));
    expect((await screen.findByTestId('admin-message')).textContent).toBe('That staff ID is already taken.');
    expect(screen.queryByTestId('staff-enrolment-code')).toBeNull();
    fireEvent.click(screen.getByTestId('enrol-submit'));
    expect((await screen.findByTestId('staff-enrolment-code')).textContent).toBe('ABCD-EFGH-JKLM-NPQR');
    expect(screen.queryByTestId('admin-message')).toBeNull();
    expect(screen.getByTestId('staff-invitation').textContent).toContain('Hand this code to sato in person.');
    expect(lastBody(calls, 'POST', '/counter/v1/staff')).toEqual({ login: 'sato', role: 'clerk' });
  });

  it.each([
    [{ active: true, locked: false, pending: false }, '有効', 'Active'],
    [{ active: true, locked: false, pending: true }, '登録待ち', 'Awaiting first login'],
    [{ active: true, locked: true, pending: false }, 'ロック中', 'Locked'],
    [{ active: false, locked: false, pending: true }, '停止', 'Deactivated'],
    [{ active: true }, '有効', 'Active'],
  ])('shows the account %j as %s / %s', async (flags, ja, en) => {
    await start('admin', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/staff': [200, { staff: [{ login: 'sato', role: 'clerk', ...flags }] }],
    });
    fireEvent.click(screen.getByTestId('nav-admin'));
    const state = await screen.findByTestId('staff-state');
    expect(state.textContent).toBe(ja);
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(screen.getByTestId('staff-state').textContent).toBe(en);
  });
});

describe('town settings', () => {
  const FEES = { counter: { juminhyo: 300, inkan: 300 }, kiosk: { juminhyo: 200 } };
  const settings = (feesRevision: number, juminhyo: number) => ({
    town: [
      { setting: 'fees', value: { ...FEES, counter: { ...FEES.counter, juminhyo } }, revision: feesRevision, changed_by: feesRevision ? 'kanri' : null, changed_at: null },
      { setting: 'kiosk_hours', value: { kiosk: { open: '06:30', close: '23:00' }, koseki: { weekday: ['09:00', '17:00'], holiday: null } }, revision: 0, changed_by: null, changed_at: null },
      { setting: 'certifier', value: { mayor: '見本 太郎', deputies: [] }, revision: 0, changed_by: null, changed_at: null },
      { setting: 'seal', value: null, revision: 0, changed_by: null, changed_at: null },
    ],
    terminals: [],
    history: feesRevision ? [{ setting: 'fees', revision: feesRevision, reason: '条例改正', staff: 'kanri', at: '2026-05-07T09:00:00+09:00' }] : [],
  });

  it('saves a fee with its revision and reason, and reloads on a conflict', async () => {
    const calls = await start('admin', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/staff': [200, { staff: [] }],
      'GET /counter/v1/admin/settings': [[200, settings(0, 300)], [200, settings(1, 350)], [200, settings(2, 400)]],
      'POST /counter/v1/admin/settings/fees': [
        [200, { setting: 'fees', value: {}, revision: 1, changed_by: 'who', changed_at: null }],
        [409, error('setting_conflict')],
      ],
    });
    fireEvent.click(screen.getByTestId('nav-admin'));
    fireEvent.click(screen.getByTestId('admin-tab-settings'));
    const fee = (await screen.findByTestId('fee-counter-juminhyo')) as HTMLInputElement;
    expect(fee.value).toBe('300');
    expect(screen.getByTestId('setting-fees').textContent).toContain('住民記録システムからの値');

    // A bad fee is named before anything is sent; a missing reason too.
    fireEvent.change(fee, { target: { value: '3oo' } });
    fireEvent.click(screen.getByTestId('save-fees'));
    expect((await screen.findByTestId('settings-message')).textContent).toBe('手数料は 0〜10,000 円の整数で入力してください。');
    expect(document.activeElement).toBe(fee);
    fireEvent.change(fee, { target: { value: '350' } });
    fireEvent.click(screen.getByTestId('save-fees'));
    await waitFor(() => expect(screen.getByTestId('settings-message').textContent).toBe('変更の理由を入力してください。'));
    expect(apiCalls(calls)).not.toContain('POST /counter/v1/admin/settings/fees');

    fireEvent.change(screen.getByTestId('reason-fees'), { target: { value: '条例改正' } });
    fireEvent.click(screen.getByTestId('save-fees'));
    await waitFor(() => expect(screen.getByTestId('settings-message').textContent).toBe('手数料を保存しました（版 1）。'));
    expect(lastBody(calls, 'POST', '/counter/v1/admin/settings/fees')).toEqual({
      expected_revision: 0,
      value: { counter: { juminhyo: 350, inkan: 300 }, kiosk: { juminhyo: 200 } },
      reason: '条例改正',
    });
    await waitFor(() => expect((screen.getByTestId('fee-counter-juminhyo') as HTMLInputElement).value).toBe('350'));
    expect(screen.getAllByTestId('settings-history-row')[0]?.textContent).toContain('条例改正');

    // Someone else saved revision 2 meanwhile: the conflict is explained and the form reloaded.
    fireEvent.change(screen.getByTestId('fee-counter-juminhyo'), { target: { value: '360' } });
    fireEvent.change(screen.getByTestId('reason-fees'), { target: { value: '再改正' } });
    fireEvent.click(screen.getByTestId('save-fees'));
    await waitFor(() => expect(screen.getByTestId('settings-message').textContent).toContain('他の職員が先にこの設定を変更しました'));
    expect((lastBody(calls, 'POST', '/counter/v1/admin/settings/fees') as { expected_revision: number }).expected_revision).toBe(1);
    await waitFor(() => expect((screen.getByTestId('fee-counter-juminhyo') as HTMLInputElement).value).toBe('400'));
  });

  it('registers a terminal with its printers and shows the server refusal with its detail', async () => {
    const calls = await start('admin', {
      'GET /counter/v1/reports/2026-05-07': [200, REPORT],
      'GET /counter/v1/staff': [200, { staff: [] }],
      'GET /counter/v1/admin/settings': [200, settings(0, 300)],
      [`POST /counter/v1/admin/settings/${encodeURIComponent('terminal:本庁2')}`]: [400, error('invalid_setting', 'P001: 端末 本庁1 のプリンタです')],
    }, 'en');
    fireEvent.click(screen.getByTestId('nav-admin'));
    fireEvent.click(screen.getByTestId('admin-tab-settings'));
    fireEvent.click(await screen.findByTestId('terminal-add'));
    fireEvent.change(screen.getByTestId('terminal-name'), { target: { value: '本庁2' } });
    fireEvent.change(screen.getByTestId('terminal-location'), { target: { value: '2番窓口' } });
    fireEvent.change(screen.getByTestId('printer-code-0'), { target: { value: 'P001' } });
    fireEvent.change(screen.getByTestId('reason-terminal'), { target: { value: 'new desk' } });
    fireEvent.click(screen.getByTestId('save-terminal'));
    await waitFor(() => expect(screen.getByTestId('settings-message').textContent).toBe('The setting is not saved (nothing changed). P001: 端末 本庁1 のプリンタです'));
    expect(lastBody(calls, 'POST', `/counter/v1/admin/settings/${encodeURIComponent('terminal:本庁2')}`)).toEqual({
      expected_revision: 0,
      value: { location: '2番窓口', active: true, printers: [{ code: 'P001', description: '', active: true }] },
      reason: 'new desk',
    });
  });
});

describe('daily close hand-back', () => {
  it('ends the approver session and hands the terminal back when the approver is not a supervisor', async () => {
    const calls = await start('clerk', {
      'GET /counter/v1/days/2026-05-07': [200, { day: '2026-05-07', expected: { cash_yen: 0 } }],
      'POST /counter/v1/login': [loginAs('who', 'clerk'), loginAs('other', 'clerk')],
      'POST /counter/v1/logout': [204, null],
    });
    fireEvent.click(screen.getByTestId('nav-close'));
    fireEvent.change(await screen.findByTestId('approve-user'), { target: { value: 'other' } });
    fireEvent.change(screen.getByTestId('approve-password'), { target: { value: 'pw' } });
    fireEvent.change(screen.getByTestId('approve-totp'), { target: { value: '999999' } });
    fireEvent.click(screen.getByTestId('close-submit'));
    const lock = await screen.findByTestId('lock-screen');
    expect(within(lock).getByTestId('lock-message').textContent).toBe('監督者のアカウントではありません。');
    expect((within(lock).getByTestId('login-user') as HTMLInputElement).value).toBe('who');
    expect(apiCalls(calls)).toContain('POST /counter/v1/logout');
    expect(apiCalls(calls)).not.toContain('POST /counter/v1/days/2026-05-07/close');
  });
});
