import { API_KEYS_ERRORS } from '../modules/api-keys/api-keys.errors';
import { AUTH_ERRORS } from '../modules/auth/auth.errors';
import { COMPUTED_TAGS_ERRORS } from '../modules/computed-tags/computed-tags.errors';
import { CONTACTS_ERRORS } from '../modules/contacts/contacts.errors';
import { DASHBOARDS_ERRORS } from '../modules/dashboards/dashboards.errors';
import { EVENTS_ERRORS } from '../modules/events/events.errors';
import { HANDOVERS_ERRORS } from '../modules/handovers/handovers.errors';
import { IMPORTS_ERRORS } from '../modules/imports/imports.errors';
import { INBOX_ERRORS } from '../modules/inbox/inbox.errors';
import { MATERIALS_ERRORS } from '../modules/materials/materials.errors';
import { NOTIFICATIONS_ERRORS } from '../modules/notifications/notifications.errors';
import { RESPONSES_ERRORS } from '../modules/responses/responses.errors';
import { SEGMENTS_ERRORS } from '../modules/segments/segments.errors';
import { SOPS_ERRORS } from '../modules/sops/sops.errors';
import { SOURCE_CODES_ERRORS } from '../modules/source-codes/source-codes.errors';
import { TAGS_ERRORS } from '../modules/tags/tags.errors';
import { TEAMS_ERRORS } from '../modules/teams/teams.errors';
import { USERS_ERRORS } from '../modules/users/users.errors';
import { WECOM_ERRORS } from '../modules/wecom/wecom.errors';
import { COMMON_ERRORS } from './errors.catalog';

/** Each catalog by where it lives; a code is listed in exactly one (a test checks). */
export const ERROR_CATALOGS = {
  common: COMMON_ERRORS,
  'api-keys': API_KEYS_ERRORS,
  auth: AUTH_ERRORS,
  'computed-tags': COMPUTED_TAGS_ERRORS,
  contacts: CONTACTS_ERRORS,
  dashboards: DASHBOARDS_ERRORS,
  events: EVENTS_ERRORS,
  handovers: HANDOVERS_ERRORS,
  imports: IMPORTS_ERRORS,
  inbox: INBOX_ERRORS,
  materials: MATERIALS_ERRORS,
  notifications: NOTIFICATIONS_ERRORS,
  responses: RESPONSES_ERRORS,
  segments: SEGMENTS_ERRORS,
  sops: SOPS_ERRORS,
  'source-codes': SOURCE_CODES_ERRORS,
  tags: TAGS_ERRORS,
  teams: TEAMS_ERRORS,
  users: USERS_ERRORS,
  wecom: WECOM_ERRORS,
} as const;

/** Every error the API can answer, by code. */
export const API_ERRORS = Object.assign({}, ...Object.values(ERROR_CATALOGS)) as UnionToIntersection<
  (typeof ERROR_CATALOGS)[keyof typeof ERROR_CATALOGS]
>;
export type ErrorCode = keyof typeof API_ERRORS & string;
export const ERROR_CODES = Object.keys(API_ERRORS).sort() as ErrorCode[];

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
