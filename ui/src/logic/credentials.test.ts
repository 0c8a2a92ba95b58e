import { describe, expect, it } from 'vitest';

import { isStaffLogin, MIN_PASSWORD_CHARS, newPasswordProblem, normalizeEnrolmentCode, secretGroups } from './credentials';

describe('new password', () => {
  it.each([
    ['short', 'short', 'short'],
    ['x'.repeat(MIN_PASSWORD_CHARS - 1), 'x'.repeat(MIN_PASSWORD_CHARS - 1), 'short'],
    // Characters, not UTF-16 units: eleven emoji are still too short.
    ['😀'.repeat(MIN_PASSWORD_CHARS - 1), '😀'.repeat(MIN_PASSWORD_CHARS - 1), 'short'],
    ['a-long-password-1', 'a-long-password-2', 'repeat'],
    ['a-long-password-1', 'a-long-password-1', null],
    ['窓口のパスワードです十二文字', '窓口のパスワードです十二文字', null],
  ])('%s / %s → %s', (password, repeat, problem) => {
    expect(newPasswordProblem(password, repeat)).toBe(problem);
  });
});

describe('staff ID', () => {
  it.each([
    ['tanaka', true],
    ['t.sato_2-x', true],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['', false],
    ['Tanaka', false],
    ['田中', false],
    ['tanaka ', false],
  ])('%s → %s', (login, ok) => {
    expect(isStaffLogin(login)).toBe(ok);
  });
});

describe('enrolment code', () => {
  it.each([
    ['ABCD-EFGH-JKLM-NPQR', 'ABCD-EFGH-JKLM-NPQR'],
    [' abcd-efgh-jklm-npqr ', 'ABCD-EFGH-JKLM-NPQR'],
    ['abcdefghjklmnpqr', 'ABCD-EFGH-JKLM-NPQR'],
    ['ABCD EFGH JKLM NPQR', 'ABCD-EFGH-JKLM-NPQR'],
    ['abc', 'ABC'],
  ])('%s → %s', (typed, sent) => {
    expect(normalizeEnrolmentCode(typed)).toBe(sent);
  });
});

describe('TOTP secret', () => {
  it.each([
    ['JBSWY3DPEHPK3PXP', 'JBSW Y3DP EHPK 3PXP'],
    ['JBSWY3DPEHPK3PXPAB', 'JBSW Y3DP EHPK 3PXP AB'],
    ['', ''],
  ])('%s → %s', (secret, shown) => {
    expect(secretGroups(secret)).toBe(shown);
  });
});
