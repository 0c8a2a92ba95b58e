import { describe, expect, it } from 'vitest';

import en from '../../locales/en.json';
import ja from '../../locales/ja.json';
import { hallTime, translate } from './i18n';

const catalogues: Readonly<Record<string, Readonly<Record<string, string>>>> = { ja, en };

function placeholdersOf(message: string): string[] {
  return [...message.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '').sort();
}

describe('locales', () => {
  it('ja.json and en.json have exactly the same keys', () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(ja).sort());
  });

  it('every message is a non-empty string', () => {
    for (const [locale, catalogue] of Object.entries(catalogues)) {
      for (const [key, message] of Object.entries(catalogue)) {
        expect(typeof message, `${locale} ${key}`).toBe('string');
        expect(message.trim(), `${locale} ${key}`).not.toBe('');
      }
    }
  });

  it('a message has the same placeholders in both languages', () => {
    for (const [key, jaMessage] of Object.entries(ja)) {
      const enMessage: string | undefined = (en as Record<string, string>)[key];
      expect(placeholdersOf(enMessage ?? ''), key).toEqual(placeholdersOf(jaMessage));
    }
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'app.status.failed', { detail: 'timeout' })).toBe(
      'Could not load terminal information (timeout)',
    );
    expect(translate('ja', 'app.status.failed')).toBe('端末情報を取得できませんでした（{detail}）');
  });
});

describe('hall time', () => {
  const check = (instant: string, expected: string) => expect(hallTime(instant)).toBe(expected);
  it('shows an instant in Japan time to the minute', () => {
    check('2026-12-04T15:08:35.730162Z', '2026-12-05 00:08');
    check('2026-05-07T09:00:00+09:00', '2026-05-07 09:00');
    check('not a time', 'not a time');
  });
});
