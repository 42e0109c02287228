import { defineErrors } from '../../common/errors.catalog';

export const INBOX_ERRORS = defineErrors({
  INBOX_NEEDS_A_USER: { status: 403, message: "The inbox is a person's: use an admin or ops API key for server-to-server access." },
  NOT_YOUR_TASKS: { status: 403, message: 'Employees see their own tasks.' },
  TASK_OUTSIDE_TEAM: { status: 403, message: 'This task or person is outside the teams you manage.' },
  REASSIGN_NOT_ALLOWED: { status: 403, message: 'You may hand tasks only to teammates (managers: within the teams they manage).' },
  TASK_NOT_PENDING: { status: 409, message: 'This task is no longer pending: it was done, skipped, expired or cancelled.' },
  INVALID_OUTCOME: { status: 422, message: 'The outcome is not one of the known outcomes.' },
  SNOOZE_IN_PAST: { status: 422, message: 'A task can be snoozed only until a time in the future.' },
  EXECUTOR_NOT_FOUND: { status: 422, message: 'The new executor must be an active user of your organization.' },
});
