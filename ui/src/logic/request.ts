// The counter request as the clerk fills it in, and how it becomes the API's
// CounterRequest (pure, so it is tested without a screen).
import { type Applicant, type ApplicantType, CERT_KINDS, type CertKind, type CertOptions, type CounterRequest, type Payment, type ResidentHit } from '../api';
import { type MessageKey, translate } from '../i18n';

/** Photo identity documents (one suffices). */
export const PHOTO_IDS = [
  'my_number_card',
  'driver_license',
  'passport',
  'residence_card',
  'special_permanent_resident',
  'driving_history',
  'disability_handbook',
  'official_photo_id',
] as const;

/** Identity documents without a photo (two are needed). */
export const NON_PHOTO_IDS = [
  'health_insurance',
  'care_insurance',
  'pension',
  'medical_certificate',
  'bankbook',
  'student_or_employee_card',
] as const;

export type PhotoId = (typeof PHOTO_IDS)[number];
export type NonPhotoId = (typeof NON_PHOTO_IDS)[number];

/** The applicant step as filled in. */
export interface ApplicantForm {
  readonly type: ApplicantType;
  readonly letterOfProxy: boolean;
  readonly purpose: string;
  readonly office: string;
  /** The photo ID seen, or '' for none (then two non-photo documents). */
  readonly photo: PhotoId | '';
  readonly nonPhoto: readonly NonPhotoId[];
}

export const EMPTY_APPLICANT: ApplicantForm = {
  type: 'person',
  letterOfProxy: false,
  purpose: '',
  office: '',
  photo: '',
  nonPhoto: [],
};

/** What is missing from the applicant step (a message key), or null when it is complete. */
export function applicantProblem(form: ApplicantForm): MessageKey | null {
  if (form.type === 'proxy' && !form.letterOfProxy) return 'applicant.problem.letter';
  if (form.type === 'third_party' && form.purpose.trim() === '') return 'applicant.problem.purpose';
  if (form.type === 'official' && form.office.trim() === '') return 'applicant.problem.office';
  if (form.photo === '' && form.nonPhoto.length < 2) return 'applicant.problem.identity';
  return null;
}

/** The applicant as the API takes it. */
export function applicantOf(form: ApplicantForm): Applicant {
  switch (form.type) {
    case 'proxy':
      return { type: 'proxy', letter_of_proxy: form.letterOfProxy };
    case 'third_party':
      return { type: 'third_party', purpose: form.purpose.trim() };
    case 'official':
      return { type: 'official', office: form.office.trim() };
    default:
      return { type: form.type };
  }
}

/** The documents seen, named in Japanese as the ledger records them. */
export function identityOf(form: ApplicantForm): CounterRequest['identity'] {
  if (form.photo !== '') return { photo: [translate('ja', `id.photo.${form.photo}`)] };
  return { non_photo: form.nonPhoto.map((doc) => translate('ja', `id.non_photo.${doc}`)) };
}

/** The on/off options. */
export const FLAG_OPTIONS = [
  'show_relationship',
  'show_honseki',
  'show_my_number',
  'show_former_surname',
  'show_resident_code',
  'omit_seal',
] as const;

export type FlagOption = (typeof FLAG_OPTIONS)[number];

/** Which options a certificate kind takes. */
export interface KindOptions {
  readonly household: boolean;
  readonly taxYear: boolean;
  readonly flags: readonly FlagOption[];
}

/** The counter column of the domain's option matrix: the options each kind takes. */
export type OptionMatrix = Readonly<Record<CertKind, KindOptions>>;

/**
 * The matrix from its wire form (GET /counter/v1/options: option names per kind).
 * A kind the server does not list takes no option; an option the form does not know
 * is left out (it cannot be offered).
 */
export function matrixFrom(kinds: Readonly<Record<string, readonly string[]>>): OptionMatrix {
  const of = (kind: CertKind): KindOptions => {
    const names = kinds[kind] ?? [];
    return {
      household: names.includes('household'),
      taxYear: names.includes('tax_year'),
      flags: FLAG_OPTIONS.filter((flag) => names.includes(flag)),
    };
  };
  return Object.fromEntries(CERT_KINDS.map((kind) => [kind, of(kind)])) as OptionMatrix;
}

/** A 個人番号 may be shown only to the person or a household member (DOMAIN.md §2). */
export function mayShowMyNumber(type: ApplicantType): boolean {
  return type === 'person' || type === 'household_member';
}

/** One certificate of the request. */
export interface CertItem {
  /** A key for the list. */
  readonly key: string;
  /** The idempotency key: kept across retries of the same request. */
  readonly requestId: string;
  readonly resident: ResidentHit;
  readonly kind: CertKind;
  readonly options: CertOptions;
  readonly copies: number;
  /** The support officer's reason, once they have authorised a support-measure stop. */
  readonly overrideReason?: string;
}

/** A new item for `resident`: 住民票, this resident only, one copy. */
export function newItem(resident: ResidentHit, today: string, newId: () => string = () => crypto.randomUUID()): CertItem {
  return {
    key: newId(),
    requestId: newId(),
    resident,
    kind: 'juminhyo',
    options: { household: 'self', tax_year: Number(today.slice(0, 4)) },
    copies: 1,
  };
}

/** The options the kind takes, out of those set (others are not sent). */
export function optionsFor(allowed: KindOptions, options: CertOptions, applicant: ApplicantType): CertOptions {
  const result: CertOptions = {};
  if (allowed.household) result.household = options.household ?? 'self';
  if (allowed.taxYear && options.tax_year !== undefined) result.tax_year = options.tax_year;
  for (const flag of allowed.flags) {
    if (flag === 'show_my_number' && !mayShowMyNumber(applicant)) continue;
    if (options[flag]) result[flag] = true;
  }
  return result;
}

/** The CounterRequest for one item. */
export function requestOf(
  item: CertItem,
  applicant: ApplicantForm,
  terminal: { readonly terminal: string; readonly printer: string },
  payment: Payment,
  matrix: OptionMatrix,
  overrideReason?: string,
): CounterRequest {
  const request: CounterRequest = {
    request_id: item.requestId,
    applicant: applicantOf(applicant),
    identity: identityOf(applicant),
    certificate: item.kind,
    subject: { resident_id: item.resident.resident_id },
    options: optionsFor(matrix[item.kind], item.options, applicant.type),
    copies: item.copies,
    terminal: terminal.terminal,
    printer: terminal.printer,
    payment,
  };
  const reason = overrideReason ?? item.overrideReason;
  if (reason !== undefined) request.override_reason = reason;
  return request;
}

/** Whether a refused issuance or preview (403) is a refusal of the subject rather than of the role. */
export function isRefusal(status: number, code: string): boolean {
  return status === 403 && code !== 'forbidden';
}
