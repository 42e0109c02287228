import { useQueryClient } from '@tanstack/react-query';
import { Modal } from 'antd';
import { useTranslation } from 'react-i18next';
import { api, call, type Schemas } from '../../api/client';
import { useMessage } from '../../app/feedback';
import { errorText } from '../../lib/errors';

export type Sop = Schemas['SopDto'];
export type LifecycleAction = 'activate' | 'pause' | 'resume' | 'archive';

/** Which actions an SOP's status allows, in the order they are offered. */
export const ACTIONS_BY_STATUS: Record<Sop['status'], LifecycleAction[]> = {
  draft: ['activate', 'archive'],
  active: ['pause', 'archive'],
  paused: ['resume', 'archive'],
  archived: [],
};

const run = (id: string, action: LifecycleAction) => {
  const params = { params: { path: { id } } };
  if (action === 'activate') return call(api.POST('/api/sops/{id}/activate', params));
  if (action === 'pause') return call(api.POST('/api/sops/{id}/pause', params));
  if (action === 'resume') return call(api.POST('/api/sops/{id}/resume', params));
  return call(api.POST('/api/sops/{id}/archive', params));
};

/**
 * Activate, pause, resume and archive, each confirmed with what will happen: activating shows the reach
 * and the next 30 days' tasks (the forecast), archiving how many pending tasks it cancels.
 */
export function useLifecycle() {
  const { t } = useTranslation('sops');
  const message = useMessage();
  const [modal, holder] = Modal.useModal();
  const queries = useQueryClient();

  async function describe(sop: Sop, action: LifecycleAction): Promise<string> {
    const params = { params: { path: { id: sop.id } } };
    if (action === 'activate') {
      const f = await call(api.GET('/api/sops/{id}/forecast', params));
      const tasks = f.days.reduce((n, d) => n + d.tasks, 0);
      const over = f.overCapacityDays.length ? ` ${t('confirm.activateOver', { days: f.overCapacityDays.length })}` : '';
      return t('confirm.activateBody', { reach: f.reach, entering: f.entering, tasks }) + over;
    }
    if (action === 'archive') {
      const detail = await call(api.GET('/api/sops/{id}', params));
      return t('confirm.archive', { pending: detail.tasks.pending ?? 0 });
    }
    return t(`confirm.${action}`);
  }

  async function confirmAndRun(sop: Sop, action: LifecycleAction): Promise<void> {
    let content: string;
    try {
      content = await describe(sop, action);
    } catch (e) {
      message.error(errorText(e));
      return;
    }
    await modal.confirm({
      title: action === 'activate' ? t('confirm.activateTitle', { name: sop.name }) : `${t(`actions.${action}`)} · ${sop.name}`,
      content: <span data-testid="lifecycle-confirm">{content}</span>,
      okText: t(`actions.${action}`),
      okButtonProps: { danger: action === 'archive' },
      onOk: async () => {
        try {
          await run(sop.id, action);
          message.success(t(`done.${action}`));
          await queries.invalidateQueries({ queryKey: ['sops'] });
        } catch (e) {
          message.error(errorText(e));
        }
      },
    });
  }

  return { confirmAndRun, holder };
}
