import { message } from 'antd';
import type { MessageInstance } from 'antd/es/message/interface';
import { createContext, useContext, type ReactNode } from 'react';

const MessageContext = createContext<MessageInstance | null>(null);

/**
 * Toasts ("saved", "copied") that follow the theme and language. Ant Design's `App` would also bring its
 * modal and notification code into the first screen; the console only toasts, and pages that confirm
 * load their own Modal.
 */
export function FeedbackProvider({ children }: { children: ReactNode }) {
  const [api, holder] = message.useMessage();
  return (
    <MessageContext.Provider value={api}>
      {holder}
      {children}
    </MessageContext.Provider>
  );
}

export function useMessage(): MessageInstance {
  const api = useContext(MessageContext);
  if (!api) throw new Error('useMessage() is used outside <FeedbackProvider>.');
  return api;
}
