import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@sop/domain';
import { COMMON_ERRORS, fail } from '../../common/errors.catalog';
import { PUBLIC_KEY, ROLES_KEY } from '../../common/principal';
import { CredentialsService } from './credentials.service';

/**
 * Global guard: authenticates the caller, then checks the route's declared roles. A route that
 * declares neither @Public() nor @Roles() is refused, so forgetting a declaration fails closed.
 */
@Injectable()
export class AccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly credentials: CredentialsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const allowed = this.reflector.getAllAndOverride<Role[]>(ROLES_KEY, targets) ?? [];
    const req = ctx.switchToHttp().getRequest();
    const principal = await this.credentials.authenticate(req.headers);
    if (!allowed.includes(principal.role)) {
      throw fail(
        COMMON_ERRORS.ROLE_FORBIDDEN,
        allowed.length
          ? `This action needs the role ${allowed.join(' or ')}; you are ${principal.role}.`
          : 'This route is not open to any role.',
      );
    }
    req.principal = principal;
    return true;
  }
}
