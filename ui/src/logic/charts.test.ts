import { describe, expect, it } from 'vitest';

import { barsOf, hourBars, maxOf, totalOf } from './charts';

describe('chart data shaping', () => {
  it('puts the known keys first, with zeros, then the others sorted', () => {
    const bars = barsOf({ inkan: 2, juminhyo: 5, zzz: 1, aaa: 3 }, ['juminhyo', 'kisai_jiko', 'inkan'], (key) => key.toUpperCase());
    expect(bars).toEqual([
      { key: 'juminhyo', label: 'JUMINHYO', value: 5 },
      { key: 'kisai_jiko', label: 'KISAI_JIKO', value: 0 },
      { key: 'inkan', label: 'INKAN', value: 2 },
      { key: 'aaa', label: 'AAA', value: 3 },
      { key: 'zzz', label: 'ZZZ', value: 1 },
    ]);
  });

  it('treats missing maps and bad counts as zero', () => {
    expect(barsOf(undefined, ['counter'])).toEqual([{ key: 'counter', label: 'counter', value: 0 }]);
    expect(barsOf({ a: -3, b: 'x', c: 2.7 }).map((bar) => bar.value)).toEqual([0, 0, 2]);
  });

  it('always gives the 24 hours, normalising keys', () => {
    const bars = hourBars({ '9': 4, '09': 1, '23': 2, '24': 9, x: 1 });
    expect(bars).toHaveLength(24);
    expect(bars[0]).toEqual({ key: '00', label: '00', value: 0 });
    expect(bars[9]?.value).toBe(1);
    expect(bars[23]?.value).toBe(2);
    expect(totalOf(bars)).toBe(3);
  });

  it('scales an empty chart to 1', () => {
    expect(maxOf([])).toBe(1);
    expect(maxOf(barsOf({ a: 7, b: 3 }))).toBe(7);
  });
});
