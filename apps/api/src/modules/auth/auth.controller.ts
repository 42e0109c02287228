import { Body, Controller, Get, HttpCode, Injectable, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request } from 'express';
import { ANY_ROLE, CurrentPrincipal, Public, Roles, type Principal } from '../../common/principal';
import { LoginDto, MeDto, SignupDto, TokenDto } from './auth.dto';
import { AuthService } from './auth.service';

/** Counts attempts per client address and email, so one noisy address cannot lock out everyone. */
@Injectable()
class LoginThrottler extends ThrottlerGuard {
  protected override async getTracker(req: Request): Promise<string> {
    const email = typeof req.body?.email === 'string' ? req.body.email.trim().toLowerCase() : '';
    return `${req.ip}|${email}`;
  }
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @Public()
  @UseGuards(LoginThrottler)
  @ApiOperation({ summary: 'Create an organization (tenant) and its first admin' })
  signup(@Body() dto: SignupDto): Promise<TokenDto> {
    return this.auth.signup(dto);
  }

  @Post('login')
  @Public()
  @HttpCode(200)
  @UseGuards(LoginThrottler)
  @ApiOperation({ summary: 'Exchange email and password for an access token (rate-limited)' })
  login(@Body() dto: LoginDto): Promise<TokenDto> {
    return this.auth.login(dto);
  }

  @Get('me')
  @Roles(...ANY_ROLE)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who the caller is' })
  me(@CurrentPrincipal() principal: Principal): Promise<MeDto> {
    return this.auth.me(principal);
  }
}
