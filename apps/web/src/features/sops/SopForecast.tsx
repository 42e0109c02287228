import { useQuery } from '@tanstack/react-query';
import { Alert, Empty, Skeleton, Typography } from 'antd';
import { HeatmapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { followElementSize } from '../../lib/chart-size';
import { api, call, type Schemas } from '../../api/client';
import { errorText } from '../../lib/errors';

// Only the parts of ECharts this chart uses, in this page's chunk (the inbox and login never load them).
echarts.use([HeatmapChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

type Forecast = Schemas['ForecastDto'];

/** Rows: executors and the total; columns: the next 30 days; each cell the expected tasks, over-capacity cells outlined in red. */
export function heatmapOf(f: Forecast, labels: { total: string; unassigned: string }) {
  const days: string[] = [];
  for (let d = new Date(`${f.from}T00:00:00Z`); d <= new Date(`${f.to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) days.push(d.toISOString().slice(0, 10));
  const people = [...new Map(f.days.map((d) => [d.executorId ?? '', d.executorName ?? labels.unassigned])).entries()];
  const rows = [...people.map(([, name]) => name), labels.total];
  const cells: { value: [number, number, number]; itemStyle?: object }[] = [];
  const totals = new Map<string, number>();
  for (const d of f.days) {
    const x = days.indexOf(d.date);
    const y = people.findIndex(([id]) => id === (d.executorId ?? ''));
    cells.push({ value: [x, y, d.tasks], ...(d.overCapacity ? { itemStyle: { borderColor: '#cf1322', borderWidth: 2 } } : {}) });
    totals.set(d.date, (totals.get(d.date) ?? 0) + d.tasks);
  }
  for (const [date, n] of totals) cells.push({ value: [days.indexOf(date), rows.length - 1, n] });
  const max = Math.max(1, ...f.days.map((d) => d.tasks));
  return { days, rows, cells, max };
}

export default function SopForecast({ sopId, version }: { sopId: string; version: string }) {
  const { t } = useTranslation('sops');
  const forecast = useQuery({ queryKey: ['sops', 'forecast', sopId, version], queryFn: () => call(api.GET('/api/sops/{id}/forecast', { params: { path: { id: sopId } } })) });
  const el = useRef<HTMLDivElement>(null);
  const data = forecast.data && heatmapOf(forecast.data, { total: t('forecast.total'), unassigned: t('forecast.unassigned') });
  useEffect(() => {
    if (!el.current || !data || !data.cells.length) return undefined;
    const chart = echarts.init(el.current, undefined, { renderer: 'canvas' });
    chart.setOption({
      tooltip: { position: 'top', formatter: (p: { value: [number, number, number] }) => `${data.rows[p.value[1]]} · ${data.days[p.value[0]]}: ${p.value[2]}` },
      grid: { left: 120, right: 16, top: 8, bottom: 64 },
      xAxis: { type: 'category', data: data.days.map((d) => d.slice(5)), splitArea: { show: true } },
      yAxis: { type: 'category', data: data.rows, splitArea: { show: true } },
      visualMap: { min: 0, max: data.max, text: [String(data.max), '0'], calculable: false, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#e6f4ff', '#0958d9'] } },
      series: [{ type: 'heatmap', data: data.cells, label: { show: true }, emphasis: { itemStyle: { shadowBlur: 6 } } }],
    });
    const unfollow = followElementSize(chart, el.current);
    return () => { unfollow(); chart.dispose(); };
  }, [data]);
  if (forecast.isPending) return <Skeleton active />;
  if (forecast.error) return <Alert type="error" showIcon message={errorText(forecast.error)} />;
  const f = forecast.data!;
  return (
    <div data-testid="sop-forecast">
      <Typography.Paragraph type="secondary">{t('forecast.reach', { reach: f.reach, entering: f.entering })}</Typography.Paragraph>
      {data && data.cells.length
        ? <div ref={el} role="img" aria-label={t('editor.forecast')} style={{ height: Math.max(160, data.rows.length * 36 + 80), width: '100%' }} />
        : <Empty description={t('forecast.none')} />}
    </div>
  );
}
