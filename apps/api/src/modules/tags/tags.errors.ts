import { defineErrors } from '../../common/errors.catalog';

export const TAGS_ERRORS = defineErrors({
  TAG_GROUP_NAME_TAKEN: { status: 409, message: 'A tag group with this name already exists.' },
  TAG_NAME_TAKEN: { status: 409, message: 'A tag with this name already exists in this group.' },
  TAG_IN_USE: { status: 409, message: 'Segments, source codes, rules, SOPs or library materials use this tag: change them first.' },
  GROUP_NOT_EXCLUSIVE: { status: 409, message: 'Some contacts have several tags of this group: remove the extras before making it exclusive.' },
  TAG_CHANGE_INVALID: { status: 422, message: 'Some tags cannot be changed as asked; details name each one.' },
});
