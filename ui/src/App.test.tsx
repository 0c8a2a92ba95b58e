import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';

import { App } from './App';
import { loadAppInfoOutsideTauri } from './appInfo';
import { apiCalls, error, lastBody, loginAs, mockBackend } from './testUtil';

async function logIn(login = 'tanaka', password = 'correct horse', totp = '123456') {
  fireEvent.change(await screen.findByTestId('login-user'), { target: { value: login } });
  fireEvent.change(screen.getByTestId('login-password'), { target: { value: password } });
  fireEvent.change(screen.getByTestId('login-totp'), { target: { value: totp } });
  fireEvent.click(screen.getByTestId('login-submit'));
}

describe('App: terminal and language', () => {
  it('shows the terminal in Japanese by default, then in English', async () => {
    mockBackend({});
    render(<App />);
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('kofu 窓口');
    expect(screen.getByRole('status').textContent).toBe('端末情報を取得しています…');
    expect((await screen.findByTestId('terminal-info')).textContent).toBe('見本市・本庁1・組込みモード');
    expect(screen.getByRole('heading', { level: 2 }).textContent).toBe('ログイン');
    expect(document.documentElement.lang).toBe('ja');

    fireEvent.click(screen.getByRole('button', { name: 'English' }));
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('kofu Counter');
    expect(screen.getByTestId('terminal-info').textContent).toBe('見本市 · 本庁1 · Embedded mode');
    expect(screen.getByRole('button', { name: 'English' }).getAttribute('aria-pressed')).toBe('true');
    expect(document.documentElement.lang).toBe('en');
  });

  it('says there is no terminal information outside Tauri', async () => {
    render(<App loadAppInfo={loadAppInfoOutsideTauri} />);
    expect(await screen.findByText('アプリの外で表示しているため、端末情報はありません。')).toBeDefined();
  });

  it('reports a failed app_info call with its reason', async () => {
    const failing = vi.fn(() => Promise.reject(new Error('database locked')));
    render(<App loadAppInfo={failing} />);
    expect(await screen.findByText('端末情報を取得できませんでした（Error: database locked）')).toBeDefined();
  });
});

describe('App: login', () => {
  it('logs in and shows the staff member, role and the clerk navigation', async () => {
    const calls = mockBackend({ 'POST /counter/v1/login': loginAs('tanaka', 'clerk') });
    render(<App />);
    await logIn();
    expect((await screen.findByTestId('session-staff')).textContent).toBe('tanaka（窓口職員）');
    expect(lastBody(calls, 'POST', '/counter/v1/login')).toEqual({ login: 'tanaka', password: 'correct horse', totp: '123456' });
    expect(screen.getByTestId('nav-request')).toBeDefined();
    expect(screen.getByTestId('nav-close')).toBeDefined();
    expect(screen.queryByTestId('nav-report')).toBeNull();
    expect(screen.queryByTestId('nav-admin')).toBeNull();
    // The first field of the first step has the focus.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('applicant-type')));
  });

  it('says a wrong code plainly and keeps the form', async () => {
    mockBackend({ 'POST /counter/v1/login': [401, error('invalid_credentials', '認証に失敗しました')] });
    render(<App />);
    await logIn();
    expect((await screen.findByTestId('login-error')).textContent).toBe('職員ID・パスワード・確認コードのいずれかが正しくありません。');
    expect(screen.queryByTestId('session-staff')).toBeNull();
    expect((screen.getByTestId('login-totp') as HTMLInputElement).value).toBe('');
  });

  it('says a locked account is locked, in English too', async () => {
    mockBackend({ 'POST /counter/v1/login': [403, error('account_locked')] });
    render(<App initialLocale="en" />);
    await logIn();
    expect((await screen.findByTestId('login-error')).textContent).toBe(
      'This account is locked after repeated failed logins. Try again in 30 minutes, or ask an administrator to unlock it.',
    );
  });

  it('says when a terminal must wait after many failed logins', async () => {
    mockBackend({ 'POST /counter/v1/login': [429, error('too_many_attempts')] });
    render(<App initialLocale="ja" />);
    await logIn();
    expect((await screen.findByTestId('login-error')).textContent).toBe(
      'ログインの失敗が続いています。しばらく待ってからもう一度お試しください。',
    );
  });

  it('refuses a code that is not six digits without calling the API', async () => {
    const calls = mockBackend({});
    render(<App />);
    await logIn('tanaka', 'pw', '123');
    expect((await screen.findByTestId('login-error')).textContent).toBe('確認コードは6桁の数字で入力してください。');
    expect(apiCalls(calls)).toEqual([]);
  });

  it('offers the demo accounts and fills in the current code', async () => {
    const calls = mockBackend(
      { 'POST /counter/v1/login': loginAs('demo-clerk', 'clerk') },
      { info: { demo_staff: [{ login: 'demo-clerk', role: 'clerk', password: 'demo-password-1' }] }, totp: '654321' },
    );
    render(<App />);
    fireEvent.click(await screen.findByTestId('demo-use-demo-clerk'));
    await waitFor(() => expect((screen.getByTestId('login-totp') as HTMLInputElement).value).toBe('654321'));
    expect((screen.getByTestId('login-user') as HTMLInputElement).value).toBe('demo-clerk');
    expect(calls.find((call) => call.command === 'demo_totp')?.args).toEqual({ login: 'demo-clerk' });
    fireEvent.click(screen.getByTestId('login-submit'));
    expect((await screen.findByTestId('session-staff')).textContent).toBe('demo-clerk（窓口職員）');
  });

  it.each([
    ['supervisor', ['nav-request', 'nav-close', 'nav-report']],
    ['support_officer', ['nav-request']],
    ['admin', ['nav-report', 'nav-admin']],
  ])('shows the %s navigation', async (role, navs) => {
    mockBackend({ 'POST /counter/v1/login': loginAs('who', role), 'GET /counter/v1/staff': [200, { staff: [] }], 'GET /counter/v1/reports/2026-05-07': [200, { day: '2026-05-07' }] });
    render(<App />);
    await logIn();
    await screen.findByTestId('session-staff');
    const shown = ['nav-request', 'nav-close', 'nav-report', 'nav-admin'].filter((id) => screen.queryByTestId(id) !== null);
    expect(shown).toEqual(navs);
  });

  it('switches screens with Alt+digit', async () => {
    mockBackend({ 'POST /counter/v1/login': loginAs('tanaka', 'clerk'), 'GET /counter/v1/days/2026-05-07': [200, { day: '2026-05-07', expected: { cash_yen: 0 } }] });
    render(<App />);
    await logIn();
    await screen.findByTestId('session-staff');
    fireEvent.keyDown(window, { altKey: true, code: 'Digit2', key: '2' });
    expect(await screen.findByTestId('denom-10000')).toBeDefined();
    fireEvent.keyDown(window, { altKey: true, code: 'Digit4', key: '4' }); // not for a clerk
    expect(screen.getByTestId('denom-10000')).toBeDefined();
    fireEvent.keyDown(window, { altKey: true, code: 'Digit1', key: '1' });
    expect(await screen.findByTestId('applicant-type')).toBeDefined();
  });

  it('logs out', async () => {
    const calls = mockBackend({ 'POST /counter/v1/login': loginAs('tanaka', 'clerk'), 'POST /counter/v1/logout': [204, null] });
    render(<App />);
    await logIn();
    fireEvent.click(await screen.findByTestId('logout'));
    expect(await screen.findByTestId('login-form')).toBeDefined();
    expect(apiCalls(calls)).toContain('POST /counter/v1/logout');
  });
});

describe('App: locking', () => {
  it('locks after the idle time and unlocks with the same staff member, keeping the work', async () => {
    const calls = mockBackend({ 'POST /counter/v1/login': loginAs('tanaka', 'clerk') });
    render(<App idleLockMs={60} />);
    await logIn();
    const applicantType = await screen.findByTestId('applicant-type');
    fireEvent.change(applicantType, { target: { value: 'proxy' } });
    applicantType.focus();
    expect(await screen.findByTestId('lock-screen', {}, { timeout: 2000 })).toBeDefined();
    expect((screen.getByTestId('login-user') as HTMLInputElement).value).toBe('tanaka');
    expect((screen.getByTestId('login-user') as HTMLInputElement).readOnly).toBe(true);
    fireEvent.change(screen.getByTestId('login-password'), { target: { value: 'pw' } });
    fireEvent.change(screen.getByTestId('login-totp'), { target: { value: '111111' } });
    fireEvent.click(screen.getByTestId('login-submit'));
    await waitFor(() => expect(screen.queryByTestId('lock-screen')).toBeNull());
    expect((screen.getByTestId('applicant-type') as HTMLSelectElement).value).toBe('proxy');
    await waitFor(() => expect(document.activeElement).toBe(screen.getByTestId('applicant-type')));
    expect(lastBody(calls, 'POST', '/counter/v1/login')).toEqual({ login: 'tanaka', password: 'pw', totp: '111111' });
    expect(apiCalls(calls)).toEqual(['POST /counter/v1/login', 'POST /counter/v1/logout', 'POST /counter/v1/login']);
  });

  it('locks when the server says the session expired', async () => {
    mockBackend({
      'POST /counter/v1/login': loginAs('tanaka', 'clerk'),
      'GET /counter/v1/days/2026-05-07': [401, error('session_expired')],
    });
    render(<App />);
    await logIn();
    fireEvent.click(await screen.findByTestId('nav-close'));
    expect(await screen.findByTestId('lock-screen')).toBeDefined();
    expect(screen.getByText(/セッションの有効期限が切れました。tanaka さん/)).toBeDefined();
  });
});

describe('App: a shell error at start', () => {
  it('names the shell error code', async () => {
    const failing = vi.fn(() => Promise.reject({ code: 'startup_failed', message: 'data directory not writable' }));
    render(<App loadAppInfo={failing} />);
    expect(await screen.findByText('端末情報を取得できませんでした（data directory not writable [startup_failed]）')).toBeDefined();
  });
});

describe('App: password change', () => {
  it('changes the password with the current one, after checking the new one twice', async () => {
    const calls = mockBackend({
      'POST /counter/v1/login': loginAs('tanaka', 'clerk'),
      'POST /counter/v1/session/password': [204, null],
    });
    render(<App initialLocale="ja" />);
    await logIn();
    fireEvent.click(await screen.findByTestId('password-change-open'));
    fireEvent.change(screen.getByTestId('password-current'), { target: { value: 'correct horse' } });
    fireEvent.change(screen.getByTestId('password-new'), { target: { value: 'a much longer one 2026' } });
    fireEvent.change(screen.getByTestId('password-repeat'), { target: { value: 'a much longer one 2025' } });
    fireEvent.click(screen.getByTestId('password-submit'));
    expect((await screen.findByTestId('password-error')).textContent).toBe('確認のパスワードが一致しません。');
    expect(apiCalls(calls)).not.toContain('POST /counter/v1/session/password');
    fireEvent.change(screen.getByTestId('password-repeat'), { target: { value: 'a much longer one 2026' } });
    fireEvent.click(screen.getByTestId('password-submit'));
    expect(await screen.findByTestId('password-changed')).toBeDefined();
    expect(lastBody(calls, 'POST', '/counter/v1/session/password')).toEqual({
      current_password: 'correct horse',
      new_password: 'a much longer one 2026',
    });
    expect(screen.queryByTestId('password-change')).toBeNull();
  });

  it('says when the current password is wrong', async () => {
    mockBackend({
      'POST /counter/v1/login': loginAs('tanaka', 'clerk'),
      'POST /counter/v1/session/password': [401, error('invalid_credentials', '違います')],
    });
    render(<App initialLocale="en" />);
    await logIn();
    fireEvent.click(await screen.findByTestId('password-change-open'));
    fireEvent.change(screen.getByTestId('password-current'), { target: { value: 'not it' } });
    fireEvent.change(screen.getByTestId('password-new'), { target: { value: 'a much longer one 2026' } });
    fireEvent.change(screen.getByTestId('password-repeat'), { target: { value: 'a much longer one 2026' } });
    fireEvent.click(screen.getByTestId('password-submit'));
    expect((await screen.findByTestId('password-error')).textContent).not.toBe('');
    expect(screen.getByTestId('password-change')).toBeDefined();
  });
});
