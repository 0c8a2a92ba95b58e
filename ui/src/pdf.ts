// Renders PDF pages into canvases with pdf.js. Loaded on demand (a separate
// chunk); tests replace this module.
//
// Under the app's CSP (default-src 'self'): the worker is a file of the app
// (Vite `?url`), so it loads from 'self'; no WebAssembly (useWasm: false, which
// would need 'wasm-unsafe-eval'); glyphs drawn as paths (disableFontFace), so no
// font loading is involved; pdf.js 6 compiles no code at run time (it no longer
// has an eval path, hence no isEvalSupported option to turn off).
import { getDocument, GlobalWorkerOptions } from 'pdfjs-dist';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

import { bytesOfBase64 } from './base64';

GlobalWorkerOptions.workerSrc = workerUrl;

/** Renders every page of the PDF into a new canvas appended to `container`; answers the page count. */
export async function renderPdfPages(
  pdfBase64: string,
  container: HTMLElement,
  options: { readonly scale?: number; readonly label?: (page: number, pages: number) => string; readonly signal?: AbortSignal } = {},
): Promise<number> {
  const task = getDocument({
    data: bytesOfBase64(pdfBase64),
    useWasm: false,
    disableFontFace: true,
    useSystemFonts: false,
    enableXfa: false,
    stopAtErrors: true,
  });
  const pdf = await task.promise;
  try {
    for (let number = 1; number <= pdf.numPages; number += 1) {
      if (options.signal?.aborted) break;
      const page = await pdf.getPage(number);
      // A preview replaced meanwhile draws nothing more into the container.
      if (options.signal?.aborted) break;
      const viewport = page.getViewport({ scale: options.scale ?? 1.4 });
      const canvas = document.createElement('canvas');
      canvas.width = Math.ceil(viewport.width);
      canvas.height = Math.ceil(viewport.height);
      canvas.className = 'preview__page';
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', options.label?.(number, pdf.numPages) ?? `${number}/${pdf.numPages}`);
      container.appendChild(canvas);
      await page.render({ canvas, viewport }).promise;
    }
    return pdf.numPages;
  } finally {
    await task.destroy();
  }
}
