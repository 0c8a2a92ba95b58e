import { describe, expect, it } from 'vitest';

import { csvField, reportCsv } from './csv';
import { screensFor, shortcutOf } from './roles';

describe('role-based navigation', () => {
  it.each([
    ['clerk', ['request', 'close']],
    ['supervisor', ['request', 'close', 'report']],
    ['support_officer', ['request']],
    ['admin', ['report', 'admin']],
    ['toString', []],
    ['unknown', []],
  ])('%s sees %j', (role, screens) => {
    expect(screensFor(role)).toEqual(screens);
  });

  it('keeps the shortcuts fixed', () => {
    expect(shortcutOf('request')).toBe('Alt+1');
    expect(shortcutOf('admin')).toBe('Alt+4');
  });
});

describe('report CSV', () => {
  it('writes one section per part, quoting where needed', () => {
    const csv = reportCsv({
      day: '2026-05-07',
      copies: 3,
      by_kind: { juminhyo: 2 },
      voids: [{ issuance_id: 'i1', reason: '誤交付, 再発行' }],
      access_anomalies: { denied: [{ staff: 'a', action: 'void "x"' }] },
    });
    const lines = csv.replace('\uFEFF', '').trim().split('\r\n');
    expect(lines).toEqual([
      'section,key,value',
      'day,,2026-05-07',
      'copies,,3',
      'by_kind,juminhyo,2',
      'voids,issuance_id,reason',
      'voids,i1,"誤交付, 再発行"',
      'denied,staff,action',
      'denied,a,"void ""x"""',
    ]);
  });

  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1+1', "'+1+1"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tcmd', "'\tcmd"],
    ['見本 太郎', '見本 太郎'],
    [-3, '-3'],
    [42, '42'],
  ])('neutralises a formula: %j → %s', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});
