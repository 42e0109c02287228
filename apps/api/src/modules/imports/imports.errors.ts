import { defineErrors } from '../../common/errors.catalog';

export const IMPORTS_ERRORS = defineErrors({
  CSV_COLUMNS_INVALID: { status: 400, message: 'The CSV header has problems: unknown, repeated or missing columns, or more than 150 columns.' },
  IMPORT_ID_TAKEN: { status: 409, message: 'An import with this id exists already: choose a new id for a new file.' },
});
