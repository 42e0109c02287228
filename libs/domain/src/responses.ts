/** What a contact did, as the engine records it (docs/responses.md). */
export const RESPONSE_KINDS = [
  'replied', 'opened', 'bought', 'joined', 'joined_group', 'left_group', 'unsubscribed', 'outcome', 'custom',
] as const;
export type ResponseKind = (typeof RESPONSE_KINDS)[number];

/** Where a response came from: an executor's outcome in the inbox, a tracked link, the events API. */
export const RESPONSE_SOURCES = ['outcome', 'link', 'event'] as const;
export type ResponseSource = (typeof RESPONSE_SOURCES)[number];

/** Outcomes an executor records when completing a task. */
export const TASK_OUTCOMES = ['sent', 'replied', 'interested', 'not_interested', 'bought', 'wrong_contact', 'other'] as const;
export type TaskOutcome = (typeof TASK_OUTCOMES)[number];
