/**
 * The access module: who may see or change what. Which tasks a caller may see or change (tasks.ts), whom a
 * manager acts for (managed.ts) and what a role alone decides (roles.ts). Routes declare their roles
 * (`@Roles`, checked by the global AccessGuard); what a role reaches inside the organization is answered here.
 */
export * from './managed';
export * from './roles';
export * from './tasks';
