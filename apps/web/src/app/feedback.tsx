import { message } from 'antd';
import type { JointContent } from 'antd/es/message/interface';
import { createContext, useContext, useMemo, type ReactNode } from 'react';

type Show = (content: JointContent, duration?: number) => void;
/**
 * The toasts a page shows. Unlike Ant Design's, they return nothing: its toast is a promise that settles when the
 * toast closes, and a mutation's `onSuccess`/`onError` that returned it kept the mutation pending (its button
 * spinning, a confirmation open) for the toast's 3 to 8 seconds.
 */
export interface Toasts { success: Show; error: Show; info: Show; warning: Show }

const MessageContext = createContext<Toasts | null>(null);

/**
 * Toasts ("saved", "copied") that follow the theme and language. Ant Design's `App` would also bring its
 * modal and notification code into the first screen; the console only toasts, and pages that confirm
 * load their own Modal.
 */
export function FeedbackProvider({ children }: { children: ReactNode }) {
  const [antMessages, holder] = message.useMessage();
  const api = useMemo<Toasts>(() => ({
    success: (content, duration) => { void antMessages.success(content, duration); },
    error: (content, duration) => { void antMessages.error(content, duration); },
    info: (content, duration) => { void antMessages.info(content, duration); },
    warning: (content, duration) => { void antMessages.warning(content, duration); },
  }), [antMessages]);
  return (
    <MessageContext.Provider value={api}>
      {holder}
      {children}
    </MessageContext.Provider>
  );
}

export function useMessage(): Toasts {
  const api = useContext(MessageContext);
  if (!api) throw new Error('useMessage() is used outside <FeedbackProvider>.');
  return api;
}
