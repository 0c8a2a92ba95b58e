// The counter API (docs/counter-api.yaml) as typed functions over the
// `counter_call` command. Every call answers an {@link ApiOutcome}: the body on
// success, else the API's stable error `code` (or `unreachable` when the shell
// could not reach the server at all).
import { counterCall, type HttpMethod, ipcFailureOf } from './ipc';
import type { SettingsAnswer, SettingState } from './logic/settings';

/** A staff role (counter-api.yaml's role table). */
export type Role = 'clerk' | 'supervisor' | 'support_officer' | 'admin';

/** Every role, in the order the admin screen offers them. */
export const ROLES: readonly Role[] = ['clerk', 'supervisor', 'support_officer', 'admin'];

/** The staff member a session belongs to. */
export interface Staff {
  readonly login: string;
  readonly role: Role;
}

/** The answer of a successful login (the shell keeps the token). */
export interface LoginAnswer {
  readonly staff: Staff;
  readonly expires_idle_secs?: number;
}

/** Status flags of a resident hit. */
export interface ResidentFlags {
  readonly support_measure?: boolean;
  readonly suppression?: boolean;
  readonly moved_out?: boolean;
  readonly deceased?: boolean;
}

/** One resident found by a search. */
export interface ResidentHit {
  readonly resident_id: string;
  readonly household_id?: string;
  readonly name: string;
  readonly reading?: string;
  readonly birth_date?: string;
  readonly address?: string;
  readonly flags?: ResidentFlags;
}

/** The certificates the counter issues. */
export type CertKind = 'juminhyo' | 'kisai_jiko' | 'inkan' | 'koseki_zenbu' | 'koseki_kojin' | 'fuhyo' | 'shotoku_kazei';

/** Every certificate kind, in the order the counter offers them. */
export const CERT_KINDS: readonly CertKind[] = [
  'juminhyo',
  'kisai_jiko',
  'inkan',
  'koseki_zenbu',
  'koseki_kojin',
  'fuhyo',
  'shotoku_kazei',
];

/** Who is asking (tagged by type). */
export type ApplicantType = 'person' | 'household_member' | 'proxy' | 'third_party' | 'official';

/** Every applicant type, in the order the counter offers them. */
export const APPLICANT_TYPES: readonly ApplicantType[] = ['person', 'household_member', 'proxy', 'third_party', 'official'];

/** The applicant as the API takes it. */
export interface Applicant {
  readonly type: ApplicantType;
  readonly letter_of_proxy?: boolean;
  readonly purpose?: string;
  readonly office?: string;
}

/** Certificate options (CounterRequest.options). */
export interface CertOptions {
  household?: 'all' | 'self';
  show_relationship?: boolean;
  show_honseki?: boolean;
  show_my_number?: boolean;
  show_former_surname?: boolean;
  show_resident_code?: boolean;
  tax_year?: number;
  omit_seal?: boolean;
}

/** How the fee is paid. */
export type Payment = 'cash' | 'cashless';

/** A counter request (preview or issuance). */
export interface CounterRequest {
  request_id?: string;
  applicant: Applicant;
  identity: { photo?: readonly string[]; non_photo?: readonly string[] };
  certificate: CertKind;
  subject: { resident_id?: string; koseki_id?: string; member_no?: number };
  options?: CertOptions;
  copies: number;
  terminal: string;
  printer: string;
  payment?: Payment;
  override_reason?: string;
}

/** One printed document of an issuance (one per copy). */
export interface IssuedDocument {
  readonly copy?: number;
  readonly issue_number?: string;
  readonly pages?: number;
  readonly sha256: string;
  readonly pdf_base64: string;
}

/** A warning attached to an issuance. */
export interface IssueWarning {
  readonly code: string;
  readonly detail?: string;
}

/** The answer of an issuance or a preview. */
export interface Issued {
  readonly issuance_id?: string;
  readonly receipt_no?: string;
  readonly fee_yen?: number;
  readonly exemption?: string | null;
  readonly warnings?: readonly IssueWarning[];
  readonly replayed?: boolean;
  readonly documents: readonly IssuedDocument[];
}

/** The day's money by payment method. */
export interface DayTotals {
  readonly cash_yen?: number;
  readonly cashless_yen?: number;
  readonly exempt?: number;
  readonly issuances?: number;
  readonly voids?: number;
}

/** The answer of GET /days/{day}. */
export interface DayExpected {
  readonly day: string;
  readonly expected: DayTotals;
}

/** The answer of POST /days/{day}/close. */
export interface DayClosed {
  readonly day: string;
  readonly totals?: DayTotals;
  readonly counted_cash_yen: number;
  readonly difference_yen: number;
  readonly audit_head?: string;
}

/** A row of a report list: whatever fields the server sends. */
export type ReportRow = Readonly<Record<string, unknown>>;

/** The supervisor's report of a day. */
export interface DayReport {
  readonly day: string;
  readonly by_kind?: Readonly<Record<string, number>>;
  readonly by_channel?: Readonly<Record<string, number>>;
  readonly by_hour?: Readonly<Record<string, number>>;
  readonly by_staff?: Readonly<Record<string, number>>;
  readonly copies?: number;
  readonly voids?: readonly ReportRow[];
  readonly overrides?: readonly ReportRow[];
  readonly kiosk_failures?: readonly ReportRow[];
  readonly kiosk_without_outcome?: readonly ReportRow[];
  readonly kiosk_errors?: readonly ReportRow[];
  readonly render_alerts?: readonly ReportRow[];
  readonly replica_downloads?: readonly ReportRow[];
  /** The copies whose printing failed that day: `{issuance_id, copy, issue_number, staff, detail, at}`. */
  readonly print_failures?: readonly ReportRow[];
  /** The day's close once signed off, with the audit chain's head it sealed. */
  readonly close?: {
    readonly supervisor: string;
    readonly at: string;
    readonly counted_cash_yen: number;
    readonly difference_yen: number;
    readonly audit_head: string;
  } | null;
  readonly access_anomalies?: {
    readonly late_night?: readonly ReportRow[];
    readonly many_lookups?: readonly ReportRow[];
    readonly lookups_without_issuance?: readonly ReportRow[];
    readonly denied?: readonly ReportRow[];
  };
}

/** One problem the audit verification found (counter-api.yaml). */
export interface AuditProblem {
  readonly problem: string;
  readonly [field: string]: unknown;
}

/**
 * The answer of GET /audit: `entries`, `rows`, `head` and `problems` (empty when
 * everything verifies); an `ok` flag is honoured too. Other fields are shown as they come.
 */
export interface AuditStatus {
  readonly ok?: boolean;
  readonly problems?: readonly AuditProblem[];
  readonly [field: string]: unknown;
}

/** The verdict of an audit answer: `ok` when given, else whether `problems` is empty; null when neither says. */
export function auditVerdict(audit: AuditStatus): boolean | null {
  if (typeof audit.ok === 'boolean') return audit.ok && (audit.problems?.length ?? 0) === 0;
  if (Array.isArray(audit.problems)) return audit.problems.length === 0;
  return null;
}

/** GET /reports/{day}/pdf: the day's report rendered by the core. */
export interface ReportPdf {
  readonly filename: string;
  readonly pdf_base64: string;
  readonly sha256: string;
  readonly pages: number;
}

/** Whether one printed copy reached the printer (POST /issuances/{id}/print-outcomes). */
export interface PrintOutcome {
  /** The copy's number, from 1. */
  readonly copy: number;
  readonly outcome: 'printed' | 'failed';
  /** The print queue and job the shell answered, when printed. */
  readonly queue: string | null;
  readonly job: string | null;
  /** Why it failed, when it did. */
  readonly detail: string | null;
}

/** What GET /issuances looks for: any combination, at least one (the days are YYYY-MM-DD, JST). */
export interface IssuanceQuery {
  /** A 発行番号 as printed on any copy. */
  readonly number?: string;
  /** A receipt number, e.g. 20260507-本庁1-0001. */
  readonly receipt?: string;
  /** The subject's resident ID. */
  readonly resident?: string;
  readonly from?: string;
  readonly to?: string;
}

/** One issuance found by GET /issuances. */
export interface FoundIssuance {
  /** The internal ID (what a void names; never typed by anyone). */
  readonly issuance_id: string;
  readonly channel: string;
  /** Terminal and printer, or the kiosk. */
  readonly point: string;
  readonly kind: string;
  readonly subject_id: string;
  /** Who issued it (empty for a kiosk). */
  readonly staff: string;
  /** RFC 3339. */
  readonly issued_at: string;
  readonly fee_yen: number;
  readonly receipt_no: string | null;
  /** Every copy's 発行番号, in order. */
  readonly issue_numbers: readonly string[];
  readonly voided: boolean;
}

/** The query string of an {@link IssuanceQuery}: its given criteria, each URL-encoded, in a fixed order. */
export function issuanceQueryString(query: IssuanceQuery): string {
  const fields = ['number', 'receipt', 'resident', 'from', 'to'] as const;
  return fields
    .flatMap((field) => {
      const value = query[field];
      return value === undefined || value === '' ? [] : [`${field}=${encodeURIComponent(value)}`];
    })
    .join('&');
}

/** A staff account as the admin sees it. */
export interface StaffAccount {
  readonly login: string;
  readonly role: string;
  readonly active?: boolean;
  readonly locked?: boolean;
  readonly failed_attempts?: number;
  readonly created_at?: string;
  /** Invited, not yet enrolled: the person has not used their enrolment code. */
  readonly pending?: boolean;
}

/** The answer of POST /staff: the enrolment code the administrator hands over, shown this once. */
export interface StaffInvitation {
  readonly login: string;
  readonly role: Role;
  /** e.g. ABCD-EFGH-JKLM-NPQR. */
  readonly enrolment_code: string;
  /** When the code stops working (RFC 3339). */
  readonly expires_at: string;
}

/** The answer of an enrolment (POST /staff/enrol, or the first administrator's): the TOTP secret, shown this once. */
export interface Enrolled {
  readonly login: string;
  readonly totp_secret: string;
  readonly otpauth_uri: string;
}

/** What a call came to. `status` is 0 when the server was not reached. */
export type ApiOutcome<T> =
  | { readonly ok: true; readonly status: number; readonly body: T }
  | {
      readonly ok: false;
      readonly status: number;
      readonly code: string;
      readonly message: string;
      /** For staff: what exactly matched a refusal (e.g. who a support measure protects). */
      readonly detail?: string;
      /** For staff: the person a support measure or suppression protects. */
      readonly person?: RefusedPerson;
    };

/** The person a counter refusal concerns (`error.person`). */
export interface RefusedPerson {
  readonly resident_id: string;
  readonly name: string;
  readonly relation: 'subject' | 'household_member' | 'shown';
}

/** A failed {@link ApiOutcome}. */
export type ApiFailure = Extract<ApiOutcome<unknown>, { ok: false }>;

function isRefusedPerson(value: unknown): value is RefusedPerson {
  if (typeof value !== 'object' || value === null) return false;
  const { resident_id, name, relation } = value as Record<string, unknown>;
  return typeof resident_id === 'string' && typeof name === 'string' && (relation === 'subject' || relation === 'household_member' || relation === 'shown');
}

/** Reads `{"error": {code, message}}`; anything else becomes `http_<status>`. */
export function failureOf(status: number, body: unknown): ApiFailure {
  if (typeof body === 'object' && body !== null) {
    const error = (body as Record<string, unknown>).error;
    if (typeof error === 'object' && error !== null) {
      const { code, message, detail, person } = error as Record<string, unknown>;
      if (typeof code === 'string') {
        const failure: { ok: false; status: number; code: string; message: string; detail?: string; person?: RefusedPerson } = {
          ok: false,
          status,
          code,
          message: typeof message === 'string' ? message : '',
        };
        if (typeof detail === 'string') failure.detail = detail;
        if (isRefusedPerson(person)) failure.person = person;
        return failure;
      }
    }
  }
  return { ok: false, status, code: `http_${status}`, message: '' };
}

/** Whether a failure means the session is gone (the staff member must log in again). */
export function isSessionGone(failure: ApiFailure): boolean {
  return failure.status === 401 && (failure.code === 'unauthenticated' || failure.code === 'session_expired');
}

/** One call to the counter API. */
export async function callApi<T>(method: HttpMethod, path: string, body?: unknown): Promise<ApiOutcome<T>> {
  try {
    const reply = await counterCall(method, path, body);
    if (reply.status >= 200 && reply.status < 300) return { ok: true, status: reply.status, body: reply.body as T };
    return failureOf(reply.status, reply.body);
  } catch (error) {
    const failure = ipcFailureOf(error);
    return { ok: false, status: 0, code: failure.code, message: failure.message };
  }
}

const seg = encodeURIComponent;


/** The counter API. `onSessionGone` hears of every call refused for a missing or expired session. */
/** What a supervisor may conclude about a flagged offline issuance. */
export type FlagResolution = 'confirmed_valid' | 'recalled' | 'voided';

/** GET /offline/review: the offline work each terminal uploaded, with its flags. */
export interface OfflineReview {
  readonly open_flags: number;
  readonly terminals: readonly {
    readonly terminal: string;
    readonly entries: number;
    readonly first_at: string;
    readonly last_at: string;
    readonly issuances: readonly {
      readonly issuance_id: string;
      readonly staff: string;
      readonly subject_id: string;
      readonly at: string;
      readonly override_used: boolean;
      readonly flag: null | {
        readonly flag_id: string;
        readonly replica_seq: number;
        readonly changes: readonly Readonly<Record<string, unknown>>[];
        readonly resolution: null | { readonly resolution: string; readonly note: string; readonly supervisor: string; readonly at: string };
      };
    }[];
  }[];
}

export function createApi(onSessionGone: (failure: ApiFailure) => void = () => undefined) {
  async function call<T>(method: HttpMethod, path: string, body?: unknown): Promise<ApiOutcome<T>> {
    const outcome = await callApi<T>(method, path, body);
    if (!outcome.ok && isSessionGone(outcome)) onSessionGone(outcome);
    return outcome;
  }
  return {
    /** POST /login (never reported as a gone session: a failed login is its own answer). */
    login: (login: string, password: string, totp: string) =>
      callApi<LoginAnswer>('POST', '/counter/v1/login', { login, password, totp }),
    logout: () => callApi<null>('POST', '/counter/v1/logout'),
    /** POST /session/password: the member of staff changes their own password. */
    changePassword: (current: string, next: string) =>
      call<null>('POST', '/counter/v1/session/password', { current_password: current, new_password: next }),
    searchResidents: (query: { name?: string; birth_date?: string }) => {
      const params = new URLSearchParams();
      if (query.name) params.set('name', query.name);
      if (query.birth_date) params.set('birth_date', query.birth_date);
      return call<{ residents: ResidentHit[] }>('GET', `/counter/v1/residents?${params.toString()}`);
    },
    /** GET /options: the option matrix, option names per certificate kind. */
    optionMatrix: () => call<{ kinds: Record<string, readonly string[]> }>('GET', '/counter/v1/options'),
    preview: (request: CounterRequest) => call<Issued>('POST', '/counter/v1/previews', request),
    issue: (request: CounterRequest) => call<Issued>('POST', '/counter/v1/issuances', request),
    /**
     * POST /issuances/{id}/print-outcomes (204): records, for the supervisor, whether a copy
     * reached the printer. Never reported as a gone session: the record must not lock the
     * clerk's screen in the middle of a request; a refused record is left unsaid.
     */
    printOutcome: (issuanceId: string, outcome: PrintOutcome) =>
      callApi<null>('POST', `/counter/v1/issuances/${seg(issuanceId)}/print-outcomes`, outcome),
    /** GET /issuances: issuances by 発行番号, receipt number, resident or days, newest first. */
    findIssuances: (query: IssuanceQuery) =>
      call<{ issuances: FoundIssuance[] }>('GET', `/counter/v1/issuances?${issuanceQueryString(query)}`),
    voidIssuance: (issuanceId: string, reason: string) =>
      call<{ issuance_id: string; voided: boolean }>('POST', `/counter/v1/issuances/${seg(issuanceId)}/voids`, { reason }),
    day: (day: string) => call<DayExpected>('GET', `/counter/v1/days/${seg(day)}`),
    closeDay: (day: string, countedCashYen: number) =>
      call<DayClosed>('POST', `/counter/v1/days/${seg(day)}/close`, { counted_cash_yen: countedCashYen }),
    report: (day: string) => call<DayReport>('GET', `/counter/v1/reports/${seg(day)}`),
    reportPdf: (day: string, lang: 'ja' | 'en') => call<ReportPdf>('GET', `/counter/v1/reports/${seg(day)}/pdf?lang=${lang}`),
    audit: () => call<AuditStatus>('GET', '/counter/v1/audit'),
    offlineReview: () => call<OfflineReview>('GET', '/counter/v1/offline/review'),
    resolveFlag: (flagId: string, resolution: FlagResolution, note: string) =>
      call<{ flag_id: string }>('POST', `/counter/v1/offline/flags/${seg(flagId)}/resolution`, { resolution, note }),
    staff: () => call<{ staff: StaffAccount[] }>('GET', '/counter/v1/staff'),
    /** POST /staff: adds a member of staff, who sets their own password with the code answered. */
    addStaff: (login: string, role: Role) => call<StaffInvitation>('POST', '/counter/v1/staff', { login, role }),
    /** POST /staff/enrol (no session): a new member of staff sets their password with their enrolment code. */
    enrol: (login: string, enrolmentCode: string, password: string) =>
      callApi<Enrolled>('POST', '/counter/v1/staff/enrol', { login, enrolment_code: enrolmentCode, password }),
    unlock: (login: string) => call<null>('POST', `/counter/v1/staff/${seg(login)}/unlock`),
    deactivate: (login: string, reason: string) =>
      call<null>('POST', `/counter/v1/staff/${seg(login)}/deactivate`, { reason }),
    settings: () => call<SettingsAnswer>('GET', '/counter/v1/admin/settings'),
    changeSetting: (setting: string, expectedRevision: number, value: unknown, reason: string) =>
      call<SettingState>('POST', `/counter/v1/admin/settings/${seg(setting)}`, { expected_revision: expectedRevision, value, reason }),
  };
}

/** The counter API as the screens use it. */
export type CounterApi = ReturnType<typeof createApi>;
