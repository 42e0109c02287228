import { QuestionCircleOutlined } from '@ant-design/icons';
import { Tooltip } from 'antd';
import { type SyntheticEvent, useLayoutEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** Measures whose definition a reader cannot guess from the name (completion counts only tasks whose window closed). */
export type HintedMeasure = 'completionRate' | 'onTimeRate' | 'responseRate' | 'conversionRate' | 'overdueNow';

// in a sortable column the header sorts on click and Enter: reading the definition must not sort too
const keepFromHeader = (e: SyntheticEvent) => e.stopPropagation();

/** A measure's name with its definition on hover or keyboard focus, for card titles and column headers alike. */
export function MeasureTitle({ measure, label }: { measure: HintedMeasure; label?: string }) {
  const { t } = useTranslation('dashboards');
  const hint = t(`hints.${measure}`);
  // a table also renders its titles in a hidden row that measures column widths: a focusable icon there would be
  // a keyboard stop nobody can see (axe: aria-hidden-focus), so only the visible copy takes focus
  const ref = useRef<HTMLSpanElement>(null);
  const [hidden, setHidden] = useState(false);
  useLayoutEffect(() => setHidden(!!ref.current?.closest('[aria-hidden="true"]')), []);
  return (
    <span className="measure-title" ref={ref}>
      {label ?? t(`measures.${measure}`)}
      <Tooltip title={hint} trigger={['hover', 'focus']}>
        <QuestionCircleOutlined tabIndex={hidden ? -1 : 0} aria-label={hint} onClick={keepFromHeader} onKeyDown={keepFromHeader} data-testid="measure-hint"
          style={{ marginInlineStart: 4, color: 'rgba(0, 0, 0, 0.45)', fontSize: 12 }} />
      </Tooltip>
    </span>
  );
}
