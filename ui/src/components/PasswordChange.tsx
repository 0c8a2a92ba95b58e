// A member of staff changes their own password: the current one, the new one twice.
import { type FormEvent, useState } from 'react';

import type { CounterApi } from '../api';
import { useI18n } from '../I18nContext';
import { errorText } from '../i18n';
import { newPasswordProblem } from '../logic/credentials';
import { Alert, Field } from './common';
import { NewPasswordFields, newPasswordProblemText } from './NewPasswordFields';

/** The form, shown from the header; `onClose` hides it (after a change, or on cancel). */
export function PasswordChange({ api, onClose }: { readonly api: CounterApi; readonly onClose: (changed: boolean) => void }) {
  const { t } = useI18n();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const weak = newPasswordProblem(next, repeat);
    if (weak !== null) return setProblem(newPasswordProblemText(t, weak));
    setBusy(true);
    const outcome = await api.changePassword(current, next);
    setBusy(false);
    if (!outcome.ok) return setProblem(errorText(t, outcome.code, outcome.message));
    onClose(true);
  };

  return (
    <section className="card password-change" aria-label={t('password.title')} data-testid="password-change">
      <h3>{t('password.title')}</h3>
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Field label={t('password.current')} htmlFor="password-current">
          <input id="password-current" data-testid="password-current" type="password" autoComplete="current-password" value={current} onChange={(event) => setCurrent(event.target.value)} />
        </Field>
        <NewPasswordFields password={next} repeat={repeat} onPassword={setNext} onRepeat={setRepeat} testIds={['password-new', 'password-repeat']} />
        {problem !== null ? <Alert testId="password-error">{problem}</Alert> : null}
        <div className="actions">
          <button type="submit" className="button button--primary" data-testid="password-submit" disabled={busy}>
            {t('password.submit')}
          </button>
          <button type="button" className="button button--secondary" data-testid="password-cancel" onClick={() => onClose(false)}>
            {t('password.cancel')}
          </button>
        </div>
      </form>
    </section>
  );
}
