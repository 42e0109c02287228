import { Button, Drawer, Space } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

interface Props {
  title: string;
  size: number;
  saving: boolean;
  onSave(): void;
  onClose(): void;
  /** the save button's test id */
  saveId: string;
  children: ReactNode;
}

/** A side sheet holding one form, with Cancel and Save at its top (the form stays visible while it saves). */
export function FormDrawer({ title, size, saving, onSave, onClose, saveId, children }: Props) {
  const { t } = useTranslation();
  return (
    <Drawer
      open
      title={title}
      size={size}
      onClose={onClose}
      destroyOnHidden
      extra={(
        <Space>
          <Button onClick={onClose}>{t('actions.cancel')}</Button>
          <Button type="primary" loading={saving} onClick={onSave} data-testid={saveId}>{t('actions.save')}</Button>
        </Space>
      )}
    >
      {children}
    </Drawer>
  );
}
