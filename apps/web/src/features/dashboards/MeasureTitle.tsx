import { QuestionCircleOutlined } from '@ant-design/icons';
import { Tooltip } from 'antd';
import type { SyntheticEvent } from 'react';
import { useTranslation } from 'react-i18next';

/** Measures whose definition a reader cannot guess from the name (completion counts only tasks whose window closed). */
export type HintedMeasure = 'completionRate' | 'onTimeRate' | 'responseRate' | 'conversionRate' | 'overdueNow';

// in a sortable column the header sorts on click and Enter: reading the definition must not sort too
const keepFromHeader = (e: SyntheticEvent) => e.stopPropagation();

/** A measure's name with its definition on hover or keyboard focus, for card titles and column headers alike. */
export function MeasureTitle({ measure, label }: { measure: HintedMeasure; label?: string }) {
  const { t } = useTranslation('dashboards');
  const hint = t(`hints.${measure}`);
  return (
    <span className="measure-title">
      {label ?? t(`measures.${measure}`)}
      <Tooltip title={hint} trigger={['hover', 'focus']}>
        <QuestionCircleOutlined tabIndex={0} aria-label={hint} onClick={keepFromHeader} onKeyDown={keepFromHeader} data-testid="measure-hint"
          style={{ marginInlineStart: 4, color: 'rgba(0, 0, 0, 0.45)', fontSize: 12 }} />
      </Tooltip>
    </span>
  );
}
