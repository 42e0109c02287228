import { Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { formatDateTime, formatDateTimeIn, getViewerZone } from '../../lib/time';

/** Whether the viewer reads a different wall clock than the SOP's zone (same-offset zones count as the same). */
export function zonesDiffer(zone: string, at: string | Date = new Date()): boolean {
  return formatDateTimeIn(at, zone) !== formatDateTime(at);
}

/** An instant in the SOP's zone, and in the viewer's zone too when that reads differently. */
export function ZonedTime({ at, zone }: { at: string | Date; zone: string }) {
  const { t } = useTranslation('sops');
  const differ = zonesDiffer(zone, at);
  return (
    <span data-testid="zoned-time">
      {formatDateTimeIn(at, zone)} <Typography.Text type="secondary">({differ ? `${t('zone.sop')} ${zone}` : zone})</Typography.Text>
      {differ && (
        <Typography.Text type="secondary" data-testid="viewer-time"> · {formatDateTime(at)} ({t('zone.yours')} {getViewerZone()})</Typography.Text>
      )}
    </span>
  );
}

/** Says which zone the times around it are in, and the viewer's when it differs. */
export function ZoneNote({ zone }: { zone: string }) {
  const { t } = useTranslation('sops');
  return (
    <Typography.Text type="secondary" data-testid="zone-note">
      {t('common:labelled', { label: t('zone.sop'), value: zone })}{zonesDiffer(zone) && ` · ${t('common:labelled', { label: t('zone.yours'), value: getViewerZone() })}`}
    </Typography.Text>
  );
}
