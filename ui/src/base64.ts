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

/** Encodes bytes in base64 (in chunks: one `fromCharCode` call per byte is slow, one
 * for a whole file overflows the argument limit). */
export function base64OfBytes(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Encodes text (as UTF-8) in base64. */
export function base64OfText(text: string): string {
  return base64OfBytes(new TextEncoder().encode(text));
}
