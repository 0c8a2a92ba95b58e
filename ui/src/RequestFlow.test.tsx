import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { App } from './App';
import type { CounterRequest } from './api';
import { type Call, error, lastBody, loginAs, mockBackend, type Routes } from './testUtil';

// pdf.js does not run in jsdom: the preview draws one canvas per document instead.
vi.mock('./pdf', () => ({
  renderPdfPages: vi.fn(async (_pdf: string, container: HTMLElement) => {
    const canvas = document.createElement('canvas');
    canvas.setAttribute('data-rendered', 'yes');
    container.appendChild(canvas);
    return 1;
  }),
}));

const YAMADA = {
  resident_id: 'R0001',
  household_id: 'H01',
  name: '山田 太郎',
  reading: 'やまだ たろう',
  birth_date: '1980-04-01',
  address: '見本市本町1-1',
  flags: { support_measure: false, suppression: false, moved_out: false, deceased: false },
};
const SATO = { ...YAMADA, resident_id: 'R0002', name: '佐藤 花子', reading: 'さとう はなこ', flags: { support_measure: true, moved_out: true } };

const doc = (n: number) => ({ copy: n, issue_number: `20260507 見本市 本庁1 P001 00${n}`, pages: 1, sha256: `sha-${n}`, pdf_base64: 'JVBERi0=' });

const ISSUED = {
  issuance_id: 'I-1',
  receipt_no: 'RC-0001',
  fee_yen: 600,
  exemption: null,
  warnings: [{ code: 'suppression_warning', detail: '世帯に抑止の予定があります' }],
  replayed: false,
  documents: [doc(1), doc(2)],
};

function routes(extra: Routes = {}): Routes {
  return {
    'POST /counter/v1/login': loginAs('tanaka', 'clerk'),
    'GET /counter/v1/residents': [200, { residents: [YAMADA, SATO] }],
    'POST /counter/v1/previews': [200, { ...ISSUED, issuance_id: '', receipt_no: '', fee_yen: 0, documents: [{ ...doc(1), issue_number: '' }] }],
    'POST /counter/v1/issuances': [200, ISSUED],
    ...extra,
  };
}

async function start(extra: Routes = {}, locale: 'ja' | 'en' = 'ja', options: Parameters<typeof mockBackend>[1] = {}): Promise<Call[]> {
  const calls = mockBackend(routes(extra), options);
  render(<App initialLocale={locale} />);
  fireEvent.change(await screen.findByTestId('login-user'), { target: { value: 'tanaka' } });
  fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'pw' } });
  fireEvent.change(screen.getByTestId('login-totp'), { target: { value: '123456' } });
  fireEvent.click(screen.getByTestId('login-submit'));
  await screen.findByTestId('applicant-type');
  return calls;
}

async function applicantAndSearch(type = 'person', pick = 'R0001') {
  // The applicant, the identity and the search are one screen.
  expect(screen.getByTestId('search-name')).toBeDefined();
  fireEvent.change(screen.getByTestId('applicant-type'), { target: { value: type } });
  if (type === 'official') fireEvent.change(screen.getByTestId('applicant-office'), { target: { value: '見本県警察本部' } });
  fireEvent.change(screen.getByTestId('identity-photo'), { target: { value: 'driver_license' } });
  fireEvent.change(screen.getByTestId('search-name'), { target: { value: 'やまだ' } });
  fireEvent.click(screen.getByTestId('search-submit'));
  const rows = await screen.findAllByTestId('resident-row');
  const row = rows.find((r) => r.getAttribute('data-resident-id') === pick);
  if (!row) throw new Error('no row');
  fireEvent.keyDown(row, { key: 'Enter' });
  await screen.findByTestId('cert-kind');
}

/** The print outcomes reported, as `issuance: body`. */
function printOutcomes(calls: readonly Call[]): { readonly issuance: string; readonly body: unknown }[] {
  return calls.flatMap((call) => {
    const match = call.command === 'counter_call' && call.args.method === 'POST' ? /^\/counter\/v1\/issuances\/([^/]+)\/print-outcomes$/.exec(String(call.args.path)) : null;
    return match ? [{ issuance: decodeURIComponent(match[1] ?? ''), body: call.args.body }] : [];
  });
}

function issuanceBodies(calls: readonly Call[]): CounterRequest[] {
  return calls
    .filter((call) => call.command === 'counter_call' && call.args.path === '/counter/v1/issuances')
    .map((call) => call.args.body as CounterRequest);
}

describe('request flow', () => {
  it('goes from the applicant to a receipt, printing at once', async () => {
    const calls = await start();
    // Identity is checked before anyone is looked up.
    fireEvent.change(screen.getByTestId('search-name'), { target: { value: 'やまだ' } });
    fireEvent.click(screen.getByTestId('search-submit'));
    expect(screen.getByTestId('applicant-problem').textContent).toContain('本人確認書類');
    expect(calls.some((call) => String(call.args.path).startsWith('/counter/v1/residents'))).toBe(false);

    await applicantAndSearch();
    expect(calls.some((call) => call.args.path === '/counter/v1/residents?name=%E3%82%84%E3%81%BE%E3%81%A0')).toBe(true);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('cert-kind')));

    fireEvent.click(screen.getByTestId('opt-show_relationship'));
    fireEvent.change(screen.getByTestId('copies'), { target: { value: '2' } });
    fireEvent.click(screen.getByTestId('preview-button'));
    const preview = await screen.findByTestId('preview');
    await waitFor(() => expect(preview.querySelector('canvas[data-rendered="yes"]')).not.toBeNull());
    const previewBody = lastBody(calls, 'POST', '/counter/v1/previews') as CounterRequest;
    expect(previewBody.request_id).toBeUndefined();

    // Payment (and, if known, the cash tendered) before issuing.
    fireEvent.change(screen.getByTestId('pay-method'), { target: { value: 'cash' } });
    fireEvent.change(screen.getByTestId('cash-tendered'), { target: { value: '500' } });
    fireEvent.click(screen.getByTestId('issue-button'));

    const receipt = await screen.findByTestId('receipt');
    expect(screen.getByTestId('warnings').textContent).toContain('世帯に抑止の予定があります');
    const [body] = issuanceBodies(calls);
    expect(body?.request_id).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(body).toEqual({
      request_id: body?.request_id,
      applicant: { type: 'person' },
      identity: { photo: ['運転免許証'] },
      certificate: 'juminhyo',
      subject: { resident_id: 'R0001' },
      options: { household: 'self', show_relationship: true },
      copies: 2,
      terminal: '本庁1',
      printer: 'P001',
      payment: 'cash',
    });

    // Each copy is printed at once, with its own SHA-256, which print-status names.
    await waitFor(() => expect(screen.getByTestId('print-status').textContent).not.toMatch(/未印刷|印刷中/));
    const prints = calls.filter((call) => call.command === 'print_document');
    expect(prints.map((call) => call.args.sha256)).toEqual(['sha-1', 'sha-2']);
    expect(prints[0]?.args.pdfBase64).toBe('JVBERi0=');
    expect(prints[0]?.args.title).toBe('住民票の写し 20260507 見本市 本庁1 P001 001');
    expect(screen.getByTestId('print-status').textContent).toMatch(/印刷しました（counter-1・ジョブ job-\d+）\s*SHA-256 sha-1/);

    expect(screen.getByTestId('fee-total').textContent).toBe('合計 600円');
    expect(screen.getByTestId('change-due').textContent).toBe('100円 不足しています');
    fireEvent.change(screen.getByTestId('cash-tendered'), { target: { value: '1000' } });
    expect(screen.getByTestId('change-due').textContent).toBe('おつり 400円');

    expect(within(receipt).getByTestId('receipt-no').textContent).toBe('RC-0001');
    expect(within(receipt).getByTestId('receipt-total').textContent).toBe('600円');
    expect(receipt.textContent).toContain('住民票の写し');
    expect(receipt.textContent).toContain('20260507 見本市 本庁1 P001 001');
    expect(receipt.textContent).toContain('お預かり 1,000円・おつり 400円');

    fireEvent.click(screen.getByTestId('new-request'));
    expect(await screen.findByTestId('applicant-type')).toBeDefined();
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('applicant-type')));
    expect((screen.getByTestId('identity-photo') as HTMLSelectElement).value).toBe('');
  });

  it('issues several certificates, each with its own request_id, and sums the fees', async () => {
    const calls = await start({
      'POST /counter/v1/issuances': (body) => {
        const request = body as CounterRequest;
        return request.certificate === 'inkan'
          ? [200, { ...ISSUED, issuance_id: 'I-2', receipt_no: 'RC-0002', fee_yen: 300, warnings: [], documents: [doc(3)] }]
          : [200, { ...ISSUED, warnings: [] }];
      },
    });
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('cert-add'));
    fireEvent.change(screen.getByTestId('cert-kind'), { target: { value: 'inkan' } });
    expect(screen.queryByTestId('opt-household')).toBeNull();
    fireEvent.change(screen.getByTestId('pay-method'), { target: { value: 'cashless' } });
    expect(screen.queryByTestId('cash-tendered')).toBeNull();
    fireEvent.click(screen.getByTestId('issue-button'));
    const receipt = await screen.findByTestId('receipt');
    const bodies = issuanceBodies(calls);
    expect(bodies.map((b) => b.certificate)).toEqual(['juminhyo', 'inkan']);
    expect(new Set(bodies.map((b) => b.request_id)).size).toBe(2);
    expect(bodies.every((b) => b.payment === 'cashless')).toBe(true);
    expect(bodies[1]?.options).toEqual({});
    expect(screen.getByTestId('fee-total').textContent).toBe('合計 900円');
    expect(screen.queryByTestId('cash-tendered')).toBeNull();
    expect(within(receipt).getByTestId('receipt-no').textContent).toBe('RC-0001, RC-0002');
    expect(receipt.textContent).toContain('キャッシュレス');
    await waitFor(() => expect(calls.filter((call) => call.command === 'print_document')).toHaveLength(3));
  });

  it('shows the status flags of search hits as badges', async () => {
    await start();
    fireEvent.change(screen.getByTestId('identity-photo'), { target: { value: 'passport' } });
    fireEvent.change(screen.getByTestId('search-name'), { target: { value: 'sato' } });
    fireEvent.click(screen.getByTestId('search-submit'));
    const flags = await screen.findAllByTestId('resident-flags');
    expect(flags[0]?.textContent).toBe('—');
    expect(flags[1]?.textContent).toBe('支援措置転出');
    // The first hit has the focus; ArrowDown moves to the next.
    const rows = screen.getAllByTestId('resident-row');
    await waitFor(() => expect(document.activeElement).toBe(rows[0]));
    fireEvent.keyDown(rows[0] as HTMLElement, { key: 'ArrowDown' });
    await waitFor(() => expect(document.activeElement).toBe(rows[1]));
  });

  it('searches by a birth date typed in 和暦 and shows birth dates in 和暦', async () => {
    const calls = await start();
    fireEvent.change(screen.getByTestId('identity-photo'), { target: { value: 'passport' } });
    fireEvent.change(screen.getByTestId('search-birth'), { target: { value: ' S55.4.1 ' } });
    fireEvent.click(screen.getByTestId('search-submit'));
    const rows = await screen.findAllByTestId('resident-row');
    expect(rows[0]?.textContent).toContain('昭和55年4月1日');
    expect(rows[0]?.textContent).not.toContain('1980-04-01');
    const search = calls.find((call) => call.command === 'counter_call' && String(call.args.path).startsWith('/counter/v1/residents'));
    expect(String(search?.args.path)).toContain('birth_date=S55.4.1');
  });

  it('accepts two documents without a photo instead of a photo ID', async () => {
    const calls = await start();
    fireEvent.click(screen.getByTestId('identity-non-photo-health_insurance'));
    fireEvent.change(screen.getByTestId('search-name'), { target: { value: 'やまだ' } });
    fireEvent.click(screen.getByTestId('search-submit'));
    expect(screen.getByTestId('applicant-problem')).toBeDefined();
    fireEvent.click(screen.getByTestId('identity-non-photo-pension'));
    fireEvent.click(screen.getByTestId('search-submit'));
    fireEvent.click((await screen.findAllByTestId('resident-row'))[0] as HTMLElement);
    fireEvent.click(await screen.findByTestId('issue-button'));
    await screen.findByTestId('receipt');
    expect(issuanceBodies(calls)[0]?.identity).toEqual({ non_photo: ['健康保険の資格確認書', '年金手帳・基礎年金番号通知書'] });
  });

  it('shows a refusal in plain words, in the UI language', async () => {
    await start({ 'POST /counter/v1/issuances': [403, error('moved_out', '転出済みです')] }, 'en');
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('issue-button'));
    expect((await screen.findByTestId('refusal')).textContent).toBe('Cannot issue: The person has moved out (or notified a move-out).');
    expect(screen.queryByTestId('override-user')).toBeNull();
    expect(screen.queryByTestId('print-status')).toBeNull();
    expect(screen.queryByTestId('receipt')).toBeNull();
    fireEvent.click(screen.getByTestId('new-request'));
    expect(await screen.findByTestId('applicant-type')).toBeDefined();
  });

  it('shows a preview refusal, with the API message for an unknown code, and does not issue', async () => {
    await start({ 'POST /counter/v1/previews': [403, error('brand_new_reason', '新しい理由です')] });
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('preview-button'));
    expect((await screen.findByTestId('refusal')).textContent).toBe('交付できません： エラー：新しい理由です（brand_new_reason）');
    expect((screen.getByTestId('issue-button') as HTMLButtonElement).disabled).toBe(true);
    // Changing the request clears the verdict.
    fireEvent.change(screen.getByTestId('cert-kind'), { target: { value: 'kisai_jiko' } });
    expect(screen.queryByTestId('refusal')).toBeNull();
    expect((screen.getByTestId('issue-button') as HTMLButtonElement).disabled).toBe(false);
  });

  it('offers the options of the server matrix for each kind', async () => {
    await start();
    await applicantAndSearch();
    // 印鑑: 旧氏 (which the app once hid); 附票: no 本籍 (which the rules refuse).
    fireEvent.change(screen.getByTestId('cert-kind'), { target: { value: 'inkan' } });
    expect(screen.getByTestId('opt-show_former_surname')).toBeDefined();
    expect(screen.queryByTestId('opt-show_honseki')).toBeNull();
    fireEvent.change(screen.getByTestId('cert-kind'), { target: { value: 'fuhyo' } });
    expect(screen.queryByTestId('opt-show_honseki')).toBeNull();
    expect(screen.getByTestId('opt-omit_seal')).toBeDefined();
    fireEvent.change(screen.getByTestId('cert-kind'), { target: { value: 'kisai_jiko' } });
    expect(screen.getByTestId('opt-show_my_number')).toBeDefined();
  });

  it('follows the matrix the server answers, not a table of its own', async () => {
    await start({ 'GET /counter/v1/options': [200, { kinds: { juminhyo: ['show_honseki'] } }] });
    await applicantAndSearch();
    expect(screen.getByTestId('opt-show_honseki')).toBeDefined();
    expect(screen.queryByTestId('opt-show_relationship')).toBeNull();
    expect(screen.queryByTestId('opt-household')).toBeNull();
  });

  it('names to the clerk the person a support measure protects', async () => {
    const detail = 'support measure on a person shown on the certificate 保護 花子 (00000000108) since 2026-01-10';
    await start({
      'POST /counter/v1/previews': [403, { error: { code: 'support_measure', message: '支援措置', detail } }],
    });
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('preview-button'));
    expect((await screen.findByTestId('refusal-detail')).textContent).toBe(` （該当：${detail}）`);
  });

  it('names the protected person in the clerk language when the server says who', async () => {
    const person = { resident_id: '00000000108', name: '保護 花子', relation: 'household_member' };
    await start(
      { 'POST /counter/v1/previews': [403, { error: { code: 'support_measure', message: '支援措置', detail: 'support measure on …', person } }] },
      'en',
    );
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('preview-button'));
    expect((await screen.findByTestId('refusal-detail')).textContent).toBe(' (concerns a household member 保護 花子 (00000000108))');
  });

  it('lets the support officer override a support-measure stop found on issuing', async () => {
    const calls = await start({
      'POST /counter/v1/issuances': (body) =>
        (body as CounterRequest).override_reason ? [200, { ...ISSUED, warnings: [] }] : [403, error('support_measure', '支援措置')],
      'POST /counter/v1/login': [loginAs('tanaka', 'clerk'), loginAs('suzuki', 'support_officer'), loginAs('tanaka', 'clerk')],
      'POST /counter/v1/logout': [204, null],
    });
    await applicantAndSearch('person', 'R0002');
    fireEvent.change(screen.getByTestId('cash-tendered'), { target: { value: '1000' } });
    fireEvent.click(screen.getByTestId('issue-button'));
    expect((await screen.findByTestId('refusal')).textContent).toContain('支援措置（DV・ストーカー等の被害者保護）');

    fireEvent.change(screen.getByTestId('override-user'), { target: { value: 'suzuki' } });
    fireEvent.change(screen.getByTestId('override-password'), { target: { value: 'pw2' } });
    fireEvent.change(screen.getByTestId('override-totp'), { target: { value: '222222' } });
    fireEvent.click(screen.getByTestId('override-submit'));
    expect((await screen.findByTestId('override-error')).textContent).toBe('理由を記入してください。');
    fireEvent.change(screen.getByTestId('override-reason'), { target: { value: '本人が来庁し確認済み' } });
    fireEvent.click(screen.getByTestId('override-submit'));
    await screen.findByTestId('receipt');
    expect(screen.getByTestId('session-staff').textContent).toBe('suzuki（支援措置責任者）');
    expect(screen.getByTestId('change-due').textContent).toBe('おつり 400円');
    await waitFor(() => expect(calls.filter((call) => call.command === 'print_document')).toHaveLength(2));

    const bodies = issuanceBodies(calls);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]?.override_reason).toBe('本人が来庁し確認済み');
    expect(bodies[1]?.request_id).not.toBe(bodies[0]?.request_id);

    fireEvent.click(await screen.findByTestId('new-request'));
    // The terminal goes back to the clerk: the officer is logged out, the clerk logs in again.
    const lock = await screen.findByTestId('lock-screen');
    expect((within(lock).getByTestId('login-user') as HTMLInputElement).value).toBe('tanaka');
    expect(calls.some((call) => call.args.path === '/counter/v1/logout')).toBe(true);
  });

  it('lets the support officer authorise a support-measure stop found on previewing', async () => {
    const calls = await start({
      'POST /counter/v1/previews': (body) =>
        (body as CounterRequest).override_reason ? [200, { ...ISSUED, fee_yen: 0, documents: [doc(1)] }] : [403, error('support_measure')],
      'POST /counter/v1/issuances': [200, { ...ISSUED, warnings: [] }],
      'POST /counter/v1/login': [loginAs('tanaka', 'clerk'), loginAs('suzuki', 'support_officer')],
    });
    await applicantAndSearch('person', 'R0002');
    fireEvent.click(screen.getByTestId('preview-button'));
    await screen.findByTestId('refusal');
    expect((screen.getByTestId('issue-button') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId('override-user'), { target: { value: 'suzuki' } });
    fireEvent.change(screen.getByTestId('override-password'), { target: { value: 'pw2' } });
    fireEvent.change(screen.getByTestId('override-totp'), { target: { value: '222222' } });
    fireEvent.change(screen.getByTestId('override-reason'), { target: { value: '確認済み' } });
    fireEvent.click(screen.getByTestId('override-submit'));
    await screen.findByTestId('preview');
    expect(screen.queryByTestId('refusal')).toBeNull();
    fireEvent.click(screen.getByTestId('issue-button'));
    await screen.findByTestId('receipt');
    expect(issuanceBodies(calls)[0]?.override_reason).toBe('確認済み');
  });

  it('exempts an official request from the fee', async () => {
    const calls = await start({ 'POST /counter/v1/issuances': [200, { ...ISSUED, fee_yen: 0, exemption: '公用（見本県警察本部）', warnings: [] }] });
    await applicantAndSearch('official');
    expect(screen.queryByTestId('pay-method')).toBeNull();
    fireEvent.click(screen.getByTestId('issue-button'));
    expect((await screen.findByTestId('fee-exemption')).textContent).toBe('手数料免除（公用（見本県警察本部））');
    expect(screen.queryByTestId('cash-tendered')).toBeNull();
    expect(issuanceBodies(calls)[0]?.applicant).toEqual({ type: 'official', office: '見本県警察本部' });
    expect(screen.getByTestId('receipt-total').textContent).toBe('0円');
  });

  it('retries a lost answer with the same request_id', async () => {
    const calls = await start({
      'POST /counter/v1/issuances': [
        [0, null],
        [200, { ...ISSUED, replayed: true, warnings: [] }],
      ],
    });
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('issue-button'));
    expect((await screen.findByTestId('issue-error')).textContent).toBe('サーバに接続できません。ネットワークを確認してください。');
    expect(screen.queryByTestId('receipt')).toBeNull();
    fireEvent.click(screen.getByTestId('issue-retry'));
    expect(await screen.findByText('再送への応答（新たな番号・手数料なし）')).toBeDefined();
    const ids = issuanceBodies(calls).map((b) => b.request_id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  });

  it('shows a failed print with its reason and prints it again', async () => {
    let refuse = true;
    mockBackend(routes(), {
      print: (args) => {
        if (refuse) throw { code: 'digest_mismatch', message: 'sha256' };
        return { queue: 'counter-1', job: 'job-9', sha256: args.sha256 };
      },
    });
    render(<App />);
    fireEvent.change(await screen.findByTestId('login-user'), { target: { value: 'tanaka' } });
    fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'pw' } });
    fireEvent.change(screen.getByTestId('login-totp'), { target: { value: '123456' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    await screen.findByTestId('applicant-type');
    await applicantAndSearch();
    fireEvent.click(screen.getByTestId('issue-button'));
    await waitFor(() => expect(screen.getByTestId('print-status').textContent).toContain('印刷できませんでした：印刷データが交付時のものと一致しない'));
    refuse = false;
    fireEvent.click(screen.getByTestId('print-retry'));
    await waitFor(() => expect(screen.getByTestId('print-status').textContent).not.toContain('印刷できませんでした'));
    expect(screen.queryByTestId('print-retry')).toBeNull();
  });

  describe('print outcomes', () => {
    const printedBy = (args: Record<string, unknown>) => ({ queue: 'counter-1', job: `job-${String(args.sha256)}`, sha256: args.sha256 });

    it('reports each printed copy of an issuance, and nothing for a preview', async () => {
      const calls = await start({ 'POST /counter/v1/issuances/I-1/print-outcomes': [204, null] }, 'ja', { print: printedBy });
      await applicantAndSearch();
      fireEvent.change(screen.getByTestId('copies'), { target: { value: '2' } });
      fireEvent.click(screen.getByTestId('preview-button'));
      await screen.findByTestId('preview');
      expect(printOutcomes(calls)).toEqual([]);
      fireEvent.click(screen.getByTestId('issue-button'));
      await screen.findByTestId('receipt');
      await waitFor(() => expect(printOutcomes(calls)).toHaveLength(2));
      expect(printOutcomes(calls)).toEqual([
        { issuance: 'I-1', body: { copy: 1, outcome: 'printed', queue: 'counter-1', job: 'job-sha-1', detail: null } },
        { issuance: 'I-1', body: { copy: 2, outcome: 'printed', queue: 'counter-1', job: 'job-sha-2', detail: null } },
      ]);
      // Reported after the print: each outcome follows its print_document.
      const order = calls.filter((call) => call.command === 'print_document' || String(call.args.path).endsWith('/print-outcomes')).map((call) => call.command);
      expect(order).toEqual(['print_document', 'counter_call', 'print_document', 'counter_call']);
      expect(screen.getByTestId('print-status').textContent).toMatch(/印刷しました（counter-1・ジョブ job-sha-1）/);
    });

    it('reports each issuance of a request under its own id', async () => {
      const calls = await start(
        {
          'POST /counter/v1/issuances': (body) =>
            (body as CounterRequest).certificate === 'inkan'
              ? [200, { ...ISSUED, issuance_id: 'I-2', receipt_no: 'RC-0002', fee_yen: 300, warnings: [], documents: [{ ...doc(3), copy: 1 }] }]
              : [200, { ...ISSUED, warnings: [] }],
          'POST /counter/v1/issuances/I-1/print-outcomes': [204, null],
          'POST /counter/v1/issuances/I-2/print-outcomes': [204, null],
        },
        'ja',
        { print: printedBy },
      );
      await applicantAndSearch();
      fireEvent.click(screen.getByTestId('cert-add'));
      fireEvent.change(screen.getByTestId('cert-kind'), { target: { value: 'inkan' } });
      fireEvent.click(screen.getByTestId('issue-button'));
      await waitFor(() => expect(printOutcomes(calls)).toHaveLength(3));
      expect(printOutcomes(calls).map(({ issuance, body }) => `${issuance}#${String((body as { copy: number }).copy)}`)).toEqual(['I-1#1', 'I-1#2', 'I-2#1']);
    });

    it('reports a failed print with its reason, the clerk still sees the failure, and the reprint is reported', async () => {
      let refuse = true;
      const calls = await start({ 'POST /counter/v1/issuances/I-1/print-outcomes': [204, null] }, 'ja', {
        print: (args) => {
          if (refuse) throw { code: 'digest_mismatch', message: 'sha256 differs' };
          return printedBy(args);
        },
      });
      await applicantAndSearch();
      fireEvent.click(screen.getByTestId('issue-button'));
      await waitFor(() => expect(screen.getByTestId('print-status').textContent).toContain('印刷できませんでした：印刷データが交付時のものと一致しない'));
      await waitFor(() => expect(printOutcomes(calls)).toHaveLength(2));
      expect(printOutcomes(calls)).toEqual([
        { issuance: 'I-1', body: { copy: 1, outcome: 'failed', queue: null, job: null, detail: 'sha256 differs' } },
        { issuance: 'I-1', body: { copy: 2, outcome: 'failed', queue: null, job: null, detail: 'sha256 differs' } },
      ]);
      expect(screen.getByTestId('print-retry').textContent).toContain('印刷できなかった 2 部を再印刷');

      refuse = false;
      fireEvent.click(screen.getByTestId('print-retry'));
      await waitFor(() => expect(printOutcomes(calls)).toHaveLength(4));
      expect(printOutcomes(calls).slice(2).map(({ body }) => body)).toEqual([
        { copy: 1, outcome: 'printed', queue: 'counter-1', job: 'job-sha-1', detail: null },
        { copy: 2, outcome: 'printed', queue: 'counter-1', job: 'job-sha-2', detail: null },
      ]);
      await waitFor(() => expect(screen.queryByTestId('print-retry')).toBeNull());
    });

    for (const [what, answer] of [
      ['refused', [500, error('internal', 'boom')]],
      ['unreachable', [0, null]],
      ['refused for a gone session', [401, error('session_expired', 'expired')]],
    ] as const) {
      it(`goes on unchanged when the outcome report is ${what}`, async () => {
        const calls = await start({ 'POST /counter/v1/issuances/I-1/print-outcomes': answer }, 'ja', { print: printedBy });
        await applicantAndSearch();
        fireEvent.change(screen.getByTestId('cash-tendered'), { target: { value: '1000' } });
        fireEvent.click(screen.getByTestId('issue-button'));
        await screen.findByTestId('receipt');
        await waitFor(() => expect(printOutcomes(calls)).toHaveLength(2));
        await waitFor(() => expect(screen.getByTestId('print-status').textContent).not.toMatch(/未印刷|印刷中/));
        const status = screen.getByTestId('print-status').textContent ?? '';
        expect(status).toContain('印刷しました（counter-1・ジョブ job-sha-1）');
        expect(status).toContain('印刷しました（counter-1・ジョブ job-sha-2）');
        expect(status).not.toContain('印刷できませんでした');
        expect(screen.queryByTestId('print-retry')).toBeNull();
        // Nothing about the report reaches the screen, and the session is not locked.
        expect(screen.queryAllByRole('alert')).toEqual([]);
        expect(screen.queryByTestId('lock-screen')).toBeNull();
        expect(document.body.textContent).not.toMatch(/boom|expired|サーバに接続できません/);
        expect(screen.getByTestId('change-due').textContent).toBe('おつり 400円');
        fireEvent.click(screen.getByTestId('new-request'));
        expect(await screen.findByTestId('applicant-type')).toBeDefined();
      });
    }
  });
});
