import { describe, expect, it } from 'vitest';

import { changeDue, closeSummary, type CountInput, parseCount } from './cash';

/** One row of the table: the counts typed, the expected cash, and the summary wanted. */
type Row = readonly [CountInput, number, { counted: number | null; difference: number | null; invalid?: number[] }];

const rows: readonly Row[] = [
  [{}, 0, { counted: 0, difference: 0 }],
  [{ 1000: '3' }, 3000, { counted: 3000, difference: 0 }],
  [{ 10000: '1', 5000: '1', 2000: '1', 1000: '1', 500: '1', 100: '1', 50: '1', 10: '1', 5: '1', 1: '1' }, 18666, { counted: 18666, difference: 0 }],
  [{ 1000: '2', 100: '5' }, 3000, { counted: 2500, difference: -500 }],
  [{ 10000: '1' }, 9700, { counted: 10000, difference: 300 }],
  [{ 100: ' 3 ' }, 0, { counted: 300, difference: 300 }],
  [{ 500: '２' }, 1000, { counted: 1000, difference: 0 }],
  [{ 100: '' , 10: '0' }, 50, { counted: 0, difference: -50 }],
  [{ 100: '-1' }, 0, { counted: null, difference: null, invalid: [100] }],
  [{ 100: '1.5', 5: 'x' }, 0, { counted: null, difference: null, invalid: [100, 5] }],
];

function check(input: CountInput, expectedCash: number, wanted: Row[2]) {
  const summary = closeSummary(input, expectedCash);
  expect(summary.counted, JSON.stringify(input)).toBe(wanted.counted);
  expect(summary.expected).toBe(expectedCash);
  expect(summary.difference, JSON.stringify(input)).toBe(wanted.difference);
  expect(summary.invalid).toEqual(wanted.invalid ?? []);
}

describe('daily close arithmetic', () => {
  it.each(rows)('counts %j against %d yen', (input, expectedCash, wanted) => check(input, expectedCash, wanted));

  it('parses counts strictly', () => {
    expect(parseCount(undefined)).toBe(0);
    expect(parseCount('12')).toBe(12);
    expect(parseCount('１２')).toBe(12);
    expect(parseCount('1e3')).toBeNull();
  });

  it('computes the change due', () => {
    expect(changeDue(750, '')).toBeNull();
    expect(changeDue(750, '1000')).toEqual({ change: 250 });
    expect(changeDue(750, '1,000円')).toEqual({ change: 250 });
    expect(changeDue(750, '500')).toEqual({ short: 250 });
    expect(changeDue(750, '750')).toEqual({ change: 0 });
    expect(changeDue(750, 'abc')).toBeNull();
  });
});
