import { defineErrors } from '../../common/errors.catalog';

export const COMPUTED_TAGS_ERRORS = defineErrors({
  GROUP_HAS_RULE: { status: 409, message: 'This tag group already has a computed rule; change that one.' },
});
