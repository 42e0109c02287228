import { defineErrors } from '../../common/errors.catalog';

export const RESPONSES_ERRORS = defineErrors({
  RESPONSE_RULE_NAME_TAKEN: { status: 409, message: 'A response rule with this name already exists.' },
  RESPONSE_RULE_INVALID: { status: 422, message: 'The response rule cannot be saved as it is; details name each field.' },
});
