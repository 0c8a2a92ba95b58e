// The supervisor's review of offline work: per terminal, what was issued while the
// server could not be reached, by whom, and the issuances flagged because their
// subject's data changed meanwhile, each resolved once with a note.
import { useEffect, useState } from 'react';

import type { CounterApi, FlagResolution, OfflineReview as Review } from '../api';
import { useI18n } from '../I18nContext';
import { errorText } from '../i18n';
import { Alert } from './common';

const RESOLUTIONS: readonly FlagResolution[] = ['confirmed_valid', 'recalled', 'voided'];

export function OfflineReview({ api }: { readonly api: CounterApi }) {
  const { t } = useI18n();
  const [review, setReview] = useState<Review | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const [notes, setNotes] = useState<Record<string, string>>({});
  useEffect(() => {
    let gone = false;
    void api.offlineReview().then((outcome) => {
      if (gone) return;
      if (outcome.ok) setReview(outcome.body);
      else setError(errorText(t, outcome.code, outcome.message));
    });
    return () => {
      gone = true;
    };
    // A language switch does not reload the review.
  }, [api, reload]);
  const resolve = async (flagId: string, resolution: FlagResolution) => {
    const outcome = await api.resolveFlag(flagId, resolution, notes[flagId] ?? '');
    if (outcome.ok) setReload((n) => n + 1);
    else setError(errorText(t, outcome.code, outcome.message));
  };
  return (
    <section className="card" aria-labelledby="offline-review-title" data-testid="offline-review">
      <h3 id="offline-review-title">{t('offline.review.title')}</h3>
      {error ? <Alert>{error}</Alert> : null}
      {review === null ? null : review.terminals.length === 0 ? (
        <p>{t('offline.review.none')}</p>
      ) : (
        <>
          <p data-testid="offline-open-flags">{t('offline.review.open', { count: String(review.open_flags) })}</p>
          {review.terminals.map((terminal) => (
            <div key={terminal.terminal} className="table-wrap">
              <table className="table">
                <caption>{t('offline.review.terminal', { terminal: terminal.terminal, from: terminal.first_at, to: terminal.last_at })}</caption>
                <thead>
                  <tr>
                    <th>{t('offline.review.at')}</th>
                    <th>{t('offline.review.staff')}</th>
                    <th>{t('offline.review.subject')}</th>
                    <th>{t('offline.review.flag')}</th>
                  </tr>
                </thead>
                <tbody>
                  {terminal.issuances.map((issued) => (
                    <tr key={issued.issuance_id} data-testid="offline-issuance">
                      <td className="mono">{issued.at}</td>
                      <td>{issued.staff}</td>
                      <td className="mono">{issued.subject_id}</td>
                      <td>
                        {issued.flag === null ? (
                          '—'
                        ) : (
                          <div data-testid="offline-flag">
                            <p>{issued.flag.changes.map((c) => `#${String(c.seq)} ${String(c.type)} ${String(c.op)}`).join(', ')}</p>
                            {issued.flag.resolution ? (
                              <p>{t('offline.review.resolved', { resolution: t(`offline.resolution.${issued.flag.resolution.resolution as FlagResolution}`), supervisor: issued.flag.resolution.supervisor })}</p>
                            ) : (
                              <>
                                <input
                                  aria-label={t('offline.review.note')}
                                  value={notes[issued.flag.flag_id] ?? ''}
                                  onChange={(e) => setNotes({ ...notes, [issued.flag!.flag_id]: e.target.value })}
                                />
                                {RESOLUTIONS.map((r) => (
                                  <button key={r} type="button" className="button button--secondary" data-testid={`resolve-${r}`} onClick={() => void resolve(issued.flag!.flag_id, r)}>
                                    {t(`offline.resolution.${r}`)}
                                  </button>
                                ))}
                              </>
                            )}
                          </div>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </>
      )}
    </section>
  );
}
