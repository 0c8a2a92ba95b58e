// The preview: every page of the answered PDFs, drawn by pdf.js into canvases.
import { useEffect, useRef, useState } from 'react';

import type { IssuedDocument } from '../api';
import { useI18n } from '../I18nContext';
import { Alert } from './common';

export function PdfPreview({ documents }: { readonly documents: readonly IssuedDocument[] }) {
  const { t } = useI18n();
  const pagesRef = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ readonly kind: 'rendering' } | { readonly kind: 'done'; readonly pages: number } | { readonly kind: 'failed'; readonly detail: string }>({
    kind: 'rendering',
  });

  useEffect(() => {
    const container = pagesRef.current;
    if (container === null) return undefined;
    const abort = new AbortController();
    container.replaceChildren();
    setState({ kind: 'rendering' });
    void (async () => {
      try {
        const { renderPdfPages } = await import('../pdf');
        let pages = 0;
        for (const document of documents) {
          if (abort.signal.aborted) return;
          pages += await renderPdfPages(document.pdf_base64, container, {
            signal: abort.signal,
            label: (page, total) => t('preview.page', { page: String(page), pages: String(total) }),
          });
        }
        if (!abort.signal.aborted) setState({ kind: 'done', pages });
      } catch (error) {
        if (!abort.signal.aborted) setState({ kind: 'failed', detail: String(error) });
      }
    })();
    return () => {
      abort.abort();
      container.replaceChildren();
    };
  }, [documents, t]);

  return (
    <section className="preview" data-testid="preview" aria-label={t('preview.title')} aria-busy={state.kind === 'rendering'}>
      <h3>{t('preview.title')}</h3>
      <p className="preview__note">{t('preview.note')}</p>
      {state.kind === 'rendering' ? <p role="status">{t('preview.rendering')}</p> : null}
      {state.kind === 'done' ? <p role="status">{t('preview.pages', { pages: String(state.pages) })}</p> : null}
      {state.kind === 'failed' ? <Alert>{t('preview.failed', { detail: state.detail })}</Alert> : null}
      <div className="preview__pages" ref={pagesRef} />
    </section>
  );
}
