// The daily close: count the till by denomination against the expected cash,
// then a supervisor signs the day off with their own login and TOTP.
import { useEffect, useState } from 'react';

import type { CounterApi, DayClosed, DayExpected, Staff } from '../api';
import type { AppInfo } from '../appInfo';
import { useI18n } from '../I18nContext';
import { errorText, signedYen, yen } from '../i18n';
import { closeSummary, type CountInput, DENOMINATIONS, type Denomination } from '../logic/cash';
import { Alert } from './common';
import { CredentialsForm } from './CredentialsForm';

export interface DailyCloseProps {
  readonly info: AppInfo;
  readonly api: CounterApi;
  /** The session's staff member (who counts the till). */
  readonly staff: Staff;
  readonly onSessionChange: (staff: Staff) => void;
  /** The approver's session must end and the terminal go back to `login` (the sign-off failed). */
  readonly onHandOver: (login: string, message: string) => void;
  /** The day is sealed: the UI ends the supervisor's session and returns to the login screen. */
  readonly onSealed: (closed: DayClosed) => void;
}

export function DailyClose({ info, api, staff, onSessionChange, onHandOver, onSealed }: DailyCloseProps) {
  const { t, locale } = useI18n();
  const [owner] = useState(staff.login);
  const day = info.today;
  const [expected, setExpected] = useState<DayExpected | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [counts, setCounts] = useState<CountInput>({});

  useEffect(() => {
    let gone = false;
    void api.day(day).then((outcome) => {
      if (gone) return;
      if (outcome.ok) setExpected(outcome.body);
      else setLoadError(errorText(t, outcome.code, outcome.message));
    });
    return () => {
      gone = true;
    };
    // t is left out on purpose: a language switch does not reload the day.
  }, [api, day]);

  const expectedCash = expected?.expected.cash_yen ?? 0;
  const summary = closeSummary(counts, expectedCash);
  const show = (amount: number | null) => (amount === null ? '—' : yen(locale, amount));

  return (
    <div className="flow">
      <h2>{t('close.title', { day })}</h2>
      {loadError !== null ? <Alert>{loadError}</Alert> : null}
      {expected === null && loadError === null ? <p role="status">{t('common.loading')}</p> : null}
      {expected !== null ? (
        <div className="card">
          <dl className="totals">
            <dt>{t('close.cash')}</dt>
            <dd>{yen(locale, expected.expected.cash_yen ?? 0)}</dd>
            <dt>{t('close.cashless')}</dt>
            <dd>{yen(locale, expected.expected.cashless_yen ?? 0)}</dd>
            <dt>{t('close.exempt')}</dt>
            <dd>{expected.expected.exempt ?? 0}</dd>
            <dt>{t('close.issuances')}</dt>
            <dd>{expected.expected.issuances ?? 0}</dd>
            <dt>{t('close.voids')}</dt>
            <dd>{expected.expected.voids ?? 0}</dd>
          </dl>
          <fieldset className="fieldset">
            <legend>{t('close.count')}</legend>
            <div className="denoms">
              {DENOMINATIONS.map((denomination: Denomination, index) => (
                <div key={denomination} className="denom">
                  <label htmlFor={`denom-${denomination}`}>{yen(locale, denomination)}</label>
                  <input
                    id={`denom-${denomination}`}
                    data-testid={`denom-${denomination}`}
                    inputMode="numeric"
                    autoFocus={index === 0}
                    aria-invalid={summary.invalid.includes(denomination)}
                    value={counts[denomination] ?? ''}
                    onChange={(event) => setCounts({ ...counts, [denomination]: event.target.value })}
                  />
                  <span className="denom__unit">{t(denomination >= 1000 ? 'close.unit.note' : 'close.unit.coin')}</span>
                </div>
              ))}
            </div>
          </fieldset>
          <dl className="totals totals--big">
            <dt>{t('close.expected')}</dt>
            <dd data-testid="close-expected">{show(summary.expected)}</dd>
            <dt>{t('close.counted')}</dt>
            <dd data-testid="close-counted">{show(summary.counted)}</dd>
            <dt>{t('close.difference')}</dt>
            <dd data-testid="close-difference" className={summary.difference === 0 ? 'ok' : 'diff'}>
              {summary.difference === null ? '—' : signedYen(locale, summary.difference)}
            </dd>
          </dl>
          {summary.invalid.length > 0 ? <Alert>{t('close.problem.count')}</Alert> : null}
          {summary.difference !== null && summary.difference !== 0 ? <Alert tone="warn">{t('close.difference_note')}</Alert> : null}

          <section className="approve" aria-labelledby="approve-title">
            <h3 id="approve-title">{t('close.approve')}</h3>
            <p>{t('close.approve.explain')}</p>
            <CredentialsForm
              prefix="approve"
              submitTestId="close-submit"
              autoFocus={false}
              demoStaff={info.demo_staff.filter((account) => account.role === 'supervisor')}
              submitLabel={t('close.submit')}
              precheck={() => (summary.counted === null ? t('close.problem.count') : null)}
              onSubmit={async (login, password, totp) => {
                if (summary.counted === null) return t('close.problem.count');
                const answer = await api.login(login, password, totp);
                if (!answer.ok) return errorText(t, answer.code, answer.message);
                // The shell now holds the approver's token. If the sign-off does not
                // happen, the approver's session ends and the terminal goes back to
                // the member of staff who was counting.
                onSessionChange(answer.body.staff);
                const fail = (text: string) => {
                  if (answer.body.staff.login !== owner) onHandOver(owner, text);
                  return text;
                };
                if (answer.body.staff.role !== 'supervisor') return fail(t('close.problem.role'));
                const closed = await api.closeDay(day, summary.counted);
                if (!closed.ok) return fail(errorText(t, closed.code, closed.message));
                onSealed(closed.body);
                return null;
              }}
            />
          </section>
        </div>
      ) : null}
    </div>
  );
}
