// A new password typed twice, with the least length as a hint; the rule itself is
// logic/credentials.ts's, and the words for a problem are the same on every form.
import { useId } from 'react';

import type { Translate } from '../i18n';
import { useI18n } from '../I18nContext';
import { MIN_PASSWORD_CHARS, type NewPasswordProblem } from '../logic/credentials';
import { Field } from './common';

/** The words for what is wrong with a new password typed twice. */
export function newPasswordProblemText(t: Translate, problem: NewPasswordProblem): string {
  return problem === 'short' ? t('password.problem.short', { min: String(MIN_PASSWORD_CHARS) }) : t('password.problem.repeat');
}

export interface NewPasswordFieldsProps {
  readonly password: string;
  readonly repeat: string;
  readonly onPassword: (value: string) => void;
  readonly onRepeat: (value: string) => void;
  /** The test IDs of the first and the second field. */
  readonly testIds: readonly [string, string];
}

export function NewPasswordFields({ password, repeat, onPassword, onRepeat, testIds }: NewPasswordFieldsProps) {
  const { t } = useI18n();
  const id = useId();
  return (
    <>
      <Field label={t('password.new')} htmlFor={`${id}-new`} hint={t('password.hint', { min: String(MIN_PASSWORD_CHARS) })}>
        <input id={`${id}-new`} data-testid={testIds[0]} type="password" autoComplete="new-password" value={password} onChange={(event) => onPassword(event.target.value)} />
      </Field>
      <Field label={t('password.repeat')} htmlFor={`${id}-repeat`}>
        <input id={`${id}-repeat`} data-testid={testIds[1]} type="password" autoComplete="new-password" value={repeat} onChange={(event) => onRepeat(event.target.value)} />
      </Field>
    </>
  );
}
