import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { App } from '../App';
import { apiCalls, error, lastBody, loginAs, mockBackend, type Routes } from '../testUtil';

const ENROLLED = { login: 'sato', totp_secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/kofu:sato?secret=JBSWY3DPEHPK3PXP&issuer=kofu' };

/** Opens the first-login form from the login screen. */
async function openEnrolment(routes: Routes = {}, locale: 'ja' | 'en' = 'ja') {
  const calls = mockBackend(routes);
  render(<App initialLocale={locale} />);
  fireEvent.click(await screen.findByTestId('first-login'));
  expect(screen.getByTestId('enrol-form')).toBeDefined();
  expect(screen.queryByTestId('login-form')).toBeNull();
  return calls;
}

function fill(login: string, code: string, password: string, password2: string) {
  fireEvent.change(screen.getByTestId('enrol-login'), { target: { value: login } });
  fireEvent.change(screen.getByTestId('enrol-code'), { target: { value: code } });
  fireEvent.change(screen.getByTestId('enrol-password'), { target: { value: password } });
  fireEvent.change(screen.getByTestId('enrol-password2'), { target: { value: password2 } });
  fireEvent.click(screen.getByTestId('enrol-submit'));
}

describe('first login with an enrolment code', () => {
  it('offers the first login on the login screen, in both languages', async () => {
    mockBackend({});
    render(<App />);
    expect((await screen.findByTestId('first-login')).textContent).toBe('初回登録（登録コードをお持ちの方）');
    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(screen.getByTestId('first-login').textContent).toBe('First login (with an enrolment code)');
  });

  it.each([
    ['', 'ABCD-EFGH-JKLM-NPQR', 'a-long-password-1', 'a-long-password-1', '職員IDと登録コードを入力してください。'],
    ['sato', ' ', 'a-long-password-1', 'a-long-password-1', '職員IDと登録コードを入力してください。'],
    ['sato', 'ABCD-EFGH-JKLM-NPQR', 'short', 'short', '新しいパスワードは12文字以上にしてください。'],
    ['sato', 'ABCD-EFGH-JKLM-NPQR', 'elevenchars', 'elevenchars', '新しいパスワードは12文字以上にしてください。'],
    ['sato', 'ABCD-EFGH-JKLM-NPQR', 'a-long-password-1', 'a-long-password-2', '確認のパスワードが一致しません。'],
  ])('refuses login %j, code %j, passwords %j / %j without a request', async (login, code, password, password2, problem) => {
    const calls = await openEnrolment();
    fill(login, code, password, password2);
    expect((await screen.findByTestId('enrol-error')).textContent).toBe(problem);
    expect(apiCalls(calls)).toEqual([]);
  });

  it('enrols, shows the secret once in groups of four, then goes back to the login form with the login filled in', async () => {
    const calls = await openEnrolment({ 'POST /counter/v1/staff/enrol': [200, ENROLLED], 'POST /counter/v1/login': loginAs('sato', 'clerk') });
    fill(' sato ', 'abcd-efgh-jklm-npqr', 'a-long-password-1', 'a-long-password-1');
    const secret = await screen.findByTestId('enrol-secret');
    expect(lastBody(calls, 'POST', '/counter/v1/staff/enrol')).toEqual({ login: 'sato', enrolment_code: 'ABCD-EFGH-JKLM-NPQR', password: 'a-long-password-1' });
    expect(secret.textContent).toContain('JBSW Y3DP EHPK 3PXP');
    expect(secret.textContent).toContain(ENROLLED.otpauth_uri);
    expect(secret.textContent).toContain('今すぐ認証アプリに登録してください。この秘密鍵は今回だけ表示され、二度と表示されません。');
    expect(screen.queryByTestId('enrol-form')).toBeNull();

    fireEvent.click(screen.getByTestId('enrol-done'));
    expect(screen.queryByTestId('enrol-secret')).toBeNull();
    const login = screen.getByTestId('login-user') as HTMLInputElement;
    expect(login.value).toBe('sato');
    expect(login.readOnly).toBe(false);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('login-password')));

    fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'a-long-password-1' } });
    fireEvent.change(screen.getByTestId('login-totp'), { target: { value: '123456' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect((await screen.findByTestId('session-staff')).textContent).toBe('sato（窓口職員）');
  });

  it.each([
    ['ja', 401, 'enrolment_refused', '登録できませんでした。職員IDと登録コードを確かめてください。登録コードは一度しか使えず、有効期限を過ぎると使えません。わからないときは管理者に新しいコードを依頼してください。'],
    ['en', 401, 'enrolment_refused', 'Enrolment refused. Check your staff ID and enrolment code. A code works only once and not after it expires; if in doubt, ask an administrator for a new one.'],
    ['ja', 400, 'weak_password', 'パスワードが弱すぎます。'],
    ['en', 400, 'invalid_request', 'The request is not valid.'],
  ] as const)('in %s, says %i %s in words and keeps the form', async (locale, status, code, words) => {
    await openEnrolment({ 'POST /counter/v1/staff/enrol': [status, error(code, 'サーバの文')] }, locale);
    fill('sato', 'ABCD-EFGH-JKLM-NPQR', 'a-long-password-1', 'a-long-password-1');
    expect((await screen.findByTestId('enrol-error')).textContent).toBe(words);
    expect(screen.queryByTestId('enrol-secret')).toBeNull();
    expect((screen.getByTestId('enrol-code') as HTMLInputElement).value).toBe('ABCD-EFGH-JKLM-NPQR');
  });

  it('goes back to the login form without enrolling', async () => {
    const calls = await openEnrolment();
    fireEvent.click(screen.getByTestId('enrol-cancel'));
    expect(screen.getByTestId('login-form')).toBeDefined();
    expect((screen.getByTestId('login-user') as HTMLInputElement).value).toBe('');
    expect(apiCalls(calls)).toEqual([]);
  });
});
