import { Empty } from 'antd';
import { BarChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { Schemas } from '../../api/client';
import { followElementSize } from '../../lib/chart-size';

echarts.use([LineChart, BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** Done tasks per day or week (bars) and the completion, on-time and response rates (lines, in %). */
export default function TrendChart({ points }: { points: Schemas['TrendPointDto'][] }) {
  const { t } = useTranslation('dashboards');
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || !points.length) return undefined;
    const chart = echarts.init(el.current);
    const pct = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
    chart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { bottom: 0 },
      grid: { left: 48, right: 48, top: 16, bottom: 48 },
      xAxis: { type: 'category', data: points.map((p) => p.period.slice(5)) },
      yAxis: [{ type: 'value', name: t('measures.done'), minInterval: 1 }, { type: 'value', name: '%', min: 0, max: 100 }],
      series: [
        { name: t('measures.done'), type: 'bar', data: points.map((p) => p.measures.done), itemStyle: { color: '#91caff' } },
        ...(['completionRate', 'onTimeRate', 'responseRate'] as const).map((m) => ({
          name: t(`measures.${m}`), type: 'line', yAxisIndex: 1, connectNulls: true, data: points.map((p) => pct(p.measures[m])),
        })),
      ],
    });
    const unfollow = followElementSize(chart, el.current);
    return () => { unfollow(); chart.dispose(); };
  }, [points, t]);
  if (!points.length) return <Empty description={t('empty')} />;
  return <div ref={el} role="img" aria-label={t('trend')} style={{ height: 280, width: '100%' }} data-testid="trend-chart" />;
}
