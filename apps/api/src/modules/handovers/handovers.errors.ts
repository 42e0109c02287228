import { defineErrors } from '../../common/errors.catalog';

/** Handovers and leaves. */
export const HANDOVERS_ERRORS = defineErrors({
  OUTSIDE_YOUR_TEAM: { status: 403, message: 'Managers act only for members of the teams they manage.' },
  HANDOVER_ID_REUSED: { status: 409, message: 'This handover id (or Idempotency-Key) was already used for a different handover.' },
  HANDOVER_ID_TAKEN: { status: 409, message: 'This handover id is already taken: send a new one.' },
  LEAVE_ID_REUSED: { status: 409, message: 'This leave id was already used for a different leave.' },
  LEAVE_ID_TAKEN: { status: 409, message: 'This leave id is already used for another leave: send a new one.' },
  LEAVE_OVERLAPS: { status: 409, message: 'The leave overlaps another leave of this user: change or delete that one first.' },
  LEAVE_PERIOD_INVALID: { status: 422, message: 'The leave must end after it starts, and in the future.' },
  SAME_USER: { status: 422, message: 'The work cannot go to the user handing it over: choose someone else.' },
  TARGET_DISABLED: { status: 422, message: 'This user is disabled and cannot take work.' },
  TEAM_HAS_NO_ACTIVE_MEMBERS: { status: 422, message: 'This team has no active member who could take the work.' },
});
