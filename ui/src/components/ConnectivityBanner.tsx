// The offline banner of a server-mode terminal: polls `connectivity` and, while the
// server cannot be reached, says so unmistakably, with how old the replica is,
// what is not yet synced and why issuing would be refused.
import { useEffect, useState } from 'react';

import { useI18n } from '../I18nContext';
import { type Connectivity, connectivity } from '../ipc';

/** How often the shell is asked (it probes the server every 2 s itself). */
const POLL_MS = 2000;

function age(secs: number | null): string {
  if (secs === null) return '—';
  const minutes = Math.floor(Math.max(0, secs) / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
}

export function ConnectivityBanner({ load = connectivity }: { load?: () => Promise<Connectivity | null> }) {
  const { t, locale } = useI18n();
  const [state, setState] = useState<Connectivity | null>(null);
  useEffect(() => {
    let alive = true;
    const poll = () => {
      load()
        .then((c) => alive && setState(c))
        .catch(() => undefined);
    };
    poll();
    const timer = setInterval(poll, POLL_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [load]);
  if (state === null) return null;
  const replica = state.replica;
  if (state.online) {
    if (replica === null || replica.unsynced_issuances === 0) return null;
    return (
      <p role="status" className="offline offline--pending" data-testid="offline-pending">
        {t('offline.pending', { unsynced: String(replica.unsynced_issuances) })}
      </p>
    );
  }
  return (
    <div role="alert" className="offline" data-testid="offline-banner">
      <p className="offline__title">{t('offline.banner', { since: new Date(state.since).toLocaleTimeString(locale === 'ja' ? 'ja-JP' : 'en-GB') })}</p>
      {replica === null ? (
        <p>{t('offline.locked')}</p>
      ) : (
        <>
          <p data-testid="offline-age">
            {t('offline.age', {
              age: age(replica.replica_age_secs),
              seq: String(replica.replica_seq ?? '—'),
              unsynced: String(replica.unsynced_issuances),
              left: String(replica.numbers_left),
            })}
          </p>
          {replica.refusal ? <p className="offline__refusal">{t('offline.refusal', { reason: replica.refusal })}</p> : null}
        </>
      )}
    </div>
  );
}
