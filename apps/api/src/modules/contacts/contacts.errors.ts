import { defineErrors } from '../../common/errors.catalog';

export const CONTACTS_ERRORS = defineErrors({
  CONTACT_EXISTS: { status: 409, message: 'A contact with this externalId already exists.' },
});
