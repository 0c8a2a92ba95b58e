// First login of a new member of staff: their staff ID, the enrolment code an
// administrator handed over, and a password of their own (twice); the answer is
// their TOTP secret, shown this once.
import { type FormEvent, useId, useState } from 'react';

import type { CounterApi, Enrolled } from '../api';
import { useI18n } from '../I18nContext';
import { errorText } from '../i18n';
import { newPasswordProblem, normalizeEnrolmentCode } from '../logic/credentials';
import { Alert, Field } from './common';
import { NewPasswordFields, newPasswordProblemText } from './NewPasswordFields';
import { TotpSecretOnce } from './TotpSecretOnce';

export interface StaffEnrolmentProps {
  readonly api: Pick<CounterApi, 'enrol'>;
  /** Back to the login form: with the enrolled login filled in, or none when cancelled. */
  readonly onBack: (login?: string) => void;
}

export function StaffEnrolment({ api, onBack }: StaffEnrolmentProps) {
  const { t } = useI18n();
  const id = useId();
  const [login, setLogin] = useState('');
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [enrolled, setEnrolled] = useState<Enrolled | null>(null);

  if (enrolled !== null) return <TotpSecretOnce enrolled={enrolled} testId="enrol-secret" doneTestId="enrol-done" onDone={onBack} />;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (login.trim() === '' || code.trim() === '') return setProblem(t('enrol.problem.missing'));
    const weak = newPasswordProblem(password, repeat);
    if (weak !== null) return setProblem(newPasswordProblemText(t, weak));
    setBusy(true);
    setProblem(null);
    const outcome = await api.enrol(login.trim(), normalizeEnrolmentCode(code), password);
    setBusy(false);
    if (!outcome.ok) return setProblem(errorText(t, outcome.code, outcome.message));
    setEnrolled(outcome.body);
  };

  return (
    <form className="credentials" data-testid="enrol-form" aria-labelledby={`${id}-title`} onSubmit={(event) => void submit(event)} noValidate>
      <h3 id={`${id}-title`}>{t('enrol.title')}</h3>
      <p>{t('enrol.explain')}</p>
      <Field label={t('login.user')} htmlFor={`${id}-login`}>
        <input id={`${id}-login`} data-testid="enrol-login" autoComplete="username" autoFocus value={login} onChange={(event) => setLogin(event.target.value)} />
      </Field>
      <Field label={t('enrol.code')} htmlFor={`${id}-code`} hint={t('enrol.code.hint')}>
        <input id={`${id}-code`} data-testid="enrol-code" className="mono" autoComplete="off" autoCapitalize="characters" spellCheck={false} value={code} onChange={(event) => setCode(event.target.value)} />
      </Field>
      <NewPasswordFields password={password} repeat={repeat} onPassword={setPassword} onRepeat={setRepeat} testIds={['enrol-password', 'enrol-password2']} />
      {problem !== null ? <Alert testId="enrol-error">{problem}</Alert> : null}
      <div className="actions">
        <button type="submit" className="button button--primary" data-testid="enrol-submit" disabled={busy}>
          {busy ? t('common.working') : t('enrol.submit')}
        </button>
        <button type="button" className="button button--secondary" data-testid="enrol-cancel" onClick={() => onBack()}>
          {t('enrol.back')}
        </button>
      </div>
    </form>
  );
}
