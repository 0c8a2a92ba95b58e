// Rules for the credentials staff type themselves: the staff ID, a new password
// (typed twice), the enrolment code an administrator hands over, and the TOTP
// secret shown once. Pure functions, shared by every form that takes them.

/** The least length the server accepts for a password, in characters. */
export const MIN_PASSWORD_CHARS = 12;

/** What is wrong with a new password typed twice. */
export type NewPasswordProblem = 'short' | 'repeat';

/** Whether a new password is long enough and typed the same twice; null when it is. */
export function newPasswordProblem(password: string, repeat: string): NewPasswordProblem | null {
  if ([...password].length < MIN_PASSWORD_CHARS) return 'short';
  if (password !== repeat) return 'repeat';
  return null;
}

/** Whether a staff ID has the form the server takes (lower-case letters, digits, . _ -; up to 64). */
export function isStaffLogin(login: string): boolean {
  return /^[a-z0-9._-]{1,64}$/.test(login);
}

/**
 * An enrolment code as typed, in the form the server issues (ABCD-EFGH-JKLM-NPQR):
 * spaces dropped, upper case, and the hyphens put in when the 16 characters came without them.
 */
export function normalizeEnrolmentCode(typed: string): string {
  const code = typed.replace(/\s+/g, '').toUpperCase();
  return /^[A-Z0-9]{16}$/.test(code) ? (code.match(/.{4}/g) ?? []).join('-') : code;
}

/** A TOTP secret in groups of four characters, for reading it into an authenticator app. */
export function secretGroups(secret: string): string {
  return (secret.replace(/\s+/g, '').match(/.{1,4}/g) ?? []).join(' ');
}
