// The UI language, shared by every screen.
import { createContext, useContext } from 'react';

import { DEFAULT_LOCALE, type Locale, type Translate, translate } from './i18n';

/** The language in use and its translator. */
export interface I18n {
  readonly locale: Locale;
  readonly t: Translate;
}

export const I18nContext = createContext<I18n>({
  locale: DEFAULT_LOCALE,
  t: (key, params) => translate(DEFAULT_LOCALE, key, params),
});

/** The language in use. */
export function useI18n(): I18n {
  return useContext(I18nContext);
}
