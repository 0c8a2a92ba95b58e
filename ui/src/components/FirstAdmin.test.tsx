import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';

import { App } from '../App';
import { normalizeAppInfo } from '../appInfo';
import { apiCalls, type Call, mockBackend } from '../testUtil';

const ENROLLED = { login: 'kanri', totp_secret: 'JBSWY3DPEHPK3PXPJBSWY3DP', otpauth_uri: 'otpauth://totp/kofu:kanri?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=kofu' };

function fill(login: string, password: string, password2: string) {
  fireEvent.change(screen.getByTestId('first-admin-login'), { target: { value: login } });
  fireEvent.change(screen.getByTestId('first-admin-password'), { target: { value: password } });
  fireEvent.change(screen.getByTestId('first-admin-password2'), { target: { value: password2 } });
  fireEvent.click(screen.getByTestId('first-admin-submit'));
}

const firstAdminCalls = (calls: readonly Call[]) => calls.filter((call) => call.command === 'enrol_first_admin').map((call) => call.args);

describe('the first administrator of a new terminal', () => {
  it.each([
    [true, true],
    [false, false],
  ])('app_info needs_first_admin %s → first-start screen shown: %s', async (needs, shown) => {
    mockBackend({}, { info: { needs_first_admin: needs } });
    render(<App />);
    await screen.findByTestId('terminal-info');
    expect(screen.queryByTestId('first-admin-form') !== null).toBe(shown);
    expect(screen.queryByTestId('login-form') !== null).toBe(!shown);
  });

  it('reads needs_first_admin as false when an older shell leaves it out', () => {
    expect(normalizeAppInfo({}).needs_first_admin).toBe(false);
    expect(normalizeAppInfo({ needs_first_admin: true }).needs_first_admin).toBe(true);
  });

  it('explains the screen, creates the administrator, shows the secret, then the login form with the login filled in', async () => {
    const calls = mockBackend({}, { info: { needs_first_admin: true }, firstAdmin: () => ENROLLED });
    render(<App />);
    const form = await screen.findByTestId('first-admin-form');
    expect(form.textContent).toContain('この端末にはまだ職員が登録されていません。最初の管理者を作成してください。');
    fill('kanri', 'a-long-password-1', 'a-long-password-1');

    const secret = await screen.findByTestId('first-admin-secret');
    expect(firstAdminCalls(calls)).toEqual([{ login: 'kanri', password: 'a-long-password-1' }]);
    expect(secret.textContent).toContain('JBSW Y3DP EHPK 3PXP JBSW Y3DP');
    expect(secret.textContent).toContain(ENROLLED.otpauth_uri);
    expect(secret.textContent).toContain('この秘密鍵は今回だけ表示され');
    expect(apiCalls(calls)).toEqual([]);

    fireEvent.click(screen.getByTestId('first-admin-done'));
    expect(screen.queryByTestId('first-admin-form')).toBeNull();
    expect((screen.getByTestId('login-user') as HTMLInputElement).value).toBe('kanri');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('login-password')));
  });

  it.each([
    ['Kanri', 'a-long-password-1', 'a-long-password-1', '職員IDは英小文字・数字・. _ - で入力してください。'],
    ['kanri', 'short', 'short', '新しいパスワードは12文字以上にしてください。'],
    ['kanri', 'a-long-password-1', 'a-long-password-2', '確認のパスワードが一致しません。'],
  ])('refuses login %j, passwords %j / %j without calling the shell', async (login, password, password2, problem) => {
    const calls = mockBackend({}, { info: { needs_first_admin: true }, firstAdmin: () => ENROLLED });
    render(<App />);
    await screen.findByTestId('first-admin-form');
    fill(login, password, password2);
    expect((await screen.findByTestId('first-admin-error')).textContent).toBe(problem);
    expect(firstAdminCalls(calls)).toEqual([]);
  });

  it.each([
    ['ja', 'weak_password', 'パスワードが弱すぎます。', false],
    ['en', 'not_first', 'This terminal already has staff, so no first administrator can be created. Log in on the login screen.', true],
  ] as const)('in %s, says a refused %s in words', async (locale, code, words, toLogin) => {
    mockBackend({}, {
      info: { needs_first_admin: true },
      firstAdmin: () => {
        throw { code, message: 'shell says no' };
      },
    });
    render(<App initialLocale={locale} />);
    await screen.findByTestId('first-admin-form');
    fill('kanri', 'a-long-password-1', 'a-long-password-1');
    expect((await screen.findByTestId('first-admin-error')).textContent).toBe(words);
    expect(screen.queryByTestId('first-admin-secret')).toBeNull();
    expect(screen.queryByTestId('first-admin-to-login') !== null).toBe(toLogin);
    if (toLogin) {
      fireEvent.click(screen.getByTestId('first-admin-to-login'));
      expect(screen.getByTestId('login-form')).toBeDefined();
      expect((screen.getByTestId('login-user') as HTMLInputElement).value).toBe('');
    }
  });
});
