// The placeholder counter screen: title, language switch and a status line
// describing the terminal.
import { useEffect, useState } from 'react';

import { type AppInfo, type AppInfoLoader, OutsideTauriError } from './appInfo';
import { DEFAULT_LOCALE, LOCALES, type Locale, type MessageKey, type MessageParams, translate } from './i18n';

/** Where obtaining the terminal information stands. */
type AppInfoStatus =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly info: AppInfo }
  | { readonly kind: 'outsideTauri' }
  | { readonly kind: 'failed'; readonly detail: string };

/** Properties of {@link App}. */
export interface AppProps {
  /** Obtains the terminal information (Tauri's IPC in the app, a mock in tests). */
  readonly loadAppInfo: AppInfoLoader;
  /** The language shown first; Japanese unless given. */
  readonly initialLocale?: Locale;
}

/** The placeholder counter screen. */
export function App({ loadAppInfo, initialLocale = DEFAULT_LOCALE }: AppProps) {
  const [locale, setLocale] = useState<Locale>(initialLocale);
  const [status, setStatus] = useState<AppInfoStatus>({ kind: 'loading' });

  useEffect(() => {
    let unmounted = false;
    loadAppInfo().then(
      (info) => {
        if (!unmounted) setStatus({ kind: 'ready', info });
      },
      (error: unknown) => {
        if (unmounted) return;
        setStatus(error instanceof OutsideTauriError ? { kind: 'outsideTauri' } : { kind: 'failed', detail: String(error) });
      },
    );
    return () => {
      unmounted = true;
    };
  }, [loadAppInfo]);

  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);

  const t = (key: MessageKey, params?: MessageParams): string => translate(locale, key, params);

  return (
    <main className="counter">
      <header className="counter__header">
        <h1>{t('app.title')}</h1>
        <div role="group" aria-label={t('app.language.label')} className="counter__languages">
          {LOCALES.map((choice) => (
            <button key={choice} type="button" aria-pressed={choice === locale} onClick={() => setLocale(choice)}>
              {t(`app.language.${choice}`)}
            </button>
          ))}
        </div>
      </header>
      <p className="counter__placeholder">{t('app.placeholder')}</p>
      <p role="status" className="counter__status">
        {statusLine(status, t)}
      </p>
    </main>
  );
}

function statusLine(status: AppInfoStatus, t: (key: MessageKey, params?: MessageParams) => string): string {
  switch (status.kind) {
    case 'loading':
      return t('app.status.loading');
    case 'ready':
      return t('app.status.ready', {
        town: status.info.town,
        terminal: status.info.terminal,
        mode: t(`app.mode.${status.info.mode}`),
        version: status.info.version,
      });
    case 'outsideTauri':
      return t('app.status.outsideTauri');
    case 'failed':
      return t('app.status.failed', { detail: status.detail });
  }
}
