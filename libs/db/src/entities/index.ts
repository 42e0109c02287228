import { ApiKey } from './api-key.entity';
import { RoundTrip } from './round-trip.entity';
import { Team } from './team.entity';
import { Tag, TagGroup } from './tag.entity';
import { Tenant } from './tenant.entity';
import { User } from './user.entity';

export { ApiKey, RoundTrip, Tag, TagGroup, Team, Tenant, User };
export { TAG_KINDS, type TagKind } from './tag.entity';
export type { RoundTripStatus } from './round-trip.entity';

export const ENTITIES = [Tenant, Team, User, ApiKey, RoundTrip, TagGroup, Tag];
