/**
 * Links the API hands out (notifications, reminder emails and robot messages) are console paths such as
 * `/inbox?task=42`. Those sent before the console had routes used the hash (`/#/inbox/tasks/42`,
 * `/#/inbox?list=today`); they are in mailboxes for good, so they still lead to the same place.
 */
export function consolePath(link: string): string {
  const hash = link.indexOf('#/');
  if (hash < 0) return link;
  const legacy = link.slice(hash + 1); // "/inbox/tasks/42" or "/inbox?list=today"
  const task = /^\/inbox\/tasks\/(\d+)/.exec(legacy);
  return task ? `/inbox?task=${task[1]}` : legacy;
}

/** Rewrites a legacy hash link the page was opened with into the route it means, before the router reads it. */
export function followLegacyLink(): void {
  if (!window.location.hash.startsWith('#/')) return;
  window.history.replaceState(null, '', consolePath(window.location.hash));
}
