import { defineErrors } from '../../common/errors.catalog';

export const SOURCE_CODES_ERRORS = defineErrors({
  SOURCE_CODE_TAKEN: { status: 409, message: 'This code is already in use.' },
});
