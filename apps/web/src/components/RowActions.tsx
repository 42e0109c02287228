import { DeleteOutlined, EditOutlined } from '@ant-design/icons';
import { Button, Popconfirm, Tooltip } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

/** A table row's icon button with its name as tooltip and accessible label. */
export function IconAction({ label, icon, onClick, danger }: { label: string; icon: ReactNode; onClick?: () => void; danger?: boolean }) {
  return <Tooltip title={label}><Button type="text" danger={danger} icon={icon} aria-label={label} onClick={onClick} /></Tooltip>;
}

export function EditAction({ onClick }: { onClick: () => void }) {
  const { t } = useTranslation();
  return <IconAction label={t('common:actions.edit')} icon={<EditOutlined />} onClick={onClick} />;
}

/** Delete, after a confirmation that says what deleting does. */
export function DeleteAction({ title, effect, onConfirm }: { title: string; effect: ReactNode; onConfirm: () => Promise<unknown> }) {
  const { t } = useTranslation();
  return (
    <Popconfirm
      title={title}
      description={<div style={{ maxWidth: 280 }}>{effect}</div>}
      okText={t('common:actions.delete')}
      okButtonProps={{ danger: true }}
      onConfirm={onConfirm}
    >
      <IconAction label={t('common:actions.delete')} icon={<DeleteOutlined />} danger />
    </Popconfirm>
  );
}
