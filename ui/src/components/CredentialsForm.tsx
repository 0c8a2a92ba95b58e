// Login, password and 6-digit TOTP: the login screen, the lock screen, and a
// second person's approval (support officer's override, supervisor's sign-off).
import { type FormEvent, type ReactNode, useId, useState } from 'react';

import type { DemoStaff } from '../appInfo';
import { demoTotp, ipcFailureOf } from '../ipc';
import { useI18n } from '../I18nContext';
import { errorText, hasMessage } from '../i18n';
import { Alert, Field } from './common';

/** What a submission came to: null on success, else the words to show. */
export type SubmitResult = string | null;

export interface CredentialsFormProps {
  /** The prefix of the fields' test IDs: `<prefix>-user`, `-password`, `-totp`, `-submit`, `-error`. */
  readonly prefix: string;
  /** Overrides the submit button's test ID. */
  readonly submitTestId?: string;
  readonly submitLabel: string;
  /** A login that may not be changed (the lock screen). */
  readonly fixedLogin?: string;
  /** A login filled in that may be changed (e.g. just enrolled); the password field has the focus then. */
  readonly initialLogin?: string;
  /** Demo accounts to offer (embedded demo mode). */
  readonly demoStaff?: readonly DemoStaff[];
  /** Extra fields shown before the submit button (e.g. a reason). */
  readonly children?: ReactNode;
  readonly autoFocus?: boolean;
  /** Checks the other fields first: the words to show, or null when all is well (nothing is sent then). */
  readonly precheck?: () => string | null;
  readonly onSubmit: (login: string, password: string, totp: string) => Promise<SubmitResult>;
}

/** Whether a TOTP code is six digits. */
export function isTotpCode(code: string): boolean {
  return /^\d{6}$/.test(code);
}

export function CredentialsForm({
  prefix,
  submitTestId,
  submitLabel,
  fixedLogin,
  initialLogin,
  demoStaff = [],
  children,
  autoFocus = true,
  precheck,
  onSubmit,
}: CredentialsFormProps) {
  const { t } = useI18n();
  const id = useId();
  const [login, setLogin] = useState(fixedLogin ?? initialLogin ?? '');
  /** Whether the login is given, so the focus starts on the password. */
  const loginGiven = fixedLogin !== undefined || (initialLogin ?? '') !== '';
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fillDemo = async (account: DemoStaff | undefined) => {
    const who = account?.login ?? login.trim();
    if (account) {
      setLogin(account.login);
      setPassword(account.password);
    }
    try {
      setTotp(await demoTotp(who));
      setError(null);
    } catch (failure) {
      setError(errorText(t, ipcFailureOf(failure).code, ipcFailureOf(failure).message));
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const code = totp.trim();
    if (login.trim() === '' || password === '') {
      setError(t('login.error.missing'));
      return;
    }
    if (!isTotpCode(code)) {
      setError(t('login.error.totp_format'));
      return;
    }
    const problem = precheck?.() ?? null;
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    setError(null);
    const result = await onSubmit(login.trim(), password, code);
    setBusy(false);
    if (result !== null) {
      setError(result);
      setTotp('');
    }
  };

  const demoLogins = demoStaff.map((account) => account.login);
  return (
    <form className="credentials" data-testid={`${prefix}-form`} onSubmit={submit} noValidate>
      <Field label={t('login.user')} htmlFor={`${id}-user`}>
        <input
          id={`${id}-user`}
          data-testid={`${prefix}-user`}
          autoComplete="username"
          value={login}
          readOnly={fixedLogin !== undefined}
          autoFocus={autoFocus && !loginGiven}
          onChange={(event) => setLogin(event.target.value)}
        />
      </Field>
      <Field label={t('login.password')} htmlFor={`${id}-password`}>
        <input
          id={`${id}-password`}
          data-testid={`${prefix}-password`}
          type="password"
          autoComplete="current-password"
          value={password}
          autoFocus={autoFocus && loginGiven}
          onChange={(event) => setPassword(event.target.value)}
        />
      </Field>
      <Field label={t('login.totp')} htmlFor={`${id}-totp`} hint={t('login.totp.hint')}>
        <div className="inline">
          <input
            id={`${id}-totp`}
            data-testid={`${prefix}-totp`}
            className="input--code"
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            value={totp}
            onChange={(event) => setTotp(event.target.value.replace(/[^0-9]/g, ''))}
          />
          {demoStaff.length > 0 && (fixedLogin === undefined || demoLogins.includes(fixedLogin)) ? (
            <button type="button" className="button button--secondary" data-testid={`${prefix}-demo-code`} onClick={() => void fillDemo(undefined)}>
              {t('login.demo.code')}
            </button>
          ) : null}
        </div>
      </Field>
      {children}
      {error !== null ? <Alert testId={`${prefix}-error`}>{error}</Alert> : null}
      <button type="submit" className="button button--primary" data-testid={submitTestId ?? `${prefix}-submit`} disabled={busy}>
        {busy ? t('common.working') : submitLabel}
      </button>
      {demoStaff.length > 0 && fixedLogin === undefined ? (
        <section className="demo" aria-labelledby={`${id}-demo`}>
          <h3 id={`${id}-demo`}>{t('login.demo.title')}</h3>
          <p>{t('login.demo.explain')}</p>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('login.user')}</th>
                <th scope="col">{t('login.demo.role')}</th>
                <th scope="col">{t('login.password')}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {demoStaff.map((account) => (
                <tr key={account.login}>
                  <td>{account.login}</td>
                  <td>{roleName(t, account.role)}</td>
                  <td>
                    <code>{account.password}</code>
                  </td>
                  <td>
                    <button type="button" className="button button--secondary" data-testid={`demo-use-${account.login}`} onClick={() => void fillDemo(account)}>
                      {t('login.demo.use')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </form>
  );
}

/** A role's name in the UI language (the code itself when unknown). */
export function roleName(t: ReturnType<typeof useI18n>['t'], role: string): string {
  const key = `role.${role}`;
  return hasMessage(key) ? t(key) : role;
}
