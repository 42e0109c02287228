import { Drawer } from 'antd';
import type { ReactNode } from 'react';

/** On a phone the task panel takes the whole screen (its own chunk: desktops never load it). */
export default function PhoneDrawer({ onClose, children }: { onClose(): void; children: ReactNode }) {
  return (
    <Drawer open onClose={onClose} placement="right" size="100%" closable={false} styles={{ body: { padding: 12 } }} destroyOnHidden>
      {children}
    </Drawer>
  );
}
