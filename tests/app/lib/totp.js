// RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps), as the counter API's login checks
// it, computed from a demo account's base32 secret. A code is accepted once, so
// `freshTotp` waits for the next step when the same secret was used in this one.
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const STEP_SECONDS = 30;

/** Decodes RFC 4648 base32 (case, spaces, dashes and padding ignored). */
export function base32Decode(text) {
  const clean = text.toUpperCase().replace(/[\s=-]/g, '');
  let bits = 0;
  let value = 0;
  const bytes = [];
  for (const char of clean) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** The 6-digit code of `secret` (base32) for time step `step`. */
export function totpAt(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}

const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);
const lastStepUsed = new Map();

/**
 * A code for `secret` that this process has not used yet: waits (at most one
 * step) for the next 30 s step if this step's code was already handed out, and
 * also when the step ends within 3 s, so the code is still valid on arrival.
 */
export async function freshTotp(secret) {
  for (;;) {
    const now = Date.now() / 1000;
    const step = currentStep();
    const leftInStep = STEP_SECONDS - (now % STEP_SECONDS);
    if (lastStepUsed.get(secret) !== step && leftInStep > 3) {
      lastStepUsed.set(secret, step);
      return totpAt(secret, step);
    }
    await new Promise((resolve) => setTimeout(resolve, leftInStep * 1000 + 200));
  }
}
