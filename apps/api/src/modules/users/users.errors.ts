import { defineErrors } from '../../common/errors.catalog';

export const USERS_ERRORS = defineErrors({
  CANNOT_DEMOTE_SELF: { status: 409, message: 'You cannot disable yourself or drop your own admin role; ask another admin.' },
});
