// Base64 to bytes, for the PDFs the counter API sends as JSON (kept apart from pdf.ts
// so that a screen that only saves a PDF does not load pdf.js).

/** Decodes base64 into bytes. */
export function bytesOfBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
