// Translations for every user-visible string. The catalogues live in the
// repository's `locales/` folder, shared with the Rust side; Japanese is the
// default language.
import en from '../../locales/en.json';
import ja from '../../locales/ja.json';

/** A language the UI can be shown in. */
export type Locale = 'ja' | 'en';

/** The language shown when the clerk has not chosen one. */
export const DEFAULT_LOCALE: Locale = 'ja';

/** Every language the UI offers, in the order the language switch shows them. */
export const LOCALES: readonly Locale[] = ['ja', 'en'];

/** The key of one translated message, e.g. `app.title`. */
export type MessageKey = keyof typeof ja;

/** Values substituted for `{name}` placeholders in a message. */
export type MessageParams = Readonly<Record<string, string>>;

// Typing both catalogues as complete records makes a key missing from
// en.json a compile error; the locale test also rejects extra keys.
const catalogues: Readonly<Record<Locale, Readonly<Record<MessageKey, string>>>> = { ja, en };

/** Returns the message `key` in `locale`, with its `{name}` placeholders filled from `params`. */
export function translate(locale: Locale, key: MessageKey, params: MessageParams = {}): string {
  const message = catalogues[locale][key];
  return message.replace(/\{(\w+)\}/g, (placeholder, name: string) => params[name] ?? placeholder);
}

/** Whether `key` names a message (for keys built from codes the server sends). */
export function hasMessage(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(ja, key);
}

/** A translator bound to one language. */
export type Translate = (key: MessageKey, params?: MessageParams) => string;

/**
 * The words for an error code from the API or the shell, in the UI language:
 * `error.<code>` when there is one, else the server's own (Japanese) message
 * with its code.
 */
export function errorText(t: Translate, code: string, serverMessage = ''): string {
  const key = `error.${code}`;
  if (hasMessage(key)) return t(key);
  return t('error.other', { code, message: serverMessage || code });
}

/** Why a certificate is not issued, in plain words (`refusal.<code>`), else as {@link errorText}. */
export function refusalText(t: Translate, code: string, serverMessage = ''): string {
  const key = `refusal.${code}`;
  if (hasMessage(key)) return t(key);
  return errorText(t, code, serverMessage);
}

/** Formats yen as the UI language writes it. */
export function yen(locale: Locale, amount: number): string {
  const digits = new Intl.NumberFormat(locale === 'ja' ? 'ja-JP' : 'en-US').format(amount);
  return locale === 'ja' ? `${digits}円` : `¥${digits}`;
}

/** A difference with its sign: +1,000円, −500円, 0円. */
export function signedYen(locale: Locale, amount: number): string {
  if (amount > 0) return `+${yen(locale, amount)}`;
  if (amount < 0) return `−${yen(locale, -amount)}`;
  return yen(locale, 0);
}

/** A warning attached to an issuance: `warning.<code>` with the server's detail, else the detail itself. */
export function warningText(t: Translate, code: string, detail = ''): string {
  const key = `warning.${code}`;
  if (hasMessage(key)) return detail ? t('warning.with_detail', { warning: t(key), detail }) : t(key);
  return detail || code;
}

/** An RFC 3339 instant as the town hall reads it: its date and minute in Japan time
 * (the hall's clock, whatever the terminal's zone); the input itself if it is not one. */
export function hallTime(instant: string): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) return instant;
  const jst = new Date(ms + 9 * 3600 * 1000).toISOString();
  return `${jst.slice(0, 10)} ${jst.slice(11, 16)}`;
}
