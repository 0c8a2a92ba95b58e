// The offline banner of a server-mode terminal: polls `connectivity` and, while the
// server cannot be reached, says so unmistakably, with how old the replica is,
// what is not yet synced and why issuing would be refused.
import { useEffect, useState } from 'react';

import { useI18n } from '../I18nContext';
import { type Connectivity, type CounterReply, connectivity, ipcFailureOf, registerTerminal } from '../ipc';

/** How often the shell is asked (it probes the server every 2 s itself). */
const POLL_MS = 2000;

function age(secs: number | null): string {
  if (secs === null) return '—';
  const minutes = Math.floor(Math.max(0, secs) / 60);
  return minutes >= 60 ? `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
}

/** The enrolment form of a terminal that has not registered its key yet. */
function TerminalEnrolment({ register }: { register: (code: string) => Promise<CounterReply> }) {
  const { t } = useI18n();
  const [code, setCode] = useState('');
  const [outcome, setOutcome] = useState<string | null>(null);
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    register(code.trim())
      .then((reply) => {
        if (reply.status === 200) setOutcome(t('terminal.registered'));
        else {
          const body = reply.body as { error?: { message?: string } } | null;
          setOutcome(t('terminal.failed', { reason: body?.error?.message ?? String(reply.status) }));
        }
      })
      .catch((e: unknown) => setOutcome(t('terminal.failed', { reason: ipcFailureOf(e).message })));
  };
  return (
    <form className="offline offline--pending" data-testid="terminal-enrolment" onSubmit={submit}>
      <p>{t('terminal.unregistered')}</p>
      <label>
        {t('terminal.code')}{' '}
        <input data-testid="enrolment-code" value={code} autoComplete="off" onChange={(e) => setCode(e.target.value)} />
      </label>{' '}
      <button type="submit" data-testid="enrol-terminal" disabled={code.trim() === ''}>
        {t('terminal.register')}
      </button>
      {outcome ? <p role="status" data-testid="enrolment-outcome">{outcome}</p> : null}
    </form>
  );
}

export function ConnectivityBanner({
  load = connectivity,
  register = registerTerminal,
}: {
  load?: () => Promise<Connectivity | null>;
  register?: (code: string) => Promise<CounterReply>;
}) {
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
    if (!state.registered) return <TerminalEnrolment register={register} />;
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
