// The counter app: terminal information, login, the shell with its screens,
// and the idle lock.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

import { type ApiFailure, createApi, type CounterApi, type DayClosed, type LoginAnswer, type Staff } from './api';
import { type AppInfo, type AppInfoLoader, loadAppInfoFromTauri, OutsideTauriError } from './appInfo';
import { Admin } from './components/Admin';
import { Alert, KeyButton } from './components/common';
import { CredentialsForm, roleName } from './components/CredentialsForm';
import { FirstAdmin } from './components/FirstAdmin';
import { PasswordChange } from './components/PasswordChange';
import { StaffEnrolment } from './components/StaffEnrolment';
import { DailyClose } from './components/DailyClose';
import { Report } from './components/Report';
import { RequestFlow } from './components/RequestFlow';
import { IDLE_LOCK_MS } from './config';
import { ipcFailureOf } from './ipc';
import { HotkeysEnabled, useHotkeys } from './hotkeys';
import { ConnectivityBanner } from './components/ConnectivityBanner';
import { I18nContext, useI18n } from './I18nContext';
import { DEFAULT_LOCALE, errorText, LOCALES, type Locale, type Translate, translate, signedYen, yen } from './i18n';
import { type Screen, screensFor, shortcutOf } from './logic/roles';

/** Where obtaining the terminal information stands. */
type AppInfoStatus =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly info: AppInfo }
  | { readonly kind: 'outsideTauri' }
  | { readonly kind: 'failed'; readonly detail: string };

/** Why the screen is locked. */
type LockReason = 'idle' | 'expired' | 'handover';

/** A notice shown on the login screen. */
type LoginNotice =
  | { readonly kind: 'sealed'; readonly closed: DayClosed }
  | { readonly kind: 'expired' }
  | { readonly kind: 'loggedOut' };

/** Properties of {@link App}. */
export interface AppProps {
  /** Obtains the terminal information (Tauri's IPC in the app, a mock in tests). */
  readonly loadAppInfo?: AppInfoLoader;
  /** The language shown first; Japanese unless given. */
  readonly initialLocale?: Locale;
  /** Milliseconds without input before the lock screen (IDLE_LOCK_MINUTES unless given). */
  readonly idleLockMs?: number;
}

/** Translates an error code from a login attempt. */
export function loginErrorText(t: Translate, failure: ApiFailure): string {
  return errorText(t, failure.code, failure.message);
}

export function App({ loadAppInfo = loadAppInfoFromTauri, initialLocale = DEFAULT_LOCALE, idleLockMs = IDLE_LOCK_MS }: AppProps) {
  const [locale, setLocale] = useState<Locale>(initialLocale);
  const [status, setStatus] = useState<AppInfoStatus>({ kind: 'loading' });
  const [session, setSession] = useState<Staff | null>(null);
  const [lock, setLockState] = useState<{ readonly login: string; readonly reason: LockReason; readonly message?: string } | null>(null);
  /** Where the focus was when the screen locked, to put it back on unlocking. */
  const focusBeforeLock = useRef<HTMLElement | null>(null);
  const setLock = useCallback((next: { readonly login: string; readonly reason: LockReason; readonly message?: string } | null) => {
    if (next !== null && document.activeElement instanceof HTMLElement && document.activeElement !== document.body) {
      focusBeforeLock.current = document.activeElement;
    }
    setLockState(next);
  }, []);
  const [notice, setNotice] = useState<LoginNotice | null>(null);
  /** Bumped at each fresh login, so a new staff member starts with fresh screens. */
  const [generation, setGeneration] = useState(0);
  const [changingPassword, setChangingPassword] = useState(false);
  const [passwordChanged, setPasswordChanged] = useState(false);
  /** The login the login form starts with (the first administrator just created). */
  const [loginPrefill, setLoginPrefill] = useState<string | undefined>(undefined);
  const sessionRef = useRef<Staff | null>(null);
  sessionRef.current = session;

  useEffect(() => {
    let unmounted = false;
    loadAppInfo().then(
      (info) => {
        if (!unmounted) setStatus({ kind: 'ready', info });
      },
      (error: unknown) => {
        if (unmounted) return;
        if (error instanceof OutsideTauriError) return setStatus({ kind: 'outsideTauri' });
        const failure = ipcFailureOf(error);
        setStatus({ kind: 'failed', detail: error instanceof Error ? String(error) : `${failure.message || failure.code} [${failure.code}]` });
      },
    );
    return () => {
      unmounted = true;
    };
  }, [loadAppInfo]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  useEffect(() => {
    if (lock !== null || session === null) return;
    const previous = focusBeforeLock.current;
    focusBeforeLock.current = null;
    if (previous?.isConnected) previous.focus();
  }, [lock, session]);

  const t: Translate = useCallback((key, params) => translate(locale, key, params), [locale]);
  const i18n = useMemo(() => ({ locale, t }), [locale, t]);

  // A call refused for a gone session locks the screen for the same staff member,
  // so a re-login carries on where they were.
  const api: CounterApi = useMemo(
    () =>
      createApi(() => {
        const current = sessionRef.current;
        if (current) setLock({ login: current.login, reason: 'expired' });
      }),
    [setLock],
  );

  // The idle lock.
  useEffect(() => {
    if (session === null || lock !== null) return undefined;
    let last = Date.now();
    const touch = () => {
      last = Date.now();
    };
    const events = ['keydown', 'mousedown', 'mousemove', 'pointerdown', 'wheel', 'touchstart'] as const;
    for (const name of events) window.addEventListener(name, touch, { passive: true });
    let locked = false;
    const timer = window.setInterval(
      () => {
        if (locked || Date.now() - last < idleLockMs) return;
        locked = true;
        // The lock ends the server session too; unlocking logs in afresh.
        void api.logout();
        setLock({ login: session.login, reason: 'idle' });
      },
      Math.max(10, Math.min(1000, Math.floor(idleLockMs / 4))),
    );
    return () => {
      for (const name of events) window.removeEventListener(name, touch);
      window.clearInterval(timer);
    };
  }, [session, lock, idleLockMs, api, setLock]);

  const loggedIn = (answer: LoginAnswer) => {
    setLoginPrefill(undefined);
    setSession(answer.staff);
    setLock(null);
    setNotice(null);
  };

  const logout = async (next: LoginNotice | null = { kind: 'loggedOut' }) => {
    await api.logout();
    setSession(null);
    setLock(null);
    setNotice(next);
    setGeneration((g) => g + 1);
  };

  const info = status.kind === 'ready' ? status.info : null;

  return (
    <I18nContext.Provider value={i18n}>
      <HotkeysEnabled.Provider value={session !== null && lock === null}>
        <div className="app">
          <header className="header">
            <div className="header__title">
              <h1>{t('app.title')}</h1>
              {info ? (
                <p className="header__terminal" data-testid="terminal-info">
                  {t('app.terminal', { town: info.town || t('app.town.unset'), terminal: info.terminal, mode: t(`app.mode.${info.mode}`) })}
                </p>
              ) : null}
            </div>
            <div className="header__right">
              {session ? (
                <p className="header__staff" data-testid="session-staff">
                  {t('shell.staff', { login: session.login, role: roleName(t, session.role) })}
                </p>
              ) : null}
              <div role="group" aria-label={t('app.language.label')} className="languages">
                {LOCALES.map((choice) => (
                  <button key={choice} type="button" lang={choice} aria-pressed={choice === locale} onClick={() => setLocale(choice)}>
                    {t(`app.language.${choice}`)}
                  </button>
                ))}
              </div>
              {session && lock === null ? (
                <button
                  type="button"
                  className="button button--secondary"
                  data-testid="password-change-open"
                  onClick={() => {
                    setPasswordChanged(false);
                    setChangingPassword(true);
                  }}
                >
                  {t('password.open')}
                </button>
              ) : null}
              {session && lock === null ? (
                <button type="button" className="button button--secondary" data-testid="logout" onClick={() => void logout()}>
                  {t('shell.logout')}
                </button>
              ) : null}
            </div>
          </header>
          {info?.mode === 'server' ? <ConnectivityBanner /> : null}
          {session && lock === null && changingPassword ? (
            <PasswordChange
              api={api}
              onClose={(changed) => {
                setChangingPassword(false);
                setPasswordChanged(changed);
              }}
            />
          ) : null}
          {session && passwordChanged ? (
            <Alert tone="ok" testId="password-changed">
              {t('password.done')}
            </Alert>
          ) : null}
          {info === null ? (
            <p role="status" className="status">
              {statusLine(status, t)}
            </p>
          ) : info.needs_first_admin ? (
            <main className="screen screen--narrow">
              <FirstAdmin
                onDone={(login) => {
                  // The terminal has its administrator now: on to the login form (app_info
                  // would say so too, but is not asked again).
                  setStatus({ kind: 'ready', info: { ...info, needs_first_admin: false } });
                  setLoginPrefill(login);
                }}
              />
            </main>
          ) : session === null ? (
            <LoginScreen info={info} api={api} notice={notice} initialLogin={loginPrefill} onLoggedIn={loggedIn} />
          ) : (
            <>
              <div hidden={lock !== null} className="shell-wrap">
                <Shell
                  key={`${generation}`}
                  info={info}
                  api={api}
                  staff={session}
                  onSessionChange={setSession}
                  onHandOver={(login, message) => {
                    void api.logout();
                    setLock({ login, reason: 'handover', message });
                  }}
                  onSealed={(closed) => void logout({ kind: 'sealed', closed })}
                />
              </div>
              {lock !== null ? (
                <LockScreen
                  lockedFor={lock.login}
                  reason={lock.reason}
                  message={lock.message}
                  api={api}
                  info={info}
                  onUnlocked={loggedIn}
                  onSwitchUser={() => void logout(null)}
                />
              ) : null}
            </>
          )}
          {info ? (
            <footer className="footer">
              {t('app.footer', { version: info.version, server: info.server, printer: info.printer })}
            </footer>
          ) : null}
        </div>
      </HotkeysEnabled.Provider>
    </I18nContext.Provider>
  );
}

function LoginScreen({
  info,
  api,
  notice,
  initialLogin,
  onLoggedIn,
}: {
  readonly info: AppInfo;
  readonly api: CounterApi;
  readonly notice: LoginNotice | null;
  readonly initialLogin?: string;
  readonly onLoggedIn: (answer: LoginAnswer) => void;
}) {
  const { t, locale } = useI18n();
  // The login form, or the first-login enrolment; back from it with the enrolled login.
  const [enrolling, setEnrolling] = useState(false);
  const [prefill, setPrefill] = useState(initialLogin);
  if (enrolling) {
    return (
      <main className="screen screen--narrow">
        <h2>{t('login.title')}</h2>
        <StaffEnrolment
          api={api}
          onBack={(login) => {
            if (login !== undefined) setPrefill(login);
            setEnrolling(false);
          }}
        />
      </main>
    );
  }
  return (
    <main className="screen screen--narrow">
      <h2>{t('login.title')}</h2>
      {notice?.kind === 'sealed' ? (
        <Alert tone="ok" testId="close-sealed">
          <p>{t('close.sealed', { day: notice.closed.day })}</p>
          <p>
            {t('close.sealed.detail', {
              counted: yen(locale, notice.closed.counted_cash_yen),
              difference: signedYen(locale, notice.closed.difference_yen),
            })}
          </p>
          {notice.closed.audit_head ? <p className="mono">{t('close.sealed.head', { head: notice.closed.audit_head })}</p> : null}
          <p>{t('close.sealed.login_again')}</p>
        </Alert>
      ) : null}
      {notice?.kind === 'loggedOut' ? <Alert tone="info">{t('login.logged_out')}</Alert> : null}
      <CredentialsForm
        prefix="login"
        submitLabel={t('login.submit')}
        initialLogin={prefill}
        demoStaff={info.demo_staff}
        onSubmit={async (login, password, totp) => {
          const outcome = await api.login(login, password, totp);
          if (!outcome.ok) return loginErrorText(t, outcome);
          onLoggedIn(outcome.body);
          return null;
        }}
      />
      <p className="first-login">
        <button type="button" className="button button--secondary" data-testid="first-login" onClick={() => setEnrolling(true)}>
          {t('enrol.open')}
        </button>
      </p>
    </main>
  );
}

function LockScreen({
  lockedFor,
  reason,
  message,
  api,
  info,
  onUnlocked,
  onSwitchUser,
}: {
  readonly lockedFor: string;
  readonly reason: LockReason;
  readonly message?: string;
  readonly api: CounterApi;
  readonly info: AppInfo;
  readonly onUnlocked: (answer: LoginAnswer) => void;
  readonly onSwitchUser: () => void;
}) {
  const { t } = useI18n();
  return (
    <main className="screen screen--narrow lock" data-testid="lock-screen" aria-labelledby="lock-title">
      <h2 id="lock-title">{t('lock.title')}</h2>
      {message !== undefined ? <Alert testId="lock-message">{message}</Alert> : null}
      <p>{t(`lock.reason.${reason}`, { login: lockedFor })}</p>
      <CredentialsForm
        prefix="login"
        fixedLogin={lockedFor}
        demoStaff={info.demo_staff}
        submitLabel={t('lock.submit')}
        onSubmit={async (login, password, totp) => {
          const outcome = await api.login(login, password, totp);
          if (!outcome.ok) return loginErrorText(t, outcome);
          onUnlocked(outcome.body);
          return null;
        }}
      />
      <button type="button" className="button button--secondary" data-testid="lock-switch-user" onClick={onSwitchUser}>
        {t('lock.switch_user')}
      </button>
    </main>
  );
}

interface ShellProps {
  readonly info: AppInfo;
  readonly api: CounterApi;
  readonly staff: Staff;
  readonly onSessionChange: (staff: Staff) => void;
  readonly onHandOver: (login: string, message?: string) => void;
  readonly onSealed: (closed: DayClosed) => void;
}

function Shell({ info, api, staff, onSessionChange, onHandOver, onSealed }: ShellProps) {
  const { t } = useI18n();
  // The screens of the staff member who opened the shell; a second person's
  // approval (override, sign-off) changes the session, not the navigation.
  const [owner] = useState(staff);
  const screens = screensFor(owner.role);
  const [screen, setScreen] = useState<Screen | undefined>(screens[0]);
  const open = (next: Screen) => {
    if (screens.includes(next)) setScreen(next);
  };
  useHotkeys({ '1': () => open('request'), '2': () => open('close'), '3': () => open('report'), '4': () => open('admin') });

  return (
    <div className="shell">
      <nav className="nav" aria-label={t('shell.nav')}>
        {screens.map((choice) => (
          <KeyButton
            key={choice}
            data-testid={`nav-${choice}`}
            className="nav__item"
            aria-current={choice === screen ? 'page' : undefined}
            shortcut={shortcutOf(choice)}
            onClick={() => open(choice)}
          >
            {t(`nav.${choice}`)}
          </KeyButton>
        ))}
      </nav>
      <main className="screen">
        {screen === undefined ? <Alert>{t('shell.no_screens')}</Alert> : null}
        {screen === 'request' ? (
          <RequestFlow info={info} api={api} staff={staff} onSessionChange={onSessionChange} onHandOver={onHandOver} />
        ) : null}
        {screen === 'close' ? <DailyClose info={info} api={api} staff={staff} onSessionChange={onSessionChange} onHandOver={onHandOver} onSealed={onSealed} /> : null}
        {screen === 'report' ? <Report info={info} api={api} staff={staff} /> : null}
        {screen === 'admin' ? <Admin api={api} /> : null}
      </main>
    </div>
  );
}

function statusLine(status: AppInfoStatus, t: Translate): string {
  switch (status.kind) {
    case 'loading':
      return t('app.status.loading');
    case 'ready':
      return '';
    case 'outsideTauri':
      return t('app.status.outsideTauri');
    case 'failed':
      return t('app.status.failed', { detail: status.detail });
  }
}
