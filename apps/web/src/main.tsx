import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { takeTokenFromFragment } from './api/client';
import { App } from './app/App';
import { followLegacyLink } from './app/links';

followLegacyLink();

// a WeCom sign-in's token is checked (asynchronously) before the app reads who is signed in
void takeTokenFromFragment().finally(() => createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
));
