import type { Principal } from '../principal';

/**
 * The access module (common/access): who may see or change what inside an organization. Routes declare their roles
 * (`@Roles`, checked by the global AccessGuard); what a role then reaches is answered here: which tasks a caller may
 * see or change (tasks.ts), whom a manager acts for (managed.ts) and what a role alone decides (this file). Import
 * the files themselves: a build folder that still holds the old common/access.js would shadow an index.
 */

/** Admins and ops see and change everything in their organization; everyone else what is theirs or what they manage. */
export const seesWholeOrganization = (caller: Principal): boolean => caller.role === 'admin' || caller.role === 'ops';

/** An employee's or manager's own work belongs to a person: an API key with such a role has none. */
export const lacksPerson = (caller: Principal): boolean => (caller.role === 'employee' || caller.role === 'manager') && !caller.userId;

/**
 * Whether the caller may act for a user or a team (hand over their work, record their leave, give them work):
 * admins and ops for anyone in the organization, a manager (as a person) for the teams they manage. `managed` is
 * what `teamManagedBySql` answered for the user's or team's row.
 */
export const mayActFor = (caller: Principal, managed: boolean): boolean =>
  seesWholeOrganization(caller) || (caller.role === 'manager' && Boolean(caller.userId) && managed);
