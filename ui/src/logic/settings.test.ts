import { describe, expect, it } from 'vitest';

import {
  certifierForm,
  certifierValue,
  type FeeRow,
  feeRows,
  feesValue,
  hoursForm,
  hoursValue,
  type Parsed,
  sealImage,
  sealValue,
  terminalForm,
  terminalValue,
} from './settings';

/** One check per case: what the form gives, or which problem on which field. */
function check<T>(parsed: Parsed<T>, expected: T | { problem: string; field: string }) {
  if (typeof expected === 'object' && expected !== null && 'problem' in expected && 'field' in expected) {
    expect(parsed).toEqual({ ok: false, problem: { key: expected.problem, field: expected.field } });
  } else {
    expect(parsed).toEqual({ ok: true, value: expected });
  }
}

describe('fees', () => {
  const rows = feeRows({ counter: { juminhyo: 300, inkan: 300 }, kiosk: { juminhyo: 200 } });
  const edit = (kind: string, patch: Partial<FeeRow>) => rows.map((row) => (row.kind === kind ? { ...row, ...patch } : row));

  it('gives one row per kind, empty where the kind has no fee', () => {
    expect(rows).toHaveLength(7);
    expect(rows[0]).toEqual({ kind: 'juminhyo', counter: '300', kiosk: '200' });
    expect(rows.find((row) => row.kind === 'fuhyo')).toEqual({ kind: 'fuhyo', counter: '', kiosk: '' });
  });

  it('turns the rows back into the value, with full-width digits read', () => {
    check(feesValue(rows), { counter: { juminhyo: 300, inkan: 300 }, kiosk: { juminhyo: 200 } });
    check(feesValue(edit('fuhyo', { counter: '３５０' })), { counter: { juminhyo: 300, inkan: 300, fuhyo: 350 }, kiosk: { juminhyo: 200 } });
  });

  it('names the field of a bad fee', () => {
    check(feesValue(edit('inkan', { counter: '3oo' })), { problem: 'settings.problem.fee', field: 'fee-counter-inkan' });
    check(feesValue(edit('inkan', { counter: '10001' })), { problem: 'settings.problem.fee', field: 'fee-counter-inkan' });
    check(feesValue(edit('inkan', { kiosk: '-1' })), { problem: 'settings.problem.fee', field: 'fee-kiosk-inkan' });
    check(feesValue(edit('fuhyo', { kiosk: '200' })), { problem: 'settings.problem.kiosk_without_counter', field: 'fee-kiosk-fuhyo' });
  });
});

describe('kiosk hours', () => {
  const value = { kiosk: { open: '06:30', close: '23:00' }, koseki: { weekday: ['09:00', '17:00'] as [string, string], holiday: null } };
  const form = hoursForm(value);

  it('round-trips, an empty pair meaning not offered', () => {
    expect(form.kosekiHolidayOpen).toBe('');
    check(hoursValue(form), value);
  });

  it('names the field of a bad time', () => {
    check(hoursValue({ ...form, open: '6:30' }), { problem: 'settings.problem.time', field: 'hours-kiosk-open' });
    check(hoursValue({ ...form, open: '', close: '' }), { problem: 'settings.problem.time', field: 'hours-kiosk-open' });
    check(hoursValue({ ...form, kosekiWeekdayClose: '' }), { problem: 'settings.problem.time', field: 'hours-weekday-close' });
    check(hoursValue({ ...form, kosekiHolidayOpen: '18:00', kosekiHolidayClose: '10:00' }), {
      problem: 'settings.problem.time_order',
      field: 'hours-holiday-close',
    });
  });
});

describe('certifier', () => {
  const form = certifierForm({ mayor: '見本 太郎', deputies: [{ name: '代理 花子', from: '2026-06-01', to: '2026-06-30' }] });

  it('round-trips and leaves blank deputy rows out', () => {
    check(certifierValue({ ...form, deputies: [...form.deputies, { name: '', from: '', to: '' }] }), {
      mayor: '見本 太郎',
      deputies: [{ name: '代理 花子', from: '2026-06-01', to: '2026-06-30' }],
    });
  });

  it('names the field of a bad deputy', () => {
    check(certifierValue({ ...form, mayor: ' ' }), { problem: 'settings.problem.mayor', field: 'certifier-mayor' });
    check(certifierValue({ ...form, deputies: [{ name: '', from: '2026-06-01', to: '2026-06-30' }] }), { problem: 'settings.problem.deputy_name', field: 'deputy-name-0' });
    check(certifierValue({ ...form, deputies: [{ name: 'x', from: '2026-6-1', to: '2026-06-30' }] }), { problem: 'settings.problem.date', field: 'deputy-from-0' });
    check(certifierValue({ ...form, deputies: [{ name: 'x', from: '2026-07-01', to: '2026-06-30' }] }), { problem: 'settings.problem.date_order', field: 'deputy-to-0' });
  });
});

describe('terminals', () => {
  const state = {
    setting: 'terminal:本庁1',
    value: { location: '1番窓口', active: true, printers: [{ code: 'P001', description: 'A4', active: true }] },
    revision: 2,
    changed_by: 'kanri',
    changed_at: '2026-05-07T09:00:00+09:00',
  };

  it('round-trips a registered terminal', () => {
    const form = terminalForm(state);
    expect(form.name).toBe('本庁1');
    check(terminalValue(form), { setting: 'terminal:本庁1', value: state.value });
  });

  it('names the field of a bad terminal or printer', () => {
    const form = terminalForm(state);
    check(terminalValue({ ...form, name: '' }), { problem: 'settings.problem.terminal_name', field: 'terminal-name' });
    check(terminalValue({ ...form, printers: [{ code: 'P-1', description: '', active: true }] }), { problem: 'settings.problem.printer_code', field: 'printer-code-0' });
    check(terminalValue({ ...form, printers: [...form.printers, { code: 'P001', description: 'again', active: true }] }), {
      problem: 'settings.problem.printer_twice',
      field: 'printer-code-1',
    });
  });
});

describe('seal', () => {
  it('takes a PNG as base64 and refuses anything else', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    check(sealValue(png), { png_base64: 'iVBORw0KGgoBAgM=' });
    check(sealValue(new TextEncoder().encode('GIF89a......')), { problem: 'settings.problem.png', field: 'seal-file' });
    expect(sealImage({ png_base64: 'iVBORw0KGgoBAgM=' })).toBe('data:image/png;base64,iVBORw0KGgoBAgM=');
    expect(sealImage(null)).toBeNull();
  });
});
