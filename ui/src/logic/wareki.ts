// Birth dates on screen as on the certificates: 和暦 (令和8年11月25日), from the ISO
// dates the counter API answers. The era boundaries are those of kofu_domain::wareki.

const ERAS: readonly { readonly name: string; readonly start: string; readonly year: number }[] = [
  { name: '令和', start: '2019-05-01', year: 2019 },
  { name: '平成', start: '1989-01-08', year: 1989 },
  { name: '昭和', start: '1926-12-25', year: 1926 },
  { name: '大正', start: '1912-07-30', year: 1912 },
  { name: '明治', start: '1873-01-01', year: 1868 },
];

/** `1975-06-15` → `昭和50年6月15日` (`元年` for the first year); anything else as given. */
export function toWareki(iso: string | undefined): string {
  if (iso === undefined) return '';
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return iso;
  const era = ERAS.find((e) => iso >= e.start);
  if (!era) return iso;
  const year = Number(match[1]) - era.year + 1;
  return `${era.name}${year === 1 ? '元' : String(year)}年${Number(match[2])}月${Number(match[3])}日`;
}
