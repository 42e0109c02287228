import { ApiKey } from './api-key.entity';
import { RoundTrip } from './round-trip.entity';
import { Team } from './team.entity';
import { Tenant } from './tenant.entity';
import { User } from './user.entity';

export { ApiKey, RoundTrip, Team, Tenant, User };
export type { RoundTripStatus } from './round-trip.entity';

export const ENTITIES = [Tenant, Team, User, ApiKey, RoundTrip];
