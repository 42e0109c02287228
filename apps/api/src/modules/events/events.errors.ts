import { defineErrors } from '../../common/errors.catalog';

export const EVENTS_ERRORS = defineErrors({
  API_KEY_REQUIRED: { status: 401, message: 'Events are sent with an API key (X-Api-Key) and signed with its signing secret.' },
});
