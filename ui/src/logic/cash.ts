// Counting the till at the daily close: denominations, the counted total and
// the difference from what the ledger expects.

/** The yen notes and coins counted, largest first. */
export const DENOMINATIONS = [10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 1] as const;

/** A note or coin. */
export type Denomination = (typeof DENOMINATIONS)[number];

/** How many of each denomination were counted, as typed (blank means none). */
export type CountInput = Readonly<Partial<Record<Denomination, string>>>;

/** The close summary shown to the clerk. */
export interface CloseSummary {
  /** Yen counted, or null while an entry is not a whole number of pieces. */
  readonly counted: number | null;
  readonly expected: number;
  /** counted − expected (as the ledger records it), or null while counted is. */
  readonly difference: number | null;
  /** The denominations whose entry is not a whole number ≥ 0. */
  readonly invalid: readonly Denomination[];
}

/** A typed count: blank is 0, else a whole number ≥ 0 (full-width digits accepted), else null. */
export function parseCount(text: string | undefined): number | null {
  const normalized = (text ?? '').trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0));
  if (normalized === '') return 0;
  if (!/^\d{1,7}$/.test(normalized)) return null;
  return Number(normalized);
}

/** Sums the counted cash and compares it with the expected cash. */
export function closeSummary(counts: CountInput, expectedCashYen: number): CloseSummary {
  let counted = 0;
  const invalid: Denomination[] = [];
  for (const denomination of DENOMINATIONS) {
    const pieces = parseCount(counts[denomination]);
    if (pieces === null) invalid.push(denomination);
    else counted += pieces * denomination;
  }
  if (invalid.length > 0) return { counted: null, expected: expectedCashYen, difference: null, invalid };
  return { counted, expected: expectedCashYen, difference: counted - expectedCashYen, invalid };
}

/** Change due for a cash payment: null while nothing (valid) is tendered. */
export function changeDue(totalYen: number, tenderedText: string): { change: number } | { short: number } | null {
  const tendered = parseCount(tenderedText.replace(/[,，円]/g, ''));
  if (tendered === null || tenderedText.trim() === '') return null;
  return tendered >= totalYen ? { change: tendered - totalYen } : { short: totalYen - tendered };
}
