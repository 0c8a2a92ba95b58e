// The supervisor's report of a day: charts, the lists to review, voiding an
// issuance (found by its 発行番号 or receipt number: VoidIssuance.tsx), the audit
// chain's status, and its export as CSV and PDF (saved by the shell).
import { useEffect, useState } from 'react';

import { auditVerdict, CERT_KINDS, type AuditStatus, type CounterApi, type DayExpected, type DayReport, type ReportRow, type Staff } from '../api';
import type { AppInfo } from '../appInfo';
import { useI18n } from '../I18nContext';
import { errorText, hasMessage, type MessageKey, type Translate, yen } from '../i18n';
import { barsOf, hourBars } from '../logic/charts';
import { reportCsv } from '../logic/csv';
import { base64OfText } from '../base64';
import { ipcFailureOf, saveExport } from '../ipc';
import { BarChart } from './BarChart';
import { OfflineReview } from './OfflineReview';
import { VoidForm } from './VoidIssuance';
import { Alert, cellText, Field, RowsTable } from './common';

export function Report({ info, api, staff }: { readonly info: AppInfo; readonly api: CounterApi; readonly staff: Staff }) {
  const { t, locale } = useI18n();
  const [day, setDay] = useState(info.today);
  const [report, setReport] = useState<DayReport | null>(null);
  const [fees, setFees] = useState<DayExpected | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  const mayCountCash = staff.role === 'supervisor';
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  // The shell writes the file into the terminal's export directory and says where.
  const save = async (filename: string, contentBase64: string) => {
    try {
      const file = await saveExport(filename, contentBase64);
      setSaved(file.path);
    } catch (caught) {
      const failure = ipcFailureOf(caught);
      setExportError(errorText(t, failure.code, failure.message));
    }
  };

  const exportCsv = async () => {
    if (report === null) return;
    setExportError(null);
    setSaved(null);
    await save(`kofu-report-${report.day}.csv`, base64OfText(reportCsv(report)));
  };

  // The PDF is the rendering core's, in the screen's language; saved as the server names it.
  const exportPdf = async () => {
    if (report === null) return;
    setExporting(true);
    setExportError(null);
    setSaved(null);
    const outcome = await api.reportPdf(report.day, locale);
    if (outcome.ok) await save(outcome.body.filename, outcome.body.pdf_base64);
    else setExportError(errorText(t, outcome.code, outcome.message));
    setExporting(false);
  };

  useEffect(() => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
    let gone = false;
    setReport(null);
    setError(null);
    void (async () => {
      const outcome = await api.report(day);
      if (gone) return;
      if (!outcome.ok) {
        setError(errorText(t, outcome.code, outcome.message));
        return;
      }
      setReport(outcome.body);
      // The day's money is a "count cash" action: asked only by a role that may
      // (a refused call would show up as an access anomaly).
      if (!mayCountCash) return;
      const money = await api.day(day);
      if (!gone) setFees(money.ok ? money.body : null);
    })();
    return () => {
      gone = true;
    };
    // A language switch does not reload the report.
  }, [api, day, reload, mayCountCash]);

  const kindLabel = (kind: string) => {
    const key = `cert.short.${kind}`;
    return hasMessage(key) ? t(key) : kind;
  };
  const channelLabel = (channel: string) => {
    const key = `channel.${channel}`;
    return hasMessage(key) ? t(key) : channel;
  };
  const anomalies = report?.access_anomalies ?? {};

  return (
    <div className="flow">
      <h2>{t('report.title')}</h2>
      <div className="inline">
        <Field label={t('report.day')} htmlFor="report-day">
          <input id="report-day" data-testid="report-day" type="date" autoFocus value={day} onChange={(event) => setDay(event.target.value)} />
        </Field>
        <button
          type="button"
          className="button button--secondary"
          data-testid="export-csv"
          disabled={report === null}
          onClick={() => void exportCsv()}
        >
          {t('report.export_csv')}
        </button>
        <button type="button" className="button button--secondary" data-testid="export-pdf" disabled={report === null || exporting} onClick={() => void exportPdf()}>
          {exporting ? t('report.export_pdf.busy') : t('report.export_pdf')}
        </button>
      </div>
      {exportError !== null ? <Alert testId="export-error">{exportError}</Alert> : null}
      {saved !== null ? (
        <p role="status" data-testid="export-saved">
          {t('report.saved', { path: saved })}
        </p>
      ) : null}
      {error !== null ? <Alert>{error}</Alert> : null}
      {report === null && error === null ? <p role="status">{t('common.loading')}</p> : null}
      {report !== null ? (
        <>
          <p>{t('report.copies', { copies: String(report.copies ?? 0) })}</p>
          <div className="charts">
            <BarChart testId="chart-kind" title={t('report.by_kind')} bars={barsOf(report.by_kind, CERT_KINDS, kindLabel)} />
            <BarChart testId="chart-channel" title={t('report.by_channel')} bars={barsOf(report.by_channel, ['counter', 'kiosk'], channelLabel)} />
            <BarChart testId="chart-hour" title={t('report.by_hour')} bars={hourBars(report.by_hour)} />
          </div>
          <section data-testid="report-fees" className="card">
            <h3>{t('report.fees')}</h3>
            {fees === null ? (
              <p>{t('report.fees.none')}</p>
            ) : (
              <dl className="totals">
                <dt>{t('close.cash')}</dt>
                <dd>{yen(locale, fees.expected.cash_yen ?? 0)}</dd>
                <dt>{t('close.cashless')}</dt>
                <dd>{yen(locale, fees.expected.cashless_yen ?? 0)}</dd>
                <dt>{t('close.exempt')}</dt>
                <dd>{fees.expected.exempt ?? 0}</dd>
                <dt>{t('close.issuances')}</dt>
                <dd>{fees.expected.issuances ?? 0}</dd>
                <dt>{t('close.voids')}</dt>
                <dd>{fees.expected.voids ?? 0}</dd>
              </dl>
            )}
          </section>
          <RowsTable
            caption={t('report.by_staff')}
            empty={t('report.empty')}
            rows={Object.entries(report.by_staff ?? {}).map(([login, count]) => ({ [t('report.col.staff')]: login, [t('report.col.count')]: count }))}
          />
          <RowsTable testId="report-voids" caption={t('report.voids')} empty={t('report.empty')} rows={report.voids ?? []} />
          <RowsTable testId="report-overrides" caption={t('report.overrides')} empty={t('report.empty')} rows={report.overrides ?? []} />
          <div data-testid="report-kiosk-failures">
            <RowsTable caption={t('report.kiosk_failures')} empty={t('report.empty')} rows={report.kiosk_failures ?? []} />
            <RowsTable caption={t('report.kiosk_without_outcome')} empty={t('report.empty')} rows={report.kiosk_without_outcome ?? []} />
            <RowsTable caption={t('report.kiosk_errors')} empty={t('report.empty')} rows={report.kiosk_errors ?? []} />
          </div>
          <RowsTable testId="report-render-alerts" caption={t('report.render_alerts')} empty={t('report.empty')} rows={report.render_alerts ?? []} />
          <RowsTable
            testId="report-print-failures"
            caption={t('report.print_failures')}
            empty={t('report.empty')}
            rows={(report.print_failures ?? []).map((row) => labelled(t, row))}
          />
          <RowsTable testId="report-replica-downloads" caption={t('report.replica_downloads')} empty={t('report.empty')} rows={report.replica_downloads ?? []} />
          <RowsTable
            testId="report-close"
            caption={t('report.close.title')}
            empty={t('report.close.open')}
            rows={
              report.close
                ? [
                    { [t('report.close.item')]: t('report.close.supervisor'), [t('report.close.value')]: report.close.supervisor },
                    { [t('report.close.item')]: t('report.close.at'), [t('report.close.value')]: report.close.at },
                    { [t('report.close.item')]: t('report.close.audit_head'), [t('report.close.value')]: report.close.audit_head },
                  ]
                : []
            }
          />
          <section data-testid="report-anomalies">
            <h3>{t('report.anomalies')}</h3>
            <RowsTable caption={t('report.anomalies.late_night')} empty={t('report.empty')} rows={anomalies.late_night ?? []} />
            <RowsTable caption={t('report.anomalies.many_lookups')} empty={t('report.empty')} rows={anomalies.many_lookups ?? []} />
            <RowsTable caption={t('report.anomalies.lookups_without_issuance')} empty={t('report.empty')} rows={anomalies.lookups_without_issuance ?? []} />
            <RowsTable caption={t('report.anomalies.denied')} empty={t('report.empty')} rows={anomalies.denied ?? []} />
          </section>
        </>
      ) : null}
      {staff.role === 'supervisor' ? <VoidForm api={api} onVoided={() => setReload((n) => n + 1)} /> : null}
      <AuditCheck api={api} />
      {staff.role === 'supervisor' ? <OfflineReview api={api} /> : null}
    </div>
  );
}

/** A report row with its fields headed as the PDF heads them: `report.col.<field>` where the catalogue has it. */
function labelled(t: Translate, row: ReportRow): ReportRow {
  return Object.fromEntries(
    Object.entries(row).map(([field, value]) => {
      const key = `report.col.${field}`;
      return [hasMessage(key) ? t(key) : field, value];
    }),
  );
}

function AuditCheck({ api }: { readonly api: CounterApi }) {
  const { t } = useI18n();
  const [status, setStatus] = useState<{ readonly kind: 'idle' } | { readonly kind: 'busy' } | { readonly kind: 'done'; readonly audit: AuditStatus } | { readonly kind: 'failed'; readonly text: string }>({
    kind: 'idle',
  });
  return (
    <section className="card" aria-labelledby="audit-title">
      <h3 id="audit-title">{t('audit.title')}</h3>
      <button
        type="button"
        className="button button--secondary"
        data-testid="audit-verify"
        disabled={status.kind === 'busy'}
        onClick={async () => {
          setStatus({ kind: 'busy' });
          const outcome = await api.audit();
          setStatus(outcome.ok ? { kind: 'done', audit: outcome.body } : { kind: 'failed', text: errorText(t, outcome.code, outcome.message) });
        }}
      >
        {t('audit.verify')}
      </button>
      <div data-testid="audit-status" aria-live="polite">
        {status.kind === 'busy' ? <p>{t('common.working')}</p> : null}
        {status.kind === 'failed' ? <Alert>{status.text}</Alert> : null}
        {status.kind === 'done' ? <AuditAnswer audit={status.audit} /> : null}
      </div>
    </section>
  );
}

function AuditAnswer({ audit }: { readonly audit: AuditStatus }) {
  const { t } = useI18n();
  const verdict = auditVerdict(audit);
  const problems = Array.isArray(audit.problems) ? audit.problems : [];
  const fields = Object.entries(audit).filter(([field]) => field !== 'ok' && field !== 'problems');
  return (
    <>
      <Alert tone={verdict === true ? 'ok' : verdict === false ? 'error' : 'info'}>
        {verdict === true ? t('audit.ok') : verdict === false ? t('audit.broken', { count: String(problems.length) }) : t('audit.unknown')}
      </Alert>
      <dl className="totals">
        {fields.map(([field, value]) => (
          <div key={field} className="totals__row">
            <dt>{hasMessage(`audit.field.${field}`) ? t(`audit.field.${field}` as MessageKey) : field}</dt>
            <dd className="mono">{cellText(value)}</dd>
          </div>
        ))}
      </dl>
      {problems.length > 0 ? <RowsTable caption={t('audit.problems')} empty={t('report.empty')} rows={problems} /> : null}
    </>
  );
}
