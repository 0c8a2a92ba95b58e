// Small building blocks shared by the screens.
import type { ComponentPropsWithRef, ReactNode } from 'react';

/** A button that shows its keyboard shortcut (e.g. Alt+N) and announces it. */
export function KeyButton({
  shortcut,
  children,
  className,
  ...rest
}: ComponentPropsWithRef<'button'> & { readonly shortcut?: string }) {
  return (
    <button type="button" className={className ?? 'button'} aria-keyshortcuts={shortcut} {...rest}>
      {children}
      {shortcut ? <kbd className="kbd">{shortcut}</kbd> : null}
    </button>
  );
}

/** A labelled form row. */
export function Field({ label, htmlFor, children, hint }: { readonly label: string; readonly htmlFor: string; readonly children: ReactNode; readonly hint?: string }) {
  return (
    <div className="field">
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint ? <p className="field__hint">{hint}</p> : null}
    </div>
  );
}

/** An error or notice box read out by screen readers. */
export function Alert({ children, testId, tone = 'error' }: { readonly children: ReactNode; readonly testId?: string; readonly tone?: 'error' | 'info' | 'warn' | 'ok' }) {
  return (
    <div className={`alert alert--${tone}`} role={tone === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </div>
  );
}

/** A generic table of report rows: one column per field the server sent. */
export function RowsTable({ rows, testId, empty, caption }: { readonly rows: readonly Readonly<Record<string, unknown>>[]; readonly testId?: string; readonly empty: string; readonly caption: string }) {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return (
    <div className="table-wrap" data-testid={testId}>
      <table className="table">
        <caption>{caption}</caption>
        {rows.length === 0 ? (
          <tbody>
            <tr>
              <td className="table__empty">{empty}</td>
            </tr>
          </tbody>
        ) : (
          <>
            <thead>
              <tr>
                {columns.map((column) => (
                  <th key={column} scope="col">
                    {column}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row, index) => (
                <tr key={index}>
                  {columns.map((column) => (
                    <td key={column}>{cellText(row[column])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </>
        )}
      </table>
    </div>
  );
}

/** A report cell as text. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
