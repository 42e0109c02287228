import { Dashboards1765238400000 } from './1765238400000-dashboards';
import { Materials1765500000000 } from './1765500000000-materials';
import { Foundation1763856000000 } from './1763856000000-foundation';
import { Handover1764720000000 } from './1764720000000-handover';
import { CustomersAndTags1763942400000 } from './1763942400000-customers-and-tags';
import { ComputedTags1764201600000 } from './1764201600000-computed-tags';
import { Imports1764028800000 } from './1764028800000-imports';
import { Inbox1764460800000 } from './1764460800000-inbox';
import { Reminders1764547200000 } from './1764547200000-reminders';
import { Responses1764633600000 } from './1764633600000-responses';
import { InboxIndexes1764979200000 } from './1764979200000-inbox-indexes';
import { ImportDetails1765065600000 } from './1765065600000-import-details';
import { AbuseLimits1765152000000 } from './1765152000000-abuse-limits';
import { EventSigningKeys1765300000000 } from './1765300000000-event-signing-keys';
import { SharedRateLimits1765310000000 } from './1765310000000-shared-rate-limits';
import { Wecom1765320000000 } from './1765320000000-wecom';
import { ExitChecks1765710000000 } from './1765710000000-exit-checks';
import { HeldTasks1765710000001 } from './1765710000001-held-tasks';
import { WecomEvents1765730000000 } from './1765730000000-wecom-events';
import { WecomDirectory1765740000000 } from './1765740000000-wecom-directory';
import { WecomFollows1765720000000 } from './1765720000000-wecom-follows';
import { MaterialIdsPerTenant1765741000000 } from './1765741000000-material-ids-per-tenant';
import { RollupsPerSopAndTenantLocks1765600000000 } from './1765600000000-rollups-per-sop-and-tenant-locks';
import { SilenceSweeps1764288000000 } from './1764288000000-silence-sweeps';
import { Sops1764374400000 } from './1764374400000-sops';
import { SourceCodes1764115200000 } from './1764115200000-source-codes';

/** Every migration, oldest first. Schema sync stays off: the schema changes only here. */
export const MIGRATIONS = [Foundation1763856000000, CustomersAndTags1763942400000, Imports1764028800000, SourceCodes1764115200000, ComputedTags1764201600000, SilenceSweeps1764288000000, Sops1764374400000, Inbox1764460800000, Reminders1764547200000, Responses1764633600000, Handover1764720000000, InboxIndexes1764979200000, ImportDetails1765065600000, AbuseLimits1765152000000, Dashboards1765238400000, EventSigningKeys1765300000000, SharedRateLimits1765310000000, Wecom1765320000000, Materials1765500000000, RollupsPerSopAndTenantLocks1765600000000, ExitChecks1765710000000, HeldTasks1765710000001, WecomFollows1765720000000, WecomEvents1765730000000, WecomDirectory1765740000000, MaterialIdsPerTenant1765741000000];
