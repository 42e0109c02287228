import { defineErrors } from '../../common/errors.catalog';

export const NOTIFICATIONS_ERRORS = defineErrors({
  NOTIFICATIONS_NEED_A_USER: { status: 403, message: 'Notifications belong to a person: log in as a user.' },
  TARGET_EXISTS: { status: 409, message: 'You have this robot or webhook already: change that one instead.' },
  TOO_MANY_TARGETS: { status: 409, message: 'You have the most targets allowed: remove one first.' },
  TARGET_INVALID: { status: 422, message: 'The target cannot be saved as it is; details name each field.' },
  PREFERENCES_INVALID: { status: 422, message: 'The preferences cannot be saved as they are; details name each field.' },
});
