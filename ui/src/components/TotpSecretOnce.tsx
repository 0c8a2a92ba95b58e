// The TOTP secret of a fresh enrolment, shown this once: the secret in groups of
// four and its otpauth URI, to be registered in the authenticator app right away.
import { useEffect, useRef } from 'react';

import type { Enrolled } from '../api';
import { useI18n } from '../I18nContext';
import { secretGroups } from '../logic/credentials';

export interface TotpSecretOnceProps {
  readonly enrolled: Enrolled;
  /** The test ID of the box. */
  readonly testId: string;
  /** The test ID of its button back to the login form. */
  readonly doneTestId: string;
  /** Back to the login form, with the login filled in. */
  readonly onDone: (login: string) => void;
}

export function TotpSecretOnce({ enrolled, testId, doneTestId, onDone }: TotpSecretOnceProps) {
  const { t } = useI18n();
  const box = useRef<HTMLElement>(null);
  // The form that asked is gone: the focus comes here, not onto the button that ends it.
  useEffect(() => box.current?.focus(), []);
  return (
    <section ref={box} tabIndex={-1} className="alert alert--warn" role="status" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <h3 id={`${testId}-title`}>{t('totp.title')}</h3>
      <p>
        <strong>{t('totp.once')}</strong>
      </p>
      <p>{t('totp.login', { login: enrolled.login })}</p>
      <p>
        {t('totp.secret')}: <code className="mono secret secret--large">{secretGroups(enrolled.totp_secret)}</code>
      </p>
      <p>
        {t('totp.uri')}: <code className="mono secret">{enrolled.otpauth_uri}</code>
      </p>
      <p>{t('totp.next')}</p>
      <div className="actions">
        <button type="button" className="button button--primary" data-testid={doneTestId} onClick={() => onDone(enrolled.login)}>
          {t('totp.done')}
        </button>
      </div>
    </section>
  );
}
