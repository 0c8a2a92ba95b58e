// The town's settings (administrator): fees, kiosk hours, certifier and deputies, the
// official seal, terminals and their printers, and the history of changes. Each save
// names the revision it was made from and a reason; the server keeps every revision.
import { type FormEvent, type ReactNode, useCallback, useEffect, useState } from 'react';

import type { CounterApi } from '../api';
import { useI18n } from '../I18nContext';
import { errorText, hallTime, hasMessage } from '../i18n';
import {
  type CertifierForm,
  certifierForm,
  certifierValue,
  type FeeRow,
  feeRows,
  feesValue,
  type FormProblem,
  type HoursForm,
  hoursForm,
  hoursValue,
  type Parsed,
  sealImage,
  sealValue,
  type SettingsAnswer,
  type SettingState,
  type TerminalForm,
  terminalForm,
  terminalName,
  terminalValue,
} from '../logic/settings';
import { Alert, Field } from './common';

type Save = (setting: string, revision: number, parsed: Parsed<unknown>, reason: string) => Promise<boolean>;

export function TownSettings({ api }: { readonly api: CounterApi }) {
  const { t } = useI18n();
  const [data, setData] = useState<SettingsAnswer | null>(null);
  const [message, setMessage] = useState<{ readonly tone: 'ok' | 'error'; readonly text: string } | null>(null);

  const load = useCallback(async () => {
    const outcome = await api.settings();
    if (outcome.ok) setData(outcome.body);
    else setMessage({ tone: 'error', text: errorText(t, outcome.code, outcome.message) });
  }, [api, t]);

  useEffect(() => {
    void load();
    // Loaded once; the language switch does not reload.
  }, [api]);

  const showProblem = (found: FormProblem) => {
    setMessage({ tone: 'error', text: t(found.key) });
    document.getElementById(found.field)?.focus();
  };

  const save: Save = async (setting, revision, parsed, reason) => {
    if (!parsed.ok) {
      showProblem(parsed.problem);
      return false;
    }
    if (reason.trim() === '') {
      showProblem({ key: 'settings.problem.reason', field: setting.startsWith('terminal:') ? 'reason-terminal' : `reason-${setting}` });
      return false;
    }
    const outcome = await api.changeSetting(setting, revision, parsed.value, reason.trim());
    if (outcome.ok) {
      setMessage({ tone: 'ok', text: t('settings.saved', { setting: settingName(setting), revision: String(outcome.body.revision) }) });
      await load();
      return true;
    }
    // The server's message names each field and why; the code says what kind of refusal.
    const detail = outcome.code === 'invalid_setting' ? ` ${outcome.message}` : '';
    setMessage({ tone: 'error', text: errorText(t, outcome.code, outcome.message) + detail });
    if (outcome.code === 'setting_conflict') await load();
    return false;
  };

  const settingName = (setting: string) => {
    const key = `settings.name.${setting}`;
    return hasMessage(key) ? t(key) : setting.startsWith('terminal:') ? t('settings.name.terminal', { name: terminalName(setting) }) : setting;
  };
  const town = (setting: string) => data?.town.find((s) => s.setting === setting);

  return (
    <div className="flow" data-testid="settings">
      {message !== null ? (
        <Alert tone={message.tone} testId="settings-message">
          {message.text}
        </Alert>
      ) : null}
      {data === null ? <p role="status">{t('common.loading')}</p> : null}
      {data !== null ? (
        <>
          <FeesCard key={`fees-${town('fees')?.revision ?? 0}`} state={town('fees')} save={save} />
          <HoursCard key={`hours-${town('kiosk_hours')?.revision ?? 0}`} state={town('kiosk_hours')} save={save} />
          <CertifierCard key={`certifier-${town('certifier')?.revision ?? 0}`} state={town('certifier')} save={save} />
          <SealCard key={`seal-${town('seal')?.revision ?? 0}`} state={town('seal')} save={save} onProblem={showProblem} />
          <TerminalsCard key={data.terminals.map((s) => `${s.setting}@${s.revision}`).join(',')} terminals={data.terminals} save={save} />
          <div className="table-wrap">
            <table className="table" data-testid="settings-history">
              <caption>{t('settings.history')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('settings.history.at')}</th>
                  <th scope="col">{t('settings.history.setting')}</th>
                  <th scope="col">{t('settings.history.revision')}</th>
                  <th scope="col">{t('settings.history.staff')}</th>
                  <th scope="col">{t('admin.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {data.history.length === 0 ? (
                  <tr>
                    <td className="table__empty" colSpan={5}>
                      {t('settings.history.none')}
                    </td>
                  </tr>
                ) : (
                  data.history.map((h) => (
                    <tr key={`${h.setting}@${h.revision}`} data-testid="settings-history-row">
                      <td>{hallTime(h.at)}</td>
                      <td>{settingName(h.setting)}</td>
                      <td>{h.revision}</td>
                      <td>{h.staff}</td>
                      <td>{h.reason}</td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </div>
  );
}

/** Who changed a setting last, or that the registry feed's value applies. */
function Provenance({ state }: { readonly state: SettingState | undefined }) {
  const { t } = useI18n();
  if (state === undefined || state.revision === 0) return <p className="field__hint">{t('settings.from_feed')}</p>;
  return (
    <p className="field__hint">
      {t('settings.changed', { revision: String(state.revision), staff: state.changed_by ?? '', at: hallTime(state.changed_at ?? '') })}
    </p>
  );
}

/** A card with the reason for the change and a save button. */
function SettingCard({
  setting,
  title,
  state,
  children,
  onSubmit,
}: {
  readonly setting: string;
  readonly title: string;
  readonly state: SettingState | undefined;
  readonly children: ReactNode;
  readonly onSubmit: (reason: string) => Promise<boolean>;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (await onSubmit(reason)) setReason('');
  };
  return (
    <form className="card" onSubmit={(event) => void submit(event)} data-testid={`setting-${setting}`} aria-labelledby={`title-${setting}`}>
      <h3 id={`title-${setting}`}>{title}</h3>
      <Provenance state={state} />
      {children}
      <Field label={t('settings.reason')} htmlFor={`reason-${setting}`}>
        <input id={`reason-${setting}`} data-testid={`reason-${setting}`} value={reason} onChange={(event) => setReason(event.target.value)} />
      </Field>
      <button type="submit" className="button button--primary" data-testid={`save-${setting}`}>
        {t('settings.save')}
      </button>
    </form>
  );
}

function FeesCard({ state, save }: { readonly state: SettingState | undefined; readonly save: Save }) {
  const { t } = useI18n();
  const [rows, setRows] = useState<FeeRow[]>(() => feeRows(state?.value));
  const edit = (index: number, patch: Partial<FeeRow>) => setRows(rows.map((row, i) => (i === index ? { ...row, ...patch } : row)));
  return (
    <SettingCard setting="fees" title={t('settings.name.fees')} state={state} onSubmit={(reason) => save('fees', state?.revision ?? 0, feesValue(rows), reason)}>
      <p className="field__hint">{t('settings.fees.hint')}</p>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">{t('settings.fees.kind')}</th>
            <th scope="col">{t('settings.fees.counter')}</th>
            <th scope="col">{t('settings.fees.kiosk')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, index) => (
            <tr key={row.kind}>
              <th scope="row">{t(`cert.short.${row.kind}`)}</th>
              <td>
                <input id={`fee-counter-${row.kind}`} data-testid={`fee-counter-${row.kind}`} inputMode="numeric" aria-label={`${t(`cert.short.${row.kind}`)} ${t('settings.fees.counter')}`} value={row.counter} onChange={(event) => edit(index, { counter: event.target.value })} />
              </td>
              <td>
                <input id={`fee-kiosk-${row.kind}`} data-testid={`fee-kiosk-${row.kind}`} inputMode="numeric" aria-label={`${t(`cert.short.${row.kind}`)} ${t('settings.fees.kiosk')}`} value={row.kiosk} onChange={(event) => edit(index, { kiosk: event.target.value })} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </SettingCard>
  );
}

function TimeInput({ id, label, value, onChange }: { readonly id: string; readonly label: string; readonly value: string; readonly onChange: (value: string) => void }) {
  return (
    <Field label={label} htmlFor={id}>
      <input id={id} data-testid={id} placeholder="HH:MM" value={value} onChange={(event) => onChange(event.target.value)} />
    </Field>
  );
}

function HoursCard({ state, save }: { readonly state: SettingState | undefined; readonly save: Save }) {
  const { t } = useI18n();
  const [form, setForm] = useState<HoursForm>(() => hoursForm(state?.value));
  const set = (patch: Partial<HoursForm>) => setForm({ ...form, ...patch });
  return (
    <SettingCard setting="kiosk_hours" title={t('settings.name.kiosk_hours')} state={state} onSubmit={(reason) => save('kiosk_hours', state?.revision ?? 0, hoursValue(form), reason)}>
      <p className="field__hint">{t('settings.hours.hint')}</p>
      <div className="inline">
        <TimeInput id="hours-kiosk-open" label={t('settings.hours.open')} value={form.open} onChange={(open) => set({ open })} />
        <TimeInput id="hours-kiosk-close" label={t('settings.hours.close')} value={form.close} onChange={(close) => set({ close })} />
      </div>
      <div className="inline">
        <TimeInput id="hours-weekday-open" label={t('settings.hours.koseki_weekday_open')} value={form.kosekiWeekdayOpen} onChange={(kosekiWeekdayOpen) => set({ kosekiWeekdayOpen })} />
        <TimeInput id="hours-weekday-close" label={t('settings.hours.close')} value={form.kosekiWeekdayClose} onChange={(kosekiWeekdayClose) => set({ kosekiWeekdayClose })} />
      </div>
      <div className="inline">
        <TimeInput id="hours-holiday-open" label={t('settings.hours.koseki_holiday_open')} value={form.kosekiHolidayOpen} onChange={(kosekiHolidayOpen) => set({ kosekiHolidayOpen })} />
        <TimeInput id="hours-holiday-close" label={t('settings.hours.close')} value={form.kosekiHolidayClose} onChange={(kosekiHolidayClose) => set({ kosekiHolidayClose })} />
      </div>
    </SettingCard>
  );
}

function CertifierCard({ state, save }: { readonly state: SettingState | undefined; readonly save: Save }) {
  const { t } = useI18n();
  const [form, setForm] = useState<CertifierForm>(() => certifierForm(state?.value));
  const editDeputy = (index: number, patch: Partial<CertifierForm['deputies'][number]>) =>
    setForm({ ...form, deputies: form.deputies.map((d, i) => (i === index ? { ...d, ...patch } : d)) });
  return (
    <SettingCard setting="certifier" title={t('settings.name.certifier')} state={state} onSubmit={(reason) => save('certifier', state?.revision ?? 0, certifierValue(form), reason)}>
      <Field label={t('settings.certifier.mayor')} htmlFor="certifier-mayor">
        <input id="certifier-mayor" data-testid="certifier-mayor" value={form.mayor} onChange={(event) => setForm({ ...form, mayor: event.target.value })} />
      </Field>
      <p className="field__hint">{t('settings.certifier.hint')}</p>
      {form.deputies.map((deputy, index) => (
        <div className="inline" key={index} data-testid="deputy-row">
          <Field label={t('settings.certifier.deputy')} htmlFor={`deputy-name-${index}`}>
            <input id={`deputy-name-${index}`} data-testid={`deputy-name-${index}`} value={deputy.name} onChange={(event) => editDeputy(index, { name: event.target.value })} />
          </Field>
          <Field label={t('settings.certifier.from')} htmlFor={`deputy-from-${index}`}>
            <input id={`deputy-from-${index}`} data-testid={`deputy-from-${index}`} type="date" value={deputy.from} onChange={(event) => editDeputy(index, { from: event.target.value })} />
          </Field>
          <Field label={t('settings.certifier.to')} htmlFor={`deputy-to-${index}`}>
            <input id={`deputy-to-${index}`} data-testid={`deputy-to-${index}`} type="date" value={deputy.to} onChange={(event) => editDeputy(index, { to: event.target.value })} />
          </Field>
          <button type="button" className="button button--small button--secondary" onClick={() => setForm({ ...form, deputies: form.deputies.filter((_, i) => i !== index) })}>
            {t('settings.remove')}
          </button>
        </div>
      ))}
      <button type="button" className="button button--secondary" data-testid="deputy-add" onClick={() => setForm({ ...form, deputies: [...form.deputies, { name: '', from: '', to: '' }] })}>
        {t('settings.certifier.add')}
      </button>
    </SettingCard>
  );
}

function SealCard({ state, save, onProblem }: { readonly state: SettingState | undefined; readonly save: Save; readonly onProblem: (problem: FormProblem) => void }) {
  const { t } = useI18n();
  const [chosen, setChosen] = useState<Parsed<{ png_base64: string }> | null>(null);
  const current = sealImage(state?.value);
  const shown = chosen?.ok ? sealImage(chosen.value) : current;
  const choose = async (file: File | undefined) => {
    if (file === undefined) return setChosen(null);
    const parsed = sealValue(new Uint8Array(await file.arrayBuffer()));
    setChosen(parsed);
    if (!parsed.ok) onProblem(parsed.problem);
  };
  return (
    <SettingCard
      setting="seal"
      title={t('settings.name.seal')}
      state={state}
      onSubmit={(reason) => save('seal', state?.revision ?? 0, chosen ?? { ok: false, problem: { key: 'settings.problem.png', field: 'seal-file' } }, reason)}
    >
      {shown !== null ? <img className="seal-preview" src={shown} alt={t('settings.seal.preview')} data-testid="seal-preview" width={96} height={96} /> : <p>{t('settings.seal.none')}</p>}
      <Field label={t('settings.seal.file')} htmlFor="seal-file" hint={t('settings.seal.hint')}>
        <input id="seal-file" data-testid="seal-file" type="file" accept="image/png" onChange={(event) => void choose(event.target.files?.[0])} />
      </Field>
    </SettingCard>
  );
}

const NEW_TERMINAL: TerminalForm = { name: '', location: '', active: true, printers: [{ code: '', description: '', active: true }] };

function TerminalsCard({ terminals, save }: { readonly terminals: readonly SettingState[]; readonly save: Save }) {
  const { t } = useI18n();
  const [editing, setEditing] = useState<{ readonly state: SettingState | undefined; readonly form: TerminalForm } | null>(null);
  const form = editing?.form;
  const set = (patch: Partial<TerminalForm>) => editing && setEditing({ ...editing, form: { ...editing.form, ...patch } });
  const editPrinter = (index: number, patch: Partial<TerminalForm['printers'][number]>) =>
    form && set({ printers: form.printers.map((p, i) => (i === index ? { ...p, ...patch } : p)) });
  const submit = async (reason: string) => {
    if (editing === null) return false;
    const parsed = terminalValue(editing.form);
    const setting = parsed.ok ? parsed.value.setting : `terminal:${editing.form.name.trim()}`;
    const known = terminals.find((s) => s.setting === setting);
    const saved = await save(setting, known?.revision ?? 0, parsed.ok ? { ok: true, value: parsed.value.value } : parsed, reason);
    if (saved) setEditing(null);
    return saved;
  };
  return (
    <section className="card" data-testid="terminals">
      <h3>{t('settings.terminals')}</h3>
      <p className="field__hint">{terminals.length === 0 ? t('settings.terminals.none') : t('settings.terminals.hint')}</p>
      {terminals.length > 0 ? (
        <table className="table" data-testid="terminal-list">
          <thead>
            <tr>
              <th scope="col">{t('settings.terminal.name')}</th>
              <th scope="col">{t('settings.terminal.location')}</th>
              <th scope="col">{t('settings.terminal.printers')}</th>
              <th scope="col">{t('admin.state')}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {terminals.map((state) => {
              const shown = terminalForm(state);
              return (
                <tr key={state.setting} data-testid="terminal-row" data-terminal={shown.name}>
                  <td>{shown.name}</td>
                  <td>{shown.location}</td>
                  <td>{shown.printers.map((p) => (p.active ? p.code : `${p.code} (${t('settings.inactive')})`)).join(', ')}</td>
                  <td>{shown.active ? t('admin.state.active') : t('settings.inactive')}</td>
                  <td>
                    <button type="button" className="button button--small" data-testid={`terminal-edit-${shown.name}`} onClick={() => setEditing({ state, form: shown })}>
                      {t('settings.edit')}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {editing === null ? (
        <button type="button" className="button button--secondary" data-testid="terminal-add" onClick={() => setEditing({ state: undefined, form: NEW_TERMINAL })}>
          {t('settings.terminal.add')}
        </button>
      ) : null}
      {form !== undefined && editing !== null ? (
        <SettingCard setting="terminal" title={editing.state === undefined ? t('settings.terminal.add') : t('settings.name.terminal', { name: form.name })} state={editing.state} onSubmit={submit}>
          <Field label={t('settings.terminal.name')} htmlFor="terminal-name">
            <input id="terminal-name" data-testid="terminal-name" readOnly={editing.state !== undefined} value={form.name} onChange={(event) => set({ name: event.target.value })} />
          </Field>
          <Field label={t('settings.terminal.location')} htmlFor="terminal-location">
            <input id="terminal-location" data-testid="terminal-location" value={form.location} onChange={(event) => set({ location: event.target.value })} />
          </Field>
          <label className="check">
            <input type="checkbox" data-testid="terminal-active" checked={form.active} onChange={(event) => set({ active: event.target.checked })} />
            {t('settings.terminal.active')}
          </label>
          {form.printers.map((printer, index) => (
            <div className="inline" key={index} data-testid="printer-row">
              <Field label={t('settings.printer.code')} htmlFor={`printer-code-${index}`}>
                <input id={`printer-code-${index}`} data-testid={`printer-code-${index}`} value={printer.code} onChange={(event) => editPrinter(index, { code: event.target.value })} />
              </Field>
              <Field label={t('settings.printer.description')} htmlFor={`printer-description-${index}`}>
                <input id={`printer-description-${index}`} data-testid={`printer-description-${index}`} value={printer.description} onChange={(event) => editPrinter(index, { description: event.target.value })} />
              </Field>
              <label className="check">
                <input type="checkbox" data-testid={`printer-active-${index}`} checked={printer.active} onChange={(event) => editPrinter(index, { active: event.target.checked })} />
                {t('settings.printer.active')}
              </label>
            </div>
          ))}
          <div className="actions">
            <button type="button" className="button button--secondary" data-testid="printer-add" onClick={() => set({ printers: [...form.printers, { code: '', description: '', active: true }] })}>
              {t('settings.printer.add')}
            </button>
            <button type="button" className="button button--secondary" onClick={() => setEditing(null)}>
              {t('common.cancel')}
            </button>
          </div>
        </SettingCard>
      ) : null}
    </section>
  );
}
