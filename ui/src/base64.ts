// Base64 to bytes and back, for the PDFs the counter API sends as JSON and the exports
// handed to the shell (kept apart from pdf.ts so that a screen that only saves a PDF
// does not load pdf.js).

/** Decodes base64 into bytes. */
export function bytesOfBase64(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Encodes text (as UTF-8) in base64. */
export function base64OfText(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
