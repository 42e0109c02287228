import { QuestionCircleOutlined } from '@ant-design/icons';
import { Tooltip } from 'antd';
import { useTranslation } from 'react-i18next';

/** Measures whose definition a reader cannot guess from the name (completion counts only tasks whose window closed). */
export type HintedMeasure = 'completionRate' | 'onTimeRate' | 'responseRate' | 'conversionRate' | 'overdueNow';

/** A measure's name with its definition on hover, for card titles and column headers alike. */
export function MeasureTitle({ measure, label }: { measure: HintedMeasure; label?: string }) {
  const { t } = useTranslation('dashboards');
  return (
    <span className="measure-title">
      {label ?? t(`measures.${measure}`)}
      <Tooltip title={t(`hints.${measure}`)}>
        <QuestionCircleOutlined aria-label={t(`hints.${measure}`)} style={{ marginInlineStart: 4, color: 'rgba(0, 0, 0, 0.45)', fontSize: 12 }} />
      </Tooltip>
    </span>
  );
}
