// Administration: staff accounts (list, enrol with the TOTP secret shown once,
// unlock, deactivate with a reason) and the town's settings, on two tabs.
import { type FormEvent, useCallback, useEffect, useState } from 'react';

import { type CounterApi, type Enrolled, type Role, ROLES, type StaffAccount } from '../api';
import { useI18n } from '../I18nContext';
import { errorText, hallTime } from '../i18n';
import { Alert, Field } from './common';
import { roleName } from './CredentialsForm';
import { TownSettings } from './TownSettings';

export function Admin({ api }: { readonly api: CounterApi }) {
  const { t } = useI18n();
  const [tab, setTab] = useState<'staff' | 'settings'>('staff');
  const tabs = (['staff', 'settings'] as const).map((name) => (
    <button
      key={name}
      type="button"
      role="tab"
      id={`admin-tab-${name}`}
      aria-selected={tab === name}
      aria-controls="admin-panel"
      className={`button ${tab === name ? 'button--primary' : 'button--secondary'}`}
      data-testid={`admin-tab-${name}`}
      onClick={() => setTab(name)}
    >
      {t(`admin.tab.${name}`)}
    </button>
  ));
  return (
    <div className="flow">
      <div role="tablist" className="inline" aria-label={t('admin.title')}>
        {tabs}
      </div>
      <div role="tabpanel" id="admin-panel" aria-labelledby={`admin-tab-${tab}`}>
        {tab === 'staff' ? <StaffAccounts api={api} /> : <TownSettings api={api} />}
      </div>
    </div>
  );
}

function StaffAccounts({ api }: { readonly api: CounterApi }) {
  const { t } = useI18n();
  const [staff, setStaff] = useState<readonly StaffAccount[] | null>(null);
  const [message, setMessage] = useState<{ readonly tone: 'ok' | 'error'; readonly text: string } | null>(null);
  const [enrolled, setEnrolled] = useState<Enrolled | null>(null);
  const [deactivating, setDeactivating] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [form, setForm] = useState<{ login: string; role: Role; password: string }>({ login: '', role: 'clerk', password: '' });

  const load = useCallback(async () => {
    const outcome = await api.staff();
    if (outcome.ok) setStaff(outcome.body.staff ?? []);
    else setMessage({ tone: 'error', text: errorText(t, outcome.code, outcome.message) });
  }, [api, t]);

  useEffect(() => {
    void load();
    // Loaded once; the language switch does not reload.
  }, [api]);

  const enrol = async (event: FormEvent) => {
    event.preventDefault();
    setEnrolled(null);
    if (!/^[a-z0-9._-]{1,64}$/.test(form.login)) return setMessage({ tone: 'error', text: t('admin.problem.login') });
    if (form.password.length < 12) return setMessage({ tone: 'error', text: t('admin.problem.password') });
    const outcome = await api.enrol(form.login, form.role, form.password);
    if (!outcome.ok) return setMessage({ tone: 'error', text: errorText(t, outcome.code, outcome.message) });
    setEnrolled(outcome.body);
    setMessage({ tone: 'ok', text: t('admin.enrolled', { login: outcome.body.login }) });
    setForm({ login: '', role: 'clerk', password: '' });
    await load();
  };

  const unlock = async (login: string) => {
    const outcome = await api.unlock(login);
    setMessage(outcome.ok ? { tone: 'ok', text: t('admin.unlocked', { login }) } : { tone: 'error', text: errorText(t, outcome.code, outcome.message) });
    await load();
  };

  const deactivate = async (event: FormEvent) => {
    event.preventDefault();
    if (deactivating === null) return;
    if (reason.trim() === '') return setMessage({ tone: 'error', text: t('admin.problem.reason') });
    const outcome = await api.deactivate(deactivating, reason.trim());
    setMessage(outcome.ok ? { tone: 'ok', text: t('admin.deactivated', { login: deactivating }) } : { tone: 'error', text: errorText(t, outcome.code, outcome.message) });
    if (outcome.ok) {
      setDeactivating(null);
      setReason('');
    }
    await load();
  };

  return (
    <div className="flow">
      <h2>{t('admin.title')}</h2>
      {message !== null ? (
        <Alert tone={message.tone} testId="admin-message">
          {message.text}
        </Alert>
      ) : null}
      {enrolled !== null ? (
        <Alert tone="warn" testId="admin-secret">
          <p>{t('admin.secret.once')}</p>
          <p>
            {t('admin.secret')}: <code className="mono secret">{enrolled.totp_secret}</code>
          </p>
          <p>
            {t('admin.uri')}: <code className="mono secret">{enrolled.otpauth_uri}</code>
          </p>
          <button type="button" className="button button--secondary" onClick={() => setEnrolled(null)}>
            {t('admin.secret.hide')}
          </button>
        </Alert>
      ) : null}
      <div className="table-wrap">
        <table className="table" data-testid="staff-list">
          <caption>{t('admin.list')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('login.user')}</th>
              <th scope="col">{t('login.demo.role')}</th>
              <th scope="col">{t('admin.state')}</th>
              <th scope="col">{t('admin.failed')}</th>
              <th scope="col">{t('admin.created')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {(staff ?? []).map((account) => (
              <tr key={account.login} data-testid="staff-row" data-login={account.login}>
                <td>{account.login}</td>
                <td>{roleName(t, account.role)}</td>
                <td>
                  {account.active === false ? t('admin.state.inactive') : account.locked ? t('admin.state.locked') : t('admin.state.active')}
                </td>
                <td>{account.failed_attempts ?? 0}</td>
                <td>{hallTime(account.created_at ?? '')}</td>
                <td className="row-actions">
                  {account.locked && account.active !== false ? (
                    <button type="button" className="button button--small" data-testid={`unlock-${account.login}`} onClick={() => void unlock(account.login)}>
                      {t('admin.unlock')}
                    </button>
                  ) : null}
                  {account.active !== false ? (
                    <button type="button" className="button button--small button--danger" data-testid={`deactivate-${account.login}`} onClick={() => setDeactivating(account.login)}>
                      {t('admin.deactivate')}
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {deactivating !== null ? (
        <form className="card" onSubmit={deactivate}>
          <h3>{t('admin.deactivate.title', { login: deactivating })}</h3>
          <Field label={t('admin.reason')} htmlFor="deactivate-reason">
            <input id="deactivate-reason" data-testid="deactivate-reason" autoFocus value={reason} onChange={(event) => setReason(event.target.value)} />
          </Field>
          <div className="actions">
            <button type="button" className="button button--secondary" onClick={() => setDeactivating(null)}>
              {t('common.cancel')}
            </button>
            <button type="submit" className="button button--danger" data-testid="deactivate-submit">
              {t('admin.deactivate')}
            </button>
          </div>
        </form>
      ) : null}
      <form className="card" onSubmit={enrol} aria-labelledby="enrol-title">
        <h3 id="enrol-title">{t('admin.enrol')}</h3>
        <Field label={t('login.user')} htmlFor="enrol-login" hint={t('admin.login.hint')}>
          <input id="enrol-login" data-testid="enrol-login" autoFocus value={form.login} onChange={(event) => setForm({ ...form, login: event.target.value })} />
        </Field>
        <Field label={t('login.demo.role')} htmlFor="enrol-role">
          <select id="enrol-role" data-testid="enrol-role" value={form.role} onChange={(event) => setForm({ ...form, role: event.target.value as Role })}>
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {roleName(t, role)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('login.password')} htmlFor="enrol-password" hint={t('admin.password.hint')}>
          <input id="enrol-password" data-testid="enrol-password" type="password" autoComplete="new-password" value={form.password} onChange={(event) => setForm({ ...form, password: event.target.value })} />
        </Field>
        <button type="submit" className="button button--primary" data-testid="enrol-submit">
          {t('admin.enrol.submit')}
        </button>
      </form>
    </div>
  );
}
