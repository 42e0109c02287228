/** Who a user is in a tenant. Employees are the executors of tasks. */
export const ROLES = ['admin', 'ops', 'manager', 'employee'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
