import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '@sop/domain';

/** Who is calling: a logged-in user or an API key, always inside one tenant. */
export interface Principal {
  tenantId: string;
  role: Role;
  userId: string | null;
  apiKeyId: string | null;
}

export const ROLES_KEY = 'sop:roles';
export const PUBLIC_KEY = 'sop:public';

/** The roles allowed on a route. Every route declares them or is marked @Public(): the guard fails closed. */
export const Roles = (...roles: Role[]) => SetMetadata(ROLES_KEY, roles);
export const Public = () => SetMetadata(PUBLIC_KEY, true);
export const ANY_ROLE: Role[] = ['admin', 'ops', 'manager', 'employee'];

export const CurrentPrincipal = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): Principal => ctx.switchToHttp().getRequest().principal,
);
