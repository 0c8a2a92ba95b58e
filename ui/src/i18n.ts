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
