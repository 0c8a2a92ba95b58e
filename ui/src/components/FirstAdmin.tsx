// The first start of an embedded terminal with no staff: its first administrator is
// created here (the `enrol_first_admin` command), who then adds everyone else.
import { type FormEvent, useId, useState } from 'react';

import type { Enrolled } from '../api';
import { useI18n } from '../I18nContext';
import { errorText } from '../i18n';
import { enrolFirstAdmin, ipcFailureOf } from '../ipc';
import { isStaffLogin, newPasswordProblem } from '../logic/credentials';
import { Alert, Field } from './common';
import { NewPasswordFields, newPasswordProblemText } from './NewPasswordFields';
import { TotpSecretOnce } from './TotpSecretOnce';

export interface FirstAdminProps {
  /** Creates the administrator (the Tauri command unless a test says otherwise). */
  readonly enrol?: (login: string, password: string) => Promise<Enrolled>;
  /** On to the login form: with the new administrator's login, or none when staff already existed. */
  readonly onDone: (login?: string) => void;
}

export function FirstAdmin({ enrol = enrolFirstAdmin, onDone }: FirstAdminProps) {
  const { t } = useI18n();
  const id = useId();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<{ readonly code?: string; readonly text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [enrolled, setEnrolled] = useState<Enrolled | null>(null);

  if (enrolled !== null) return <TotpSecretOnce enrolled={enrolled} testId="first-admin-secret" doneTestId="first-admin-done" onDone={onDone} />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!isStaffLogin(login.trim())) return setProblem({ text: t('admin.problem.login') });
    const weak = newPasswordProblem(password, repeat);
    if (weak !== null) return setProblem({ text: newPasswordProblemText(t, weak) });
    setBusy(true);
    setProblem(null);
    try {
      setEnrolled(await enrol(login.trim(), password));
    } catch (error) {
      const failure = ipcFailureOf(error);
      setProblem({ code: failure.code, text: errorText(t, failure.code, failure.message) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="credentials" data-testid="first-admin-form" aria-labelledby={`${id}-title`} onSubmit={(event) => void submit(event)} noValidate>
      <h2 id={`${id}-title`}>{t('first_admin.title')}</h2>
      <p>{t('first_admin.explain')}</p>
      <Field label={t('login.user')} htmlFor={`${id}-login`} hint={t('admin.login.hint')}>
        <input id={`${id}-login`} data-testid="first-admin-login" autoComplete="username" autoFocus value={login} onChange={(event) => setLogin(event.target.value)} />
      </Field>
      <NewPasswordFields password={password} repeat={repeat} onPassword={setPassword} onRepeat={setRepeat} testIds={['first-admin-password', 'first-admin-password2']} />
      {problem !== null ? <Alert testId="first-admin-error">{problem.text}</Alert> : null}
      <div className="actions">
        <button type="submit" className="button button--primary" data-testid="first-admin-submit" disabled={busy}>
          {busy ? t('common.working') : t('first_admin.submit')}
        </button>
        {problem?.code === 'not_first' ? (
          <button type="button" className="button button--secondary" data-testid="first-admin-to-login" onClick={() => onDone()}>
            {t('first_admin.to_login')}
          </button>
        ) : null}
      </div>
    </form>
  );
}
