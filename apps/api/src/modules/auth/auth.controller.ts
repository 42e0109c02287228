import { Body, Controller, type ExecutionContext, Get, HttpCode, Injectable, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { SkipThrottle, ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import type { HttpReply, HttpRequest } from '../../common/http';
import { ANY_ROLE, CurrentPrincipal, Public, Roles, type Principal } from '../../common/principal';
import { LoginDto, MeDto, SignupDto, TokenDto } from './auth.dto';
import { AuthService } from './auth.service';

/**
 * Counts attempts per client address and email (so one noisy address cannot lock out everyone), and per
 * address alone (auth.module.ts); a refusal says when to try again in `Retry-After` (seconds), whichever
 * counter refused.
 */
@Injectable()
class LoginThrottler extends ThrottlerGuard {
  protected override async getTracker(req: HttpRequest): Promise<string> {
    const given = (req.body as { email?: unknown } | undefined)?.email;
    const email = typeof given === 'string' ? given.trim().toLowerCase() : '';
    return `${req.ip}|${email}`;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    context.switchToHttp().getResponse<HttpReply>().header('Retry-After', String(Math.max(1, detail.timeToBlockExpire)));
    return super.throwThrottlingException(context, detail);
  }
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @Public()
  @UseGuards(LoginThrottler)
  @SkipThrottle({ address: true, join: true })
  @ApiOperation({ summary: 'Create an organization (tenant) and its first admin' })
  @ApiCreatedResponse({ type: TokenDto })
  @ApiErrors('EMAIL_TAKEN')
  signup(@Body() dto: SignupDto): Promise<TokenDto> {
    return this.auth.signup(dto);
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @UseGuards(LoginThrottler)
  @SkipThrottle({ signup: true, join: true })
  @ApiOperation({ summary: 'Exchange email and password for an access token (rate-limited)' })
  @ApiOkResponse({ type: TokenDto })
  @ApiErrors('INVALID_CREDENTIALS')
  login(@Body() dto: LoginDto): Promise<TokenDto> {
    return this.auth.login(dto);
  }

  @Get('me')
  @Roles(...ANY_ROLE)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who the caller is' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.auth.me(principal);
  }
}
