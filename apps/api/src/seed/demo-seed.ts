import { Team, Tenant, User } from '@sop/db';
import type { Role } from '@sop/domain';
import type { DataSource } from 'typeorm';
import { hashPassword } from '../modules/auth/passwords';

/** The demo organization the local run command creates; its logins are printed and in the README. */
export const DEMO_ORGANIZATION = 'Demo Retail 演示零售';
export const DEMO_PASSWORD = 'demo-password';
export const DEMO_USERS: { email: string; name: string; role: Role; inTeam: boolean }[] = [
  { email: 'admin@demo.example', name: 'Admin 管理员', role: 'admin', inTeam: false },
  { email: 'ops@demo.example', name: 'Olivia Ops 运营', role: 'ops', inTeam: false },
  { email: 'manager@demo.example', name: 'Ma Li 主管', role: 'manager', inTeam: false },
  { email: 'employee1@demo.example', name: 'Zhang Wei 张伟', role: 'employee', inTeam: true },
  { email: 'employee2@demo.example', name: 'Wang Fang 王芳', role: 'employee', inTeam: true },
];

/** Creates the demo tenant once; later runs find it and change nothing. */
export async function seedDemo(db: DataSource): Promise<{ created: boolean; tenantId: string }> {
  return db.transaction(async (tx) => {
    // Serialises concurrent seeders on the same database.
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('sop-demo-seed'))`);
    const existing = await tx.findOneBy(User, { email: DEMO_USERS[0].email });
    if (existing) return { created: false, tenantId: existing.tenantId };
    const tenant = await tx.save(Tenant, tx.create(Tenant, { name: DEMO_ORGANIZATION }));
    const passwordHash = await hashPassword(DEMO_PASSWORD);
    const users = await tx.save(User, DEMO_USERS.map((u) => tx.create(User, {
      tenantId: tenant.id, email: u.email, name: u.name, role: u.role, passwordHash,
    })));
    const manager = users.find((u) => u.role === 'manager')!;
    const team = await tx.save(Team, tx.create(Team, { tenantId: tenant.id, name: 'Shanghai Store 上海门店', managerId: manager.id }));
    const members = users.filter((u) => u === manager || DEMO_USERS.find((d) => d.email === u.email)?.inTeam);
    await tx.update(User, members.map((u) => u.id), { teamId: team.id });
    return { created: true, tenantId: tenant.id };
  });
}
