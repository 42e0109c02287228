import { defineErrors } from '../../common/errors.catalog';

export const AUTH_ERRORS = defineErrors({
  EMAIL_TAKEN: { status: 409, message: 'This email already has an account: log in, or use another email.' },
  INVALID_CREDENTIALS: { status: 401, message: 'The email or password is wrong.' },
});
