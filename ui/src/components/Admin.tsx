// Administration: staff accounts (list, add with an enrolment code shown once,
// unlock, deactivate with a reason) and the town's settings, on two tabs. The
// administrator never sets a password: the person enrols at first login.
import { type FormEvent, useCallback, useEffect, useState } from 'react';

import { type CounterApi, type Role, ROLES, type StaffAccount, type StaffInvitation } from '../api';
import { useI18n } from '../I18nContext';
import { errorText, hallTime, type Translate } from '../i18n';
import { isStaffLogin } from '../logic/credentials';
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
  const [invitation, setInvitation] = useState<StaffInvitation | null>(null);
  const [deactivating, setDeactivating] = useState<string | null>(null);
  const [reason, setReason] = useState('');

  const load = useCallback(async () => {
    const outcome = await api.staff();
    if (outcome.ok) setStaff(outcome.body.staff ?? []);
    else setMessage({ tone: 'error', text: errorText(t, outcome.code, outcome.message) });
  }, [api, t]);

  useEffect(() => {
    void load();
    // Loaded once; the language switch does not reload.
  }, [api]);

  /** Adds a member of staff; answers whether it was done (the form then clears). */
  const add = async (login: string, role: Role): Promise<boolean> => {
    setInvitation(null);
    if (!isStaffLogin(login)) {
      setMessage({ tone: 'error', text: t('admin.problem.login') });
      return false;
    }
    const outcome = await api.addStaff(login, role);
    if (!outcome.ok) {
      setMessage({ tone: 'error', text: errorText(t, outcome.code, outcome.message) });
      return false;
    }
    setMessage(null);
    setInvitation(outcome.body);
    await load();
    return true;
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
      {invitation !== null ? <InvitationCode invitation={invitation} onHide={() => setInvitation(null)} /> : null}
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
                <td data-testid="staff-state">{accountState(t, account)}</td>
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
      <AddStaffForm onAdd={add} />
    </div>
  );
}

/** The state of an account as the list shows it. */
function accountState(t: Translate, account: StaffAccount): string {
  if (account.active === false) return t('admin.state.inactive');
  if (account.pending === true) return t('admin.state.pending');
  if (account.locked === true) return t('admin.state.locked');
  return t('admin.state.active');
}

/** The enrolment code of a member of staff just added, shown this once to hand over. */
function InvitationCode({ invitation, onHide }: { readonly invitation: StaffInvitation; readonly onHide: () => void }) {
  const { t } = useI18n();
  return (
    <Alert tone="warn" testId="staff-invitation">
      <p>{t('admin.invited', { login: invitation.login, role: roleName(t, invitation.role) })}</p>
      <p>
        {t('admin.invitation.code')}: <code className="mono secret secret--large" data-testid="staff-enrolment-code">{invitation.enrolment_code}</code>
      </p>
      <p data-testid="staff-enrolment-expires">{t('admin.invitation.expires', { expires: hallTime(invitation.expires_at) })}</p>
      <p>
        <strong>{t('admin.invitation.handover', { login: invitation.login })}</strong>
      </p>
      <p>{t('admin.invitation.once')}</p>
      <button type="button" className="button button--secondary" onClick={onHide}>
        {t('admin.invitation.hide')}
      </button>
    </Alert>
  );
}

/** Adds a member of staff by login and role; no password (they set it at first login). */
function AddStaffForm({ onAdd }: { readonly onAdd: (login: string, role: Role) => Promise<boolean> }) {
  const { t } = useI18n();
  const [login, setLogin] = useState('');
  const [role, setRole] = useState<Role>('clerk');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const added = await onAdd(login.trim(), role);
    setBusy(false);
    if (added) {
      setLogin('');
      setRole('clerk');
    }
  };

  return (
    <form className="card" onSubmit={(event) => void submit(event)} aria-labelledby="enrol-title" noValidate>
      <h3 id="enrol-title">{t('admin.enrol')}</h3>
      <p>{t('admin.enrol.explain')}</p>
      <Field label={t('login.user')} htmlFor="enrol-login" hint={t('admin.login.hint')}>
        <input id="enrol-login" data-testid="enrol-login" autoFocus value={login} onChange={(event) => setLogin(event.target.value)} />
      </Field>
      <Field label={t('login.demo.role')} htmlFor="enrol-role">
        <select id="enrol-role" data-testid="enrol-role" value={role} onChange={(event) => setRole(event.target.value as Role)}>
          {ROLES.map((choice) => (
            <option key={choice} value={choice}>
              {roleName(t, choice)}
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" className="button button--primary" data-testid="enrol-submit" disabled={busy}>
        {busy ? t('common.working') : t('admin.enrol.submit')}
      </button>
    </form>
  );
}
