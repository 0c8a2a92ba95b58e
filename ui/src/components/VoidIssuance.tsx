// The supervisor's void: find the issuance by what is on paper (a 発行番号 printed on a
// copy, or the receipt number), choose it, give the reason. The internal issuance ID is
// what the void names, shown small for the record, never typed.
import { useEffect, useRef, useState } from 'react';

import type { CounterApi, FoundIssuance } from '../api';
import { useI18n } from '../I18nContext';
import { errorText, hallTime, hasMessage, type Translate, yen } from '../i18n';
import { Alert, Field } from './common';

type Search =
  | { readonly kind: 'idle' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'failed'; readonly text: string }
  | { readonly kind: 'found'; readonly query: string; readonly issuances: readonly FoundIssuance[] };

/** How an issuance is named to a person: its 発行番号s, else its receipt, else its kind. */
function nameOf(t: Translate, issuance: FoundIssuance): string {
  if (issuance.issue_numbers.length > 0) return issuance.issue_numbers.join(' / ');
  return issuance.receipt_no ?? kindLabel(t, issuance.kind);
}

function kindLabel(t: Translate, kind: string): string {
  const key = `cert.short.${kind}`;
  return hasMessage(key) ? t(key) : kind;
}

/** Who issued it: the member of staff, else the channel (a kiosk has none). */
function issuerOf(t: Translate, issuance: FoundIssuance): string {
  if (issuance.staff !== '') return issuance.staff;
  const key = `channel.${issuance.channel}`;
  return hasMessage(key) ? t(key) : issuance.channel;
}

export function VoidForm({ api, onVoided }: { readonly api: CounterApi; readonly onVoided: () => void }) {
  const { t, locale } = useI18n();
  const [text, setText] = useState('');
  const [search, setSearch] = useState<Search>({ kind: 'idle' });
  const [chosen, setChosen] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [voiding, setVoiding] = useState(false);
  const [result, setResult] = useState<{ readonly tone: 'ok' | 'error'; readonly text: string } | null>(null);
  const findRef = useRef<HTMLInputElement>(null);
  const reasonRef = useRef<HTMLInputElement>(null);
  // Only the latest search's answer is shown.
  const searchSeq = useRef(0);

  useEffect(() => {
    if (chosen !== null) reasonRef.current?.focus();
  }, [chosen]);

  const found = search.kind === 'found' ? search.issuances : [];
  const target = found.find((issuance) => issuance.issuance_id === chosen && !issuance.voided) ?? null;

  // The text is tried as a 発行番号 first, then, when nothing has it, as a receipt number.
  const find = async () => {
    const wanted = text.trim();
    setChosen(null);
    setReason('');
    setResult(null);
    if (wanted === '') {
      setSearch({ kind: 'failed', text: t('void.find.problem') });
      findRef.current?.focus();
      return;
    }
    const seq = ++searchSeq.current;
    setSearch({ kind: 'busy' });
    let outcome = await api.findIssuances({ number: wanted });
    if (outcome.ok && outcome.body.issuances.length === 0 && seq === searchSeq.current) outcome = await api.findIssuances({ receipt: wanted });
    if (seq !== searchSeq.current) return;
    if (outcome.ok) setSearch({ kind: 'found', query: wanted, issuances: outcome.body.issuances });
    else setSearch({ kind: 'failed', text: errorText(t, outcome.code, outcome.message) });
  };

  const voidChosen = async () => {
    if (target === null || voiding) return;
    if (reason.trim() === '') {
      setResult({ tone: 'error', text: t('void.problem') });
      reasonRef.current?.focus();
      return;
    }
    setVoiding(true);
    setResult(null);
    const outcome = await api.voidIssuance(target.issuance_id, reason.trim());
    setVoiding(false);
    if (!outcome.ok) {
      setResult({ tone: 'error', text: errorText(t, outcome.code, outcome.message) });
      return;
    }
    setSearch((current) =>
      current.kind === 'found'
        ? { ...current, issuances: current.issuances.map((issuance) => (issuance.issuance_id === target.issuance_id ? { ...issuance, voided: true } : issuance)) }
        : current,
    );
    setChosen(null);
    setReason('');
    setResult({ tone: 'ok', text: t('void.done', { number: nameOf(t, target) }) });
    findRef.current?.focus();
    onVoided();
  };

  return (
    <section className="card" aria-labelledby="void-title" data-testid="void-form">
      <h3 id="void-title">{t('void.title')}</h3>
      <p>{t('void.explain')}</p>
      <form
        className="inline"
        role="search"
        aria-label={t('void.find.label')}
        onSubmit={(event) => {
          event.preventDefault();
          void find();
        }}
      >
        <Field label={t('void.find.label')} htmlFor="find-number" hint={t('void.find.hint')}>
          <input id="find-number" data-testid="find-number" ref={findRef} autoComplete="off" value={text} onChange={(event) => setText(event.target.value)} />
        </Field>
        <button type="submit" className="button button--secondary" data-testid="find-submit" disabled={search.kind === 'busy'}>
          {t('void.find.submit')}
        </button>
      </form>
      <div aria-live="polite">
        {search.kind === 'busy' ? <p role="status">{t('common.working')}</p> : null}
        {search.kind === 'failed' ? <Alert testId="find-message">{search.text}</Alert> : null}
        {search.kind === 'found' && found.length === 0 ? (
          <Alert tone="info" testId="find-message">
            {t('void.find.none', { query: search.query })}
          </Alert>
        ) : null}
      </div>
      {found.length > 0 ? (
        <div className="table-wrap">
          <table className="table" data-testid="found-issuances">
            <caption>{t('void.found.count', { count: String(found.length) })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('void.col.numbers')}</th>
                <th scope="col">{t('void.col.kind')}</th>
                <th scope="col">{t('void.col.subject')}</th>
                <th scope="col">{t('void.col.staff')}</th>
                <th scope="col">{t('void.col.issued_at')}</th>
                <th scope="col">{t('void.col.fee')}</th>
                <th scope="col">{t('void.col.receipt')}</th>
                <th scope="col">{t('void.col.state')}</th>
              </tr>
            </thead>
            <tbody>
              {found.map((issuance) => (
                <tr
                  key={issuance.issuance_id}
                  data-testid="found-issuance"
                  data-voided={issuance.voided ? 'true' : 'false'}
                  className={issuance.issuance_id === chosen ? 'is-selected' : undefined}
                >
                  <td className="mono">
                    {issuance.issue_numbers.length === 0
                      ? '—'
                      : issuance.issue_numbers.map((number) => (
                          <span key={number} className="found__number">
                            {number}
                            <br />
                          </span>
                        ))}
                    <small className="found__id" data-testid="found-id">
                      {t('void.internal_id', { id: issuance.issuance_id })}
                    </small>
                  </td>
                  <td>{kindLabel(t, issuance.kind)}</td>
                  <td className="mono">{issuance.subject_id}</td>
                  <td>
                    {issuerOf(t, issuance)}
                    {issuance.point !== '' ? <small className="found__id">{issuance.point}</small> : null}
                  </td>
                  <td>{hallTime(issuance.issued_at)}</td>
                  <td>{yen(locale, issuance.fee_yen)}</td>
                  <td className="mono">{issuance.receipt_no ?? '—'}</td>
                  <td>
                    {issuance.voided ? (
                      <span className="badge badge--voided" data-testid="found-voided">
                        {t('void.voided')}
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="button button--small"
                        data-testid="found-choose"
                        aria-pressed={issuance.issuance_id === chosen}
                        aria-label={t('void.choose.label', { number: nameOf(t, issuance) })}
                        onClick={() => {
                          setResult(null);
                          setReason('');
                          setChosen(issuance.issuance_id);
                        }}
                      >
                        {t('void.choose')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {target !== null ? (
        <form
          aria-labelledby="void-chosen"
          onSubmit={(event) => {
            event.preventDefault();
            void voidChosen();
          }}
          onKeyDown={(event) => {
            if (event.key === 'Escape') {
              setChosen(null);
              setResult(null);
              findRef.current?.focus();
            }
          }}
        >
          <p id="void-chosen" data-testid="void-chosen">
            {t('void.chosen', { number: nameOf(t, target), kind: kindLabel(t, target.kind) })}
          </p>
          <Field label={t('void.reason')} htmlFor="void-reason">
            <input id="void-reason" data-testid="void-reason" ref={reasonRef} value={reason} onChange={(event) => setReason(event.target.value)} />
          </Field>
          <div className="inline">
            <button type="submit" className="button button--danger" data-testid="void-submit" disabled={voiding}>
              {voiding ? t('common.working') : t('void.submit')}
            </button>
            <button
              type="button"
              className="button button--secondary"
              data-testid="void-cancel"
              onClick={() => {
                setChosen(null);
                setResult(null);
                findRef.current?.focus();
              }}
            >
              {t('void.cancel')}
            </button>
          </div>
        </form>
      ) : null}
      {result !== null ? (
        <Alert tone={result.tone} testId="void-result">
          {result.text}
        </Alert>
      ) : null}
    </section>
  );
}
