import type { Queryable } from '@sop/engine';
import type { Principal } from '../principal';
import { lacksPerson, mayActFor, seesWholeOrganization } from './roles';
import { taskAccess, visibleExecutors } from './tasks';

const person = (role: Principal['role'], userId: string | null = 'u-1'): Principal => ({ tenantId: 't-1', role, userId, apiKeyId: userId ? null : 'k-1' });
/** What a role alone decides needs no database: a query here would fail the test. */
const noDatabase: Queryable = { query: () => Promise.reject(new Error('queried the database')) } as unknown as Queryable;

describe('access by role alone', () => {
  it('gives admins and ops the whole organization and nobody else', () => {
    expect(['admin', 'ops', 'manager', 'employee'].map((r) => seesWholeOrganization(person(r as Principal['role'])))).toEqual([true, true, false, false]);
  });

  it('says an employee\'s or manager\'s API key has no person behind it', () => {
    expect(lacksPerson(person('employee', null))).toBe(true);
    expect(lacksPerson(person('manager', null))).toBe(true);
    expect(lacksPerson(person('ops', null))).toBe(false);
    expect(lacksPerson(person('manager'))).toBe(false);
  });

  it('lets managers act only for the teams they manage, and only as a person', () => {
    expect(mayActFor(person('admin', null), false)).toBe(true);
    expect(mayActFor(person('manager'), true)).toBe(true);
    expect(mayActFor(person('manager'), false)).toBe(false);
    expect(mayActFor(person('manager', null), true)).toBe(false);
    expect(mayActFor(person('employee'), true)).toBe(false);
  });

  it('answers a task\'s access for admins, its executor and other employees without a query', async () => {
    expect(await taskAccess(noDatabase, person('ops', null), 'u-9')).toBe('allowed');
    expect(await taskAccess(noDatabase, person('employee'), 'u-1')).toBe('allowed');
    expect(await taskAccess(noDatabase, person('employee'), 'u-9')).toBe('hidden');
    expect(await taskAccess(noDatabase, person('employee'), null)).toBe('hidden');
    expect(await taskAccess(noDatabase, person('manager'), 'u-1')).toBe('allowed');
    expect(await taskAccess(noDatabase, person('manager'), null)).toBe('allowed'); // nobody was found: managers assign it
  });

  it('lists an employee\'s own executors only, and everyone\'s for admins and ops', async () => {
    expect(await visibleExecutors(noDatabase, person('employee'))).toEqual({ executors: ['u-1'], unassigned: false });
    expect(await visibleExecutors(noDatabase, person('employee'), 'u-1')).toEqual({ executors: ['u-1'], unassigned: false });
    expect(await visibleExecutors(noDatabase, person('employee'), 'u-9')).toEqual({ refused: 'not-yours' });
    expect(await visibleExecutors(noDatabase, person('manager', null))).toEqual({ refused: 'needs-a-user' });
    expect(await visibleExecutors(noDatabase, person('admin'))).toEqual({ executors: null, unassigned: true });
    expect(await visibleExecutors(noDatabase, person('admin'), 'u-9')).toEqual({ executors: ['u-9'], unassigned: false });
  });

  it('gives a manager\'s team scope the unassigned tasks (theirs to assign), and one person\'s without them', async () => {
    const team = { query: () => Promise.resolve([{ id: 'u-2' }, { id: 'u-3' }]) } as unknown as Queryable; // the members they manage
    expect(await visibleExecutors(team, person('manager'))).toEqual({ executors: ['u-1', 'u-2', 'u-3'], unassigned: true });
    expect(await visibleExecutors(team, person('manager'), 'u-2')).toEqual({ executors: ['u-2'], unassigned: false });
    expect(await visibleExecutors(team, person('manager'), 'u-1')).toEqual({ executors: ['u-1'], unassigned: false });
    expect(await visibleExecutors(team, person('manager'), 'u-9')).toEqual({ refused: 'outside-team' });
  });
});
