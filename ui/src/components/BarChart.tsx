// A bar chart drawn as inline SVG, with the same numbers as a table beneath
// (for screen readers and the keyboard). Clicking a bar picks its row.
import { useState } from 'react';

import { type Bar, maxOf, totalOf } from '../logic/charts';
import { useI18n } from '../I18nContext';

export function BarChart({ bars, title, testId }: { readonly bars: readonly Bar[]; readonly title: string; readonly testId: string }) {
  const { t } = useI18n();
  const [picked, setPicked] = useState<string | null>(null);
  const max = maxOf(bars);
  const total = totalOf(bars);
  const slot = bars.length > 12 ? 36 : 96;
  const height = 180;
  const width = Math.max(bars.length * slot, 240);
  const pickedBar = bars.find((bar) => bar.key === picked);

  return (
    <figure className="chart" data-testid={testId}>
      <div className="chart__scroll">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 40}`} width={width} height={height + 40} role="img" aria-label={title} className="chart__svg">
        <line x1={0} y1={height} x2={width} y2={height} className="chart__axis" />
        {bars.map((bar, index) => {
          const barHeight = (bar.value / max) * (height - 20);
          const x = index * slot + slot * 0.15;
          return (
            <g key={bar.key} className={bar.key === picked ? 'chart__bar is-picked' : 'chart__bar'} data-key={bar.key} data-value={bar.value} onClick={() => setPicked(bar.key === picked ? null : bar.key)}>
              <title>{`${bar.label}: ${bar.value}`}</title>
              <rect x={x} y={height - barHeight} width={slot * 0.7} height={barHeight} />
              <text x={x + slot * 0.35} y={height - barHeight - 4} textAnchor="middle" className="chart__value">
                {bar.value}
              </text>
              <text x={x + slot * 0.35} y={height + 18} textAnchor="middle" className="chart__label">
                {bar.label.length > 10 ? `${bar.label.slice(0, 9)}…` : bar.label}
              </text>
            </g>
          );
        })}
      </svg>
      </div>
      {pickedBar ? (
        <p className="chart__picked" role="status">
          {t('report.picked', { label: pickedBar.label, value: String(pickedBar.value), share: total === 0 ? '0' : String(Math.round((pickedBar.value / total) * 100)) })}
        </p>
      ) : null}
      <details className="chart__table">
        <summary>{t('report.as_table')}</summary>
        <table className="table">
          <tbody>
            {bars.map((bar) => (
              <tr key={bar.key} className={bar.key === picked ? 'is-selected' : undefined}>
                <th scope="row">{bar.label}</th>
                <td>{bar.value}</td>
              </tr>
            ))}
            <tr>
              <th scope="row">{t('report.total')}</th>
              <td>{total}</td>
            </tr>
          </tbody>
        </table>
      </details>
    </figure>
  );
}
