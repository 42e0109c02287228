import { Empty } from 'antd';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../../api/client';
import { followElementSize } from '../../lib/chart-size';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const RATES = ['completionRate', 'onTimeRate', 'responseRate', 'conversionRate'] as const;
const SHOWN = 15;

/** The rates of the biggest rows of a cut (most tasks first), as grouped horizontal bars in %. */
export default function CutsChart({ rows }: { rows: Schemas['CutRowDto'][] }) {
  const { t } = useTranslation('dashboards');
  const el = useRef<HTMLDivElement>(null);
  const shown = useMemo(() => [...rows].sort((a, b) => b.created - a.created).slice(0, SHOWN).reverse(), [rows]);
  useEffect(() => {
    if (!el.current || !shown.length) return undefined;
    const chart = echarts.init(el.current);
    const pct = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
    chart.setOption({
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { bottom: 0 },
      grid: { left: 8, right: 24, top: 8, bottom: 40, containLabel: true },
      xAxis: { type: 'value', name: '%', min: 0, max: 100 },
      yAxis: { type: 'category', data: shown.map((r) => (r.label.length > 24 ? `${r.label.slice(0, 23)}…` : r.label)) },
      series: RATES.map((m) => ({ name: t(`measures.${m}`), type: 'bar', data: shown.map((r) => pct(r[m])) })),
    });
    const unfollow = followElementSize(chart, el.current);
    return () => { unfollow(); chart.dispose(); };
  }, [shown, t]);
  if (!shown.length) return <Empty description={t('empty')} />;
  return <div ref={el} role="img" aria-label={t('cuts.chart')} style={{ height: Math.max(220, 40 + shown.length * 44), width: '100%' }} data-testid="cuts-chart" />;
}
