// The counter request (clerk): applicant and identity → resident search →
// certificates and options (preview) → payment and issue → print → fee → receipt.
import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';

import {
  APPLICANT_TYPES,
  CERT_KINDS,
  type CertKind,
  type CounterApi,
  type Issued,
  type IssuedDocument,
  type Payment,
  type PrintOutcome,
  type RefusedPerson,
  type ResidentFlags,
  type ResidentHit,
  type Staff,
} from '../api';
import type { AppInfo } from '../appInfo';
import { MAX_COPIES } from '../config';
import { useHotkeys } from '../hotkeys';
import { useI18n } from '../I18nContext';
import { errorText, refusalText, translate, warningText, yen } from '../i18n';
import { printDocument, ipcFailureOf } from '../ipc';
import { changeDue } from '../logic/cash';
import {
  applicantProblem,
  type ApplicantForm,
  type CertItem,
  EMPTY_APPLICANT,
  FLAG_OPTIONS,
  isRefusal,
  matrixFrom,
  type OptionMatrix,
  mayShowMyNumber,
  newItem,
  NON_PHOTO_IDS,
  type NonPhotoId,
  PHOTO_IDS,
  type PhotoId,
  requestOf,
} from '../logic/request';
import { toWareki } from '../logic/wareki';
import { Alert, Field, KeyButton } from './common';
import { CredentialsForm } from './CredentialsForm';
import { PdfPreview } from './PdfPreview';

type Step = 'find' | 'certificate' | 'done';

/** What issuing one item came to. */
type ItemOutcome =
  | { readonly kind: 'issued'; readonly issued: Issued; readonly overridden: boolean }
  | {
      readonly kind: 'refused';
      readonly code: string;
      readonly message: string;
      readonly detail?: string | undefined;
      readonly person?: RefusedPerson | undefined;
    }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

type PrintState =
  | { readonly state: 'waiting' }
  | { readonly state: 'printing' }
  | { readonly state: 'printed'; readonly job: string; readonly queue: string; readonly sha256: string }
  | { readonly state: 'failed'; readonly code: string; readonly message: string };

/** One document to print: its item and its place in the item's answer. */
interface PrintTarget {
  readonly key: string;
  readonly item: CertItem;
  readonly document: IssuedDocument;
  /** The issuance the copy belongs to (a preview has none, and is never printed). */
  readonly issuanceId: string | undefined;
  /** The copy's number, from 1. */
  readonly copy: number;
}

/** The longest failure detail the server keeps with a print outcome. */
const MAX_PRINT_DETAIL = 500;

const FLAG_KEYS: readonly (keyof ResidentFlags)[] = ['support_measure', 'suppression', 'moved_out', 'deceased'];

export interface RequestFlowProps {
  readonly info: AppInfo;
  readonly api: CounterApi;
  /** The session's staff member now (a support officer after an override login). */
  readonly staff: Staff;
  readonly onSessionChange: (staff: Staff) => void;
  /** After a request finished under someone else's session: hand the terminal back to `login`. */
  readonly onHandOver: (login: string) => void;
}

/** The documents of the issued items, each with its print key. */
function printTargets(items: readonly CertItem[], outcomes: Readonly<Record<string, ItemOutcome>>): PrintTarget[] {
  return items.flatMap((item) => {
    const outcome = outcomes[item.key];
    if (outcome?.kind !== 'issued') return [];
    return outcome.issued.documents.map((document, index) => ({
      key: `${item.key}:${index}`,
      item,
      document,
      issuanceId: outcome.issued.issuance_id,
      copy: document.copy ?? index + 1,
    }));
  });
}

export function RequestFlow({ info, api, staff, onSessionChange, onHandOver }: RequestFlowProps) {
  const { t } = useI18n();
  const [step, setStep] = useState<Step>('find');
  const [applicant, setApplicant] = useState<ApplicantForm>(EMPTY_APPLICANT);
  const [items, setItems] = useState<readonly CertItem[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [payment, setPayment] = useState<Payment>('cash');
  const [tendered, setTendered] = useState('');
  const [outcomes, setOutcomes] = useState<Readonly<Record<string, ItemOutcome>>>({});
  const [prints, setPrints] = useState<Readonly<Record<string, PrintState>>>({});
  const [handOverTo, setHandOverTo] = useState<string | null>(null);
  const [originalStaff] = useState(staff.login);
  // The option matrix, fetched once the first certificate is chosen: the form offers
  // what the server's rules accept, nothing more and nothing less.
  const [matrix, setMatrix] = useState<OptionMatrix | null>(null);
  const [matrixError, setMatrixError] = useState<string | null>(null);
  useEffect(() => {
    if (step !== 'certificate' || matrix !== null) return;
    let live = true;
    void api.optionMatrix().then((outcome) => {
      if (!live) return;
      if (outcome.ok) setMatrix(matrixFrom(outcome.body.kinds));
      else setMatrixError(errorText(t, outcome.code, outcome.message));
    });
    return () => {
      live = false;
    };
  }, [api, step, matrix, t]);

  const reset = () => {
    setStep('find');
    setApplicant(EMPTY_APPLICANT);
    setItems([]);
    setSelected(null);
    setPayment('cash');
    setTendered('');
    setOutcomes({});
    setPrints({});
    if (handOverTo !== null) {
      const login = handOverTo;
      setHandOverTo(null);
      onHandOver(login);
    }
  };

  const chooseResident = (resident: ResidentHit) => {
    const item = newItem(resident, info.today);
    setItems((list) => [...list, item]);
    setSelected(item.key);
    setStep('certificate');
  };

  /**
   * Tells the server, for the supervisor, whether a copy reached the printer. Neither
   * awaited nor shown: whatever becomes of the record, the clerk's flow is unchanged.
   */
  const reportPrint = (target: PrintTarget, outcome: Omit<PrintOutcome, 'copy'>) => {
    // Only issuances are recorded; a preview's answer has no issuance (and is never printed).
    if (!target.issuanceId) return;
    try {
      void api.printOutcome(target.issuanceId, { copy: target.copy, ...outcome }).catch(() => undefined);
    } catch {
      // Silent by design (see above).
    }
  };

  /** Prints each document in turn; the shell checks every one's SHA-256 against the issuance. */
  const print = async (targets: readonly PrintTarget[]) => {
    for (const target of targets) {
      const { key, item, document } = target;
      setPrints((all) => ({ ...all, [key]: { state: 'printing' } }));
      try {
        const title = `${translate('ja', `cert.kind.${item.kind}`)} ${document.issue_number ?? ''}`.trim();
        const job = await printDocument(document.pdf_base64, document.sha256, title);
        setPrints((all) => ({ ...all, [key]: { state: 'printed', job: job.job, queue: job.queue, sha256: job.sha256 || document.sha256 } }));
        reportPrint(target, { outcome: 'printed', queue: job.queue, job: job.job, detail: null });
      } catch (error) {
        const failure = ipcFailureOf(error);
        setPrints((all) => ({ ...all, [key]: { state: 'failed', code: failure.code, message: failure.message } }));
        const detail = [...(failure.message || failure.code)].slice(0, MAX_PRINT_DETAIL).join('');
        reportPrint(target, { outcome: 'failed', queue: null, job: null, detail });
      }
    }
  };

  /** Issues the items not yet issued or refused, then prints what was issued. */
  const issue = async (only?: readonly CertItem[]) => {
    const next: Record<string, ItemOutcome> = { ...outcomes };
    const fresh: CertItem[] = [];
    for (const item of only ?? items) {
      const previous = next[item.key];
      if (previous?.kind === 'issued' || previous?.kind === 'refused') continue;
      const outcome = await issueOne(api, item, applicant, info, payment, matrix);
      next[item.key] = outcome;
      if (outcome.kind === 'issued') fresh.push(item);
      setOutcomes({ ...next });
    }
    setStep('done');
    await print(printTargets(fresh, next));
  };

  const overrideIssued = async (item: CertItem, reason: string): Promise<ItemOutcome> => {
    // A new idempotency key: the overriding request differs from the refused one.
    const renewed: CertItem = { ...item, requestId: crypto.randomUUID(), overrideReason: reason };
    setItems((list) => list.map((it) => (it.key === item.key ? renewed : it)));
    const outcome = await issueOne(api, renewed, applicant, info, payment, matrix);
    const recorded: ItemOutcome = outcome.kind === 'issued' ? { ...outcome, overridden: true } : outcome;
    const next = { ...outcomes, [item.key]: recorded };
    setOutcomes(next);
    if (outcome.kind === 'issued') await print(printTargets([renewed], next));
    return outcome;
  };

  const sessionChanged = (next: Staff) => {
    onSessionChange(next);
    setHandOverTo(next.login === originalStaff ? null : originalStaff);
  };

  return (
    <div className="flow">
      <h2>{t('request.title')}</h2>
      <ol className="steps" aria-label={t('request.steps')}>
        {(['find', 'certificate', 'done'] as const).map((name) => (
          <li key={name} aria-current={name === step ? 'step' : undefined}>
            {t(`request.step.${name}`)}
          </li>
        ))}
      </ol>
      {handOverTo !== null ? <Alert tone="warn">{t('override.session_note', { login: staff.login, clerk: handOverTo })}</Alert> : null}
      {step === 'find' ? (
        <FindStep
          api={api}
          form={applicant}
          onChange={setApplicant}
          onChoose={chooseResident}
          onBack={items.length > 0 ? () => setStep('certificate') : undefined}
        />
      ) : null}
      {step === 'certificate' && matrix === null ? (
        matrixError !== null ? <Alert testId="options-error">{matrixError}</Alert> : <p role="status">{t('preview.loading')}</p>
      ) : null}
      {step === 'certificate' && matrix !== null ? (
        <CertificateStep
          matrix={matrix}
          info={info}
          api={api}
          staff={staff}
          applicant={applicant}
          items={items}
          selected={selected}
          payment={payment}
          tendered={tendered}
          onPayment={setPayment}
          onTendered={setTendered}
          onSelect={setSelected}
          onChange={(changed) => setItems((list) => list.map((item) => (item.key === changed.key ? changed : item)))}
          onRemove={(key) => {
            const rest = items.filter((item) => item.key !== key);
            setItems(rest);
            setSelected(rest[0]?.key ?? null);
            if (rest.length === 0) setStep('find');
          }}
          onAddSameResident={(resident) => {
            const item = newItem(resident, info.today);
            setItems((list) => [...list, item]);
            setSelected(item.key);
          }}
          onAddOtherResident={() => setStep('find')}
          onSessionChange={sessionChanged}
          onIssue={() => issue()}
        />
      ) : null}
      {step === 'done' ? (
        <DoneStep
          info={info}
          api={api}
          staff={staff}
          applicantType={applicant.type}
          payment={payment}
          items={items}
          outcomes={outcomes}
          prints={prints}
          tendered={tendered}
          onTendered={setTendered}
          onPrint={(targets) => print(targets)}
          onRetry={(item) => issue([item])}
          onOverride={overrideIssued}
          onSessionChange={sessionChanged}
          onNewRequest={reset}
        />
      ) : null}
    </div>
  );
}

async function issueOne(
  api: CounterApi,
  item: CertItem,
  applicant: ApplicantForm,
  info: AppInfo,
  payment: Payment,
  matrix: OptionMatrix | null,
): Promise<ItemOutcome> {
  // Issuing is offered only once the matrix is known (the certificate step needs it).
  if (matrix === null) return { kind: 'error', code: 'not_ready', message: '' };
  const outcome = await api.issue(requestOf(item, applicant, info, payment, matrix));
  if (outcome.ok) return { kind: 'issued', issued: outcome.body, overridden: item.overrideReason !== undefined };
  if (isRefusal(outcome.status, outcome.code)) {
    return { kind: 'refused', code: outcome.code, message: outcome.message, detail: outcome.detail, person: outcome.person };
  }
  return { kind: 'error', code: outcome.code, message: outcome.message };
}

// ---------------------------------------------------------------------------------------

/** What exactly stopped a request (who a support measure protects), for the clerk. */
function RefusalDetail({ detail, person }: { readonly detail?: string | undefined; readonly person?: RefusedPerson | undefined }) {
  const { t } = useI18n();
  if (person) {
    return (
      <span className="refusal__detail" data-testid="refusal-detail">
        {' '}
        {t('refusal.person', { relation: t(`refusal.relation.${person.relation}`), name: person.name, id: person.resident_id })}
      </span>
    );
  }
  if (!detail) return null;
  return (
    <span className="refusal__detail" data-testid="refusal-detail">
      {' '}
      {t('refusal.detail', { detail })}
    </span>
  );
}

/** Step 1: who asks, which documents prove it, and whom the certificate is about. */
function FindStep({
  api,
  form,
  onChange,
  onChoose,
  onBack,
}: {
  readonly api: CounterApi;
  readonly form: ApplicantForm;
  readonly onChange: (form: ApplicantForm) => void;
  readonly onChoose: (resident: ResidentHit) => void;
  readonly onBack?: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [birth, setBirth] = useState('');
  const [hits, setHits] = useState<readonly ResidentHit[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const tableRef = useRef<HTMLTableSectionElement>(null);
  useHotkeys({ b: onBack });

  useEffect(() => {
    if (hits && hits.length > 0) tableRef.current?.querySelector<HTMLElement>('[data-testid="resident-row"]')?.focus();
  }, [hits]);

  const toggleNonPhoto = (doc: NonPhotoId, on: boolean) =>
    onChange({ ...form, nonPhoto: on ? [...form.nonPhoto, doc] : form.nonPhoto.filter((d) => d !== doc) });

  const search = async (event: FormEvent) => {
    event.preventDefault();
    // The right to request and the identity are checked before anyone is looked up.
    const missing = applicantProblem(form);
    if (missing !== null) {
      setProblem(t(missing));
      return;
    }
    setProblem(null);
    if (name.trim() === '' && birth.trim() === '') {
      setError(t('search.problem.empty'));
      return;
    }
    setBusy(true);
    setError(null);
    const outcome = await api.searchResidents({ name: name.trim(), birth_date: birth.trim() });
    setBusy(false);
    if (!outcome.ok) {
      setHits(null);
      setError(errorText(t, outcome.code, outcome.message));
      return;
    }
    setHits(outcome.body.residents ?? []);
  };

  const onRowKey = (event: KeyboardEvent<HTMLTableRowElement>, resident: ResidentHit) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onChoose(resident);
    } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const row = event.currentTarget;
      const target = (event.key === 'ArrowDown' ? row.nextElementSibling : row.previousElementSibling) as HTMLElement | null;
      target?.focus();
    }
  };

  return (
    <div className="card">
      <h3>{t('request.step.find')}</h3>
      <div className="columns">
        <fieldset className="fieldset">
          <legend>{t('applicant.title')}</legend>
          <Field label={t('applicant.type')} htmlFor="applicant-type">
            <select
              id="applicant-type"
              data-testid="applicant-type"
              autoFocus
              value={form.type}
              onChange={(event) => onChange({ ...form, type: event.target.value as ApplicantForm['type'] })}
            >
              {APPLICANT_TYPES.map((type) => (
                <option key={type} value={type}>
                  {t(`applicant.type.${type}`)}
                </option>
              ))}
            </select>
          </Field>
          {form.type === 'proxy' ? (
            <label className="check">
              <input type="checkbox" data-testid="applicant-letter" checked={form.letterOfProxy} onChange={(event) => onChange({ ...form, letterOfProxy: event.target.checked })} />
              {t('applicant.letter_of_proxy')}
            </label>
          ) : null}
          {form.type === 'third_party' ? (
            <Field label={t('applicant.purpose')} htmlFor="applicant-purpose">
              <input id="applicant-purpose" data-testid="applicant-purpose" value={form.purpose} onChange={(event) => onChange({ ...form, purpose: event.target.value })} />
            </Field>
          ) : null}
          {form.type === 'official' ? (
            <Field label={t('applicant.office')} htmlFor="applicant-office" hint={t('applicant.office.hint')}>
              <input id="applicant-office" data-testid="applicant-office" value={form.office} onChange={(event) => onChange({ ...form, office: event.target.value })} />
            </Field>
          ) : null}
          <Field label={t('identity.photo')} htmlFor="identity-photo">
            <select id="identity-photo" data-testid="identity-photo" value={form.photo} onChange={(event) => onChange({ ...form, photo: event.target.value as PhotoId | '' })}>
              <option value="">{t('identity.photo.none')}</option>
              {PHOTO_IDS.map((doc) => (
                <option key={doc} value={doc}>
                  {t(`id.photo.${doc}`)}
                </option>
              ))}
            </select>
          </Field>
          {form.photo === '' ? (
            <div className="checks" role="group" aria-label={t('identity.non_photo')}>
              <p>{t('identity.non_photo')}</p>
              {NON_PHOTO_IDS.map((doc) => (
                <label key={doc} className="check">
                  <input
                    type="checkbox"
                    data-testid={`identity-non-photo-${doc}`}
                    checked={form.nonPhoto.includes(doc)}
                    onChange={(event) => toggleNonPhoto(doc, event.target.checked)}
                  />
                  {t(`id.non_photo.${doc}`)}
                </label>
              ))}
            </div>
          ) : null}
        </fieldset>
        <form className="fieldset search" onSubmit={search} aria-labelledby="search-title">
          <h4 id="search-title">{t('search.title')}</h4>
          <Field label={t('search.name')} htmlFor="search-name" hint={t('search.name.hint')}>
            <input id="search-name" data-testid="search-name" value={name} onChange={(event) => setName(event.target.value)} />
          </Field>
          <Field label={t('search.birth')} htmlFor="search-birth" hint={t('search.birth.hint')}>
            <input id="search-birth" data-testid="search-birth" inputMode="text" autoComplete="off" value={birth} onChange={(event) => setBirth(event.target.value)} />
          </Field>
          <div className="actions">
            {onBack ? (
              <KeyButton className="button button--secondary" shortcut="Alt+B" onClick={onBack}>
                {t('search.back')}
              </KeyButton>
            ) : null}
            <button type="submit" className="button button--primary" data-testid="search-submit" disabled={busy}>
              {busy ? t('common.working') : t('search.submit')}
              <kbd className="kbd">Enter</kbd>
            </button>
          </div>
        </form>
      </div>
      {problem !== null ? <Alert testId="applicant-problem">{problem}</Alert> : null}
      {error !== null ? <Alert testId="search-error">{error}</Alert> : null}
      {hits !== null ? (
        hits.length === 0 ? (
          <Alert tone="info">{t('search.none')}</Alert>
        ) : (
          <div className="table-wrap">
            <table className="table table--select">
              <caption>{t('search.results', { count: String(hits.length) })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('resident.name')}</th>
                  <th scope="col">{t('resident.reading')}</th>
                  <th scope="col">{t('resident.birth')}</th>
                  <th scope="col">{t('resident.address')}</th>
                  <th scope="col">{t('resident.flags')}</th>
                </tr>
              </thead>
              <tbody ref={tableRef}>
                {hits.map((hit) => (
                  <tr
                    key={hit.resident_id}
                    tabIndex={0}
                    data-testid="resident-row"
                    data-resident-id={hit.resident_id}
                    onClick={() => onChoose(hit)}
                    onKeyDown={(event) => onRowKey(event, hit)}
                  >
                    <td className="name">
                      {hit.name}
                      {/* Ends the name's line in the row's text (WebDriver's element text breaks lines only at <br>). */}
                      <br />
                    </td>
                    <td>{hit.reading}</td>
                    <td>{toWareki(hit.birth_date)}</td>
                    <td>{hit.address}</td>
                    <td>
                      <FlagBadges flags={hit.flags} testId="resident-flags" />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p className="field__hint">{t('search.keys')}</p>
          </div>
        )
      ) : null}
    </div>
  );
}

export function FlagBadges({ flags, testId, showNone = true }: { readonly flags: ResidentFlags | undefined; readonly testId?: string; readonly showNone?: boolean }) {
  const { t } = useI18n();
  const on = FLAG_KEYS.filter((flag) => flags?.[flag] === true);
  return (
    <span className="badges" data-testid={testId}>
      {on.length === 0 && showNone ? <span className="badge badge--none">{t('flag.none')}</span> : null}
      {on.map((flag) => (
        <span key={flag} className={`badge badge--${flag}`}>
          {t(`flag.${flag}`)}
        </span>
      ))}
    </span>
  );
}

// ---------------------------------------------------------------------------------------

interface CertificateStepProps {
  readonly info: AppInfo;
  readonly api: CounterApi;
  readonly staff: Staff;
  readonly applicant: ApplicantForm;
  readonly matrix: OptionMatrix;
  readonly items: readonly CertItem[];
  readonly selected: string | null;
  readonly payment: Payment;
  readonly tendered: string;
  readonly onPayment: (payment: Payment) => void;
  readonly onTendered: (text: string) => void;
  readonly onSelect: (key: string) => void;
  readonly onChange: (item: CertItem) => void;
  readonly onRemove: (key: string) => void;
  readonly onAddSameResident: (resident: ResidentHit) => void;
  readonly onAddOtherResident: () => void;
  readonly onSessionChange: (staff: Staff) => void;
  readonly onIssue: () => Promise<void>;
}

type PreviewState =
  | { readonly kind: 'none' }
  | { readonly kind: 'busy' }
  | { readonly kind: 'shown'; readonly issued: Issued }
  | {
      readonly kind: 'refused' | 'error';
      readonly code: string;
      readonly message: string;
      readonly detail?: string | undefined;
      readonly person?: RefusedPerson | undefined;
    };

/** Step 2: the certificates, their options and copies, a preview, and how the fee is paid. */
function CertificateStep(props: CertificateStepProps) {
  const { t } = useI18n();
  const { info, api, applicant, items, payment } = props;
  const item = items.find((it) => it.key === props.selected) ?? items[0];
  const [preview, setPreview] = useState<PreviewState>({ kind: 'none' });
  const [issuing, setIssuing] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const kindRef = useRef<HTMLSelectElement>(null);

  useEffect(() => {
    setPreview({ kind: 'none' });
    kindRef.current?.focus();
  }, [item?.key]);

  const showPreview = async (target: CertItem | undefined = item): Promise<PreviewState> => {
    if (!target) return { kind: 'none' };
    setPreview({ kind: 'busy' });
    const { request_id: _ignored, ...request } = requestOf(target, applicant, info, payment, props.matrix);
    void _ignored;
    const outcome = await api.preview(request);
    const next: PreviewState = outcome.ok
      ? { kind: 'shown', issued: outcome.body }
      : {
          kind: isRefusal(outcome.status, outcome.code) ? 'refused' : 'error',
          code: outcome.code,
          message: outcome.message,
          detail: outcome.detail,
          person: outcome.person,
        };
    setPreview(next);
    return next;
  };

  // A subject the preview was refused for is not issued (unless the support officer authorises it).
  const blocked = preview.kind === 'refused';

  const issue = async () => {
    if (blocked) return;
    const bad = items.find((it) => !(it.copies >= 1 && it.copies <= MAX_COPIES));
    if (bad) {
      setProblem(t('cert.problem.copies', { max: String(MAX_COPIES) }));
      return;
    }
    setProblem(null);
    setIssuing(true);
    await props.onIssue();
    setIssuing(false);
  };

  useHotkeys({
    p: item ? () => void showPreview() : false,
    i: !issuing && !blocked && items.length > 0 ? () => void issue() : false,
    a: item ? () => props.onAddSameResident(item.resident) : false,
    s: props.onAddOtherResident,
  });

  if (!item) return null;
  const allowed = props.matrix[item.kind];
  const change = (patch: Partial<CertItem>) => {
    setPreview({ kind: 'none' });
    props.onChange({ ...item, ...patch });
  };
  const setOption = (patch: Partial<CertItem['options']>) => change({ options: { ...item.options, ...patch } });
  const flags = item.resident.flags;

  return (
    <div className="card">
      <h3>{t('request.step.certificate')}</h3>
      <section className="subject" aria-label={t('cert.subject')}>
        <p className="subject__name">{item.resident.name}</p>
        <p>
          {item.resident.reading} ・ {toWareki(item.resident.birth_date)} ・ {item.resident.address}
        </p>
        <FlagBadges flags={flags} showNone={false} />
        {flags && FLAG_KEYS.some((flag) => flags[flag]) ? <Alert tone="warn">{t('cert.flags_warning')}</Alert> : null}
      </section>

      <table className="table items" aria-label={t('cert.list')}>
        <caption>{t('cert.list')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('cert.kind')}</th>
            <th scope="col">{t('resident.name')}</th>
            <th scope="col">{t('cert.copies')}</th>
            <th scope="col" />
          </tr>
        </thead>
        <tbody>
          {items.map((it) => (
            <tr key={it.key} aria-selected={it.key === item.key} className={it.key === item.key ? 'is-selected' : undefined}>
              <td>
                {t(`cert.kind.${it.kind}`)}
                {it.overrideReason !== undefined ? <span className="badge badge--support_measure">{t('override.done')}</span> : null}
              </td>
              <td>{it.resident.name}</td>
              <td>{it.copies}</td>
              <td className="row-actions">
                {it.key !== item.key ? (
                  <button type="button" className="button button--small" onClick={() => props.onSelect(it.key)}>
                    {t('cert.edit')}
                  </button>
                ) : null}
                <button type="button" className="button button--small button--danger" data-testid="cert-remove" onClick={() => props.onRemove(it.key)}>
                  {t('cert.remove')}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <fieldset className="fieldset">
        <legend>{t('cert.editing', { kind: t(`cert.kind.${item.kind}`), name: item.resident.name })}</legend>
        <Field label={t('cert.kind')} htmlFor="cert-kind">
          <select id="cert-kind" data-testid="cert-kind" ref={kindRef} value={item.kind} onChange={(event) => change({ kind: event.target.value as CertKind })}>
            {CERT_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {t(`cert.kind.${kind}`)}
              </option>
            ))}
          </select>
        </Field>
        {allowed.household ? (
          <Field label={t('opt.household')} htmlFor="opt-household">
            <select id="opt-household" data-testid="opt-household" value={item.options.household ?? 'self'} onChange={(event) => setOption({ household: event.target.value as 'all' | 'self' })}>
              <option value="self">{t('opt.household.self')}</option>
              <option value="all">{t('opt.household.all')}</option>
            </select>
          </Field>
        ) : null}
        {allowed.taxYear ? (
          <Field label={t('opt.tax_year')} htmlFor="opt-tax_year">
            <input
              id="opt-tax_year"
              data-testid="opt-tax_year"
              type="number"
              min={2000}
              max={2100}
              value={item.options.tax_year ?? ''}
              onChange={(event) => setOption({ tax_year: event.target.value === '' ? undefined : Number(event.target.value) })}
            />
          </Field>
        ) : null}
        <div className="checks">
          {FLAG_OPTIONS.filter((flag) => allowed.flags.includes(flag)).map((flag) => {
            const disallowed = flag === 'show_my_number' && !mayShowMyNumber(applicant.type);
            return (
              <label key={flag} className="check">
                <input
                  type="checkbox"
                  data-testid={`opt-${flag}`}
                  checked={!disallowed && item.options[flag] === true}
                  disabled={disallowed}
                  onChange={(event) => setOption({ [flag]: event.target.checked })}
                />
                {t(`opt.${flag}`)}
                {disallowed ? <span className="field__hint"> {t('opt.show_my_number.blocked')}</span> : null}
              </label>
            );
          })}
        </div>
        <Field label={t('cert.copies')} htmlFor="copies">
          <input
            id="copies"
            data-testid="copies"
            type="number"
            min={1}
            max={MAX_COPIES}
            value={Number.isFinite(item.copies) ? item.copies : ''}
            onChange={(event) => change({ copies: Number.parseInt(event.target.value, 10) })}
          />
        </Field>
        <div className="actions">
          <KeyButton className="button button--secondary" data-testid="preview-button" shortcut="Alt+P" onClick={() => void showPreview()} disabled={preview.kind === 'busy'}>
            {t('preview.button')}
          </KeyButton>
          <KeyButton className="button button--secondary" data-testid="cert-add" shortcut="Alt+A" onClick={() => props.onAddSameResident(item.resident)}>
            {t('cert.add_same')}
          </KeyButton>
          <KeyButton className="button button--secondary" data-testid="cert-add-other" shortcut="Alt+S" onClick={props.onAddOtherResident}>
            {t('cert.add_other')}
          </KeyButton>
        </div>
      </fieldset>

      {preview.kind === 'busy' ? <p role="status">{t('preview.loading')}</p> : null}
      {preview.kind === 'refused' ? (
        <>
          <Alert testId="refusal">
            <strong>{t('refusal.title')}</strong> {refusalText(t, preview.code, preview.message)}
            <RefusalDetail detail={preview.detail} person={preview.person} />
          </Alert>
          {preview.code === 'support_measure' ? (
            <Override
              item={item}
              staff={props.staff}
              api={api}
              onSessionChange={props.onSessionChange}
              onAuthorized={async (reason) => {
                const authorised: CertItem = { ...item, overrideReason: reason };
                props.onChange(authorised);
                const next = await showPreview(authorised);
                if (next.kind === 'refused') return refusalText(t, next.code, next.message);
                if (next.kind === 'error') return errorText(t, next.code, next.message);
                return null;
              }}
            />
          ) : (
            <p className="field__hint">{t('refusal.next')}</p>
          )}
        </>
      ) : null}
      {preview.kind === 'error' ? <Alert>{errorText(t, preview.code, preview.message)}</Alert> : null}
      {preview.kind === 'shown' ? (
        <>
          <Warnings issued={preview.issued} />
          <PdfPreview documents={preview.issued.documents} />
        </>
      ) : null}

      <fieldset className="fieldset">
        <legend>{t('fee.payment')}</legend>
        {applicant.type === 'official' ? (
          <p className="exempt">{t('fee.exempt_official')}</p>
        ) : (
          <div className="inline">
            <Field label={t('fee.method')} htmlFor="pay-method">
              <select id="pay-method" data-testid="pay-method" value={payment} onChange={(event) => props.onPayment(event.target.value as Payment)}>
                <option value="cash">{t('fee.method.cash')}</option>
                <option value="cashless">{t('fee.method.cashless')}</option>
              </select>
            </Field>
            {payment === 'cash' ? (
              <Field label={t('fee.tendered')} htmlFor="cash-tendered" hint={t('fee.tendered.hint')}>
                <input id="cash-tendered" data-testid="cash-tendered" inputMode="numeric" value={props.tendered} onChange={(event) => props.onTendered(event.target.value)} />
              </Field>
            ) : null}
          </div>
        )}
      </fieldset>
      {problem !== null ? <Alert>{problem}</Alert> : null}
      {blocked ? <Alert tone="warn">{t('issue.blocked')}</Alert> : null}
      <div className="actions">
        <KeyButton className="button button--primary" data-testid="issue-button" shortcut="Alt+I" onClick={() => void issue()} disabled={issuing || blocked}>
          {issuing ? t('common.working') : t('issue.button', { count: String(items.length) })}
        </KeyButton>
      </div>
    </div>
  );
}

function Warnings({ issued }: { readonly issued: Issued }) {
  const { t } = useI18n();
  const warnings = issued.warnings ?? [];
  if (warnings.length === 0) return null;
  return (
    <Alert tone="warn" testId="warnings">
      <p>{t('issue.warnings')}</p>
      <ul>
        {warnings.map((warning, index) => (
          <li key={index}>{warningText(t, warning.code, warning.detail ?? '')}</li>
        ))}
      </ul>
    </Alert>
  );
}

// ---------------------------------------------------------------------------------------

interface DoneStepProps {
  readonly info: AppInfo;
  readonly api: CounterApi;
  readonly staff: Staff;
  readonly applicantType: ApplicantForm['type'];
  readonly payment: Payment;
  readonly items: readonly CertItem[];
  readonly outcomes: Readonly<Record<string, ItemOutcome>>;
  readonly prints: Readonly<Record<string, PrintState>>;
  readonly tendered: string;
  readonly onTendered: (text: string) => void;
  readonly onPrint: (targets: readonly PrintTarget[]) => Promise<void>;
  readonly onRetry: (item: CertItem) => Promise<void>;
  readonly onOverride: (item: CertItem, reason: string) => Promise<ItemOutcome>;
  readonly onSessionChange: (staff: Staff) => void;
  readonly onNewRequest: () => void;
}

/** The total fee of the issued items. */
function totalFee(items: readonly CertItem[], outcomes: Readonly<Record<string, ItemOutcome>>): number {
  return items.reduce((sum, item) => {
    const outcome = outcomes[item.key];
    return outcome?.kind === 'issued' ? sum + (outcome.issued.fee_yen ?? 0) : sum;
  }, 0);
}

/** Step 3: what was issued or refused, the printing (started at once), the fee and the receipt. */
function DoneStep(props: DoneStepProps) {
  const { t, locale } = useI18n();
  const { info, items, outcomes, prints, payment } = props;
  const tenderedRef = useRef<HTMLInputElement>(null);
  const newRef = useRef<HTMLButtonElement>(null);
  const issued = items.flatMap((item) => {
    const outcome = outcomes[item.key];
    return outcome?.kind === 'issued' ? [{ item, issued: outcome.issued }] : [];
  });
  const documents = printTargets(items, outcomes);
  const total = totalFee(items, outcomes);
  const exemptions = [...new Set(issued.map((entry) => entry.issued.exemption).filter((text): text is string => typeof text === 'string' && text !== ''))];
  const exempt = props.applicantType === 'official' || exemptions.length > 0;
  const cashDue = payment === 'cash' && total > 0 && !exempt;
  const due = cashDue && props.tendered.trim() !== '' ? changeDue(total, props.tendered) : null;
  const failed = documents.filter((doc) => prints[doc.key]?.state === 'failed');
  const printing = documents.some((doc) => prints[doc.key]?.state === 'printing');
  const receipts = [...new Set(issued.map((entry) => entry.issued.receipt_no).filter((no): no is string => !!no))];

  useEffect(() => {
    if (cashDue && props.tendered.trim() === '') tenderedRef.current?.focus();
    else newRef.current?.focus();
    // Only when the step opens.
  }, []);

  useHotkeys({
    r: failed.length > 0 && !printing ? () => void props.onPrint(failed) : false,
    n: props.onNewRequest,
  });

  return (
    <div className="card">
      <h3>{t('request.step.done')}</h3>
      {items.map((item) => {
        const outcome = outcomes[item.key];
        return (
          <section key={item.key} className="result" aria-label={t(`cert.kind.${item.kind}`)}>
            <h4>
              {t(`cert.kind.${item.kind}`)} — {item.resident.name} — {t('cert.copies_n', { copies: String(item.copies) })}
            </h4>
            {outcome === undefined ? <p>{t('common.working')}</p> : null}
            {outcome?.kind === 'issued' ? (
              <>
                <p>
                  {t('issue.done', { fee: yen(locale, outcome.issued.fee_yen ?? 0) })}
                  {outcome.issued.replayed ? <span className="badge">{t('issue.replayed')}</span> : null}
                  {outcome.overridden ? <span className="badge badge--support_measure">{t('override.done')}</span> : null}
                </p>
                <Warnings issued={outcome.issued} />
              </>
            ) : null}
            {outcome?.kind === 'refused' ? (
              <>
                <Alert testId="refusal">
                  <strong>{t('refusal.title')}</strong> {refusalText(t, outcome.code, outcome.message)}
                  <RefusalDetail detail={outcome.detail} person={outcome.person} />
                </Alert>
                {outcome.code === 'support_measure' ? (
                  <Override
                    item={item}
                    staff={props.staff}
                    api={props.api}
                    onSessionChange={props.onSessionChange}
                    onAuthorized={async (reason) => {
                      const result = await props.onOverride(item, reason);
                      if (result.kind === 'refused') return refusalText(t, result.code, result.message);
                      if (result.kind === 'error') return errorText(t, result.code, result.message);
                      return null;
                    }}
                  />
                ) : null}
              </>
            ) : null}
            {outcome?.kind === 'error' ? (
              <>
                <Alert testId="issue-error">{errorText(t, outcome.code, outcome.message)}</Alert>
                <button type="button" className="button button--secondary" data-testid="issue-retry" onClick={() => void props.onRetry(item)}>
                  {t('issue.retry')}
                </button>
              </>
            ) : null}
          </section>
        );
      })}

      {documents.length > 0 ? (
        <section className="print" aria-labelledby="print-title">
          <h4 id="print-title">{t('print.title')}</h4>
          <ul className="print-status" data-testid="print-status" aria-live="polite">
            {documents.map(({ key, document }) => {
              const state = prints[key] ?? { state: 'waiting' };
              return (
                <li key={key} className={`print-status__${state.state}`}>
                  <span className="mono">{document.issue_number}</span>{' '}
                  {state.state === 'waiting' ? t('print.waiting') : null}
                  {state.state === 'printing' ? t('print.printing') : null}
                  {state.state === 'printed' ? (
                    <>
                      {t('print.printed', { queue: state.queue, job: state.job })} <span className="mono sha">SHA-256 {state.sha256}</span>
                    </>
                  ) : null}
                  {state.state === 'failed' ? t('print.failed', { reason: errorText(t, state.code, state.message) }) : null}
                </li>
              );
            })}
          </ul>
          {failed.length > 0 ? (
            <KeyButton className="button button--primary" data-testid="print-retry" shortcut="Alt+R" onClick={() => void props.onPrint(failed)} disabled={printing}>
              {t('print.retry', { count: String(failed.length) })}
            </KeyButton>
          ) : null}
        </section>
      ) : null}

      {issued.length > 0 ? (
        <section className="fee" aria-labelledby="fee-title">
          <h4 id="fee-title">{t('fee.title')}</h4>
          <p className="fee__total" data-testid="fee-total">
            {t('fee.total', { total: yen(locale, total) })}
          </p>
          {exempt ? (
            <p className="exempt" data-testid="fee-exemption">
              {t('fee.exempt', { reason: exemptions.join('、') || t('applicant.type.official') })}
            </p>
          ) : (
            <p>{t('fee.method_is', { method: t(`fee.method.${payment}`) })}</p>
          )}
          {cashDue ? (
            <div className="inline">
              <Field label={t('fee.tendered')} htmlFor="cash-tendered">
                <input id="cash-tendered" data-testid="cash-tendered" ref={tenderedRef} inputMode="numeric" value={props.tendered} onChange={(event) => props.onTendered(event.target.value)} />
              </Field>
              {due === null ? (
                <p className="fee__change">{t('fee.change_none')}</p>
              ) : (
                <p className="fee__change" data-testid="change-due" aria-live="polite">
                  {'change' in due ? t('fee.change', { change: yen(locale, due.change) }) : t('fee.short', { short: yen(locale, due.short) })}
                </p>
              )}
            </div>
          ) : null}
        </section>
      ) : null}

      {issued.length > 0 ? (
        <section className="receipt" data-testid="receipt" aria-labelledby="receipt-title">
          <h4 id="receipt-title">{t('receipt.title')}</h4>
          <p>
            {t('receipt.no')}: <strong className="mono" data-testid="receipt-no">{receipts.join(', ')}</strong>
          </p>
          <p>{t('receipt.where', { town: info.town, terminal: info.terminal, day: info.today, staff: props.staff.login })}</p>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">{t('cert.kind')}</th>
                <th scope="col">{t('cert.copies')}</th>
                <th scope="col">{t('receipt.numbers')}</th>
                <th scope="col">{t('receipt.fee')}</th>
              </tr>
            </thead>
            <tbody>
              {issued.map(({ item, issued: answer }) => (
                <tr key={item.key}>
                  <td>{t(`cert.kind.${item.kind}`)}</td>
                  <td>{item.copies}</td>
                  <td className="mono">{answer.documents.map((document) => document.issue_number).join(' / ')}</td>
                  <td>{yen(locale, answer.fee_yen ?? 0)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row" colSpan={3}>
                  {t('receipt.total')}
                </th>
                <td data-testid="receipt-total">{yen(locale, total)}</td>
              </tr>
            </tfoot>
          </table>
          <p>{exempt ? t('fee.exempt', { reason: exemptions.join('、') || t('applicant.type.official') }) : t('fee.method_is', { method: t(`fee.method.${payment}`) })}</p>
          {due !== null && 'change' in due ? <p>{t('receipt.cash', { tendered: yen(locale, total + due.change), change: yen(locale, due.change) })}</p> : null}
        </section>
      ) : null}

      <div className="actions">
        <KeyButton ref={newRef} className="button button--primary" data-testid="new-request" shortcut="Alt+N" onClick={props.onNewRequest}>
          {t('receipt.new')}
        </KeyButton>
      </div>
    </div>
  );
}

/**
 * The support officer's authorisation of a support-measure stop: a support
 * officer's session gives the reason; anyone else first has the support officer
 * log in on this terminal (the session switches to them).
 */
function Override({
  item,
  staff,
  api,
  onSessionChange,
  onAuthorized,
}: {
  readonly item: CertItem;
  readonly staff: Staff;
  readonly api: CounterApi;
  readonly onSessionChange: (staff: Staff) => void;
  /** Goes on with the reason; answers the words of a failure, or null. */
  readonly onAuthorized: (reason: string) => Promise<string | null>;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const reasonField = (
    <Field label={t('override.reason')} htmlFor={`override-reason-${item.key}`}>
      <textarea id={`override-reason-${item.key}`} data-testid="override-reason" value={reason} onChange={(event) => setReason(event.target.value)} rows={2} />
    </Field>
  );

  if (staff.role === 'support_officer') {
    return (
      <section className="override" aria-label={t('override.title')}>
        <h5>{t('override.title')}</h5>
        {reasonField}
        {error !== null ? <Alert testId="override-error">{error}</Alert> : null}
        <button
          type="button"
          className="button button--danger"
          data-testid="override-submit"
          onClick={async () => {
            if (reason.trim() === '') return setError(t('override.problem.reason'));
            setError(await onAuthorized(reason.trim()));
          }}
        >
          {t('override.submit')}
        </button>
      </section>
    );
  }
  return (
    <section className="override" aria-label={t('override.title')}>
      <h5>{t('override.title')}</h5>
      <p>{t('override.explain')}</p>
      <CredentialsForm
        prefix="override"
        autoFocus={false}
        submitLabel={t('override.submit')}
        precheck={() => (reason.trim() === '' ? t('override.problem.reason') : null)}
        onSubmit={async (login, password, totp) => {
          const answer = await api.login(login, password, totp);
          if (!answer.ok) return errorText(t, answer.code, answer.message);
          // The shell now holds the new session's token, whoever it is.
          onSessionChange(answer.body.staff);
          if (answer.body.staff.role !== 'support_officer') return t('override.problem.role');
          return onAuthorized(reason.trim());
        }}
      >
        {reasonField}
      </CredentialsForm>
    </section>
  );
}
