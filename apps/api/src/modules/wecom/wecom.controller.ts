import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { BodyAs, type HttpReply, type HttpRequest } from '../../common/http';
import { ApiErrors, ApiTextResponse } from '../../common/openapi';
import { APP_CONFIG, type AppConfig } from '../../config/config';
import { CurrentPrincipal, Public, Roles, type Principal } from '../../common/principal';
import { ConnectWecomDto, WecomConnectionDto } from './wecom.dto';
import { type CallbackQuery, WecomService } from './wecom.service';

/** The callback URL shown to paste into WeCom: on the app's public address (APP_URL) when set, else the request's. */
const origin = (config: AppConfig, req: HttpRequest) => config.appUrl ?? `${req.protocol}://${req.host}`;

@ApiTags('wecom')
@ApiBearerAuth()
@Roles('admin')
@Controller('wecom/connection')
export class WecomConnectionController {
  constructor(private readonly wecom: WecomService, @Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  @ApiOperation({ summary: 'The WeCom connection: ids, the last 4 characters of each secret, the callback URL and its status' })
  @ApiOkResponse({ type: WecomConnectionDto })
  @ApiErrors('WECOM_NOT_CONNECTED')
  get(@CurrentPrincipal() p: Principal, @Req() req: HttpRequest): Promise<WecomConnectionDto> {
    return this.wecom.connection(p.tenantId, origin(this.config, req));
  }

  @Put()
  @ApiOperation({
    summary: 'Connect (or change) the WeCom corporation',
    description: 'WeCom is asked for a token with each secret and for the app with its AgentId before anything is saved; a refusal is 422 naming the field. Secrets are sealed at rest and never returned; leave one out to keep it.',
  })
  @ApiOkResponse({ type: WecomConnectionDto })
  @ApiErrors('WECOM_CHECK_FAILED', 'WECOM_UNREACHABLE')
  connect(@CurrentPrincipal() p: Principal, @Body() dto: ConnectWecomDto, @Req() req: HttpRequest): Promise<WecomConnectionDto> {
    return this.wecom.connect(p.tenantId, dto, origin(this.config, req));
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary: 'Disconnect: the secrets are forgotten and the callback URL stops answering (repeatable)',
    description: 'The channel codes\' WeCom "contact me" configurations are deleted in WeCom first (del_contact_way); one that cannot be ' +
      '(WeCom out of reach, an errcode) is kept as its code\'s `wecomLeftover`, to retry or forget later. Disconnecting never fails for WeCom.',
  })
  @ApiNoContentResponse()
  async disconnect(@CurrentPrincipal() p: Principal): Promise<void> {
    await this.wecom.disconnect(p.tenantId);
  }
}

const CALLBACK_QUERY = ['msg_signature', 'timestamp', 'nonce'] as const;

/** The address WeCom calls (one unguessable path per connection); public, authenticated by WeCom's signature. */
@ApiTags('wecom')
@Public()
@Controller('wecom/callback')
export class WecomCallbackController {
  constructor(private readonly wecom: WecomService) {}

  @Get(':callbackId')
  @ApiOperation({ summary: 'WeCom\'s URL handshake: answers the decrypted echostr when the signature is WeCom\'s' })
  @ApiParam({ name: 'callbackId', description: 'From the connection\'s callbackUrl', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{32}$' } })
  @ApiQuery({ name: 'echostr', required: true })
  @ApiTextResponse('text/plain', 'The decrypted echostr')
  @ApiErrors('WECOM_CALLBACK_NOT_FOUND', 'WECOM_SIGNATURE_INVALID', 'WECOM_TIMESTAMP_STALE', 'WECOM_PAYLOAD_INVALID', 'WECOM_SECRETS_UNREADABLE')
  async verify(@Param('callbackId') id: string, @Query() q: CallbackQuery, @Res() res: HttpReply): Promise<void> {
    const echo = await this.wecom.verifyUrl(id, q);
    res.type('text/plain').send(echo);
  }

  @Post(':callbackId')
  @BodyAs('text') // encrypted XML, whatever content type WeCom names: parsed once the signature checks out
  @HttpCode(200)
  @ApiOperation({ summary: 'WeCom delivers an event (encrypted XML); kept once, applied after the answer' })
  @ApiParam({ name: 'callbackId', description: 'From the connection\'s callbackUrl', schema: { type: 'string', pattern: '^[A-Za-z0-9_-]{32}$' } })
  @ApiConsumes('text/xml')
  @ApiBody({ description: 'At most 64 KB (a larger body is answered 413)', schema: { type: 'string', example: '<xml><ToUserName><![CDATA[ww1a2b3c]]></ToUserName><Encrypt><![CDATA[…]]></Encrypt></xml>' } })
  @ApiTextResponse('text/plain', '"success", as WeCom expects (also for a delivery it already made)')
  @ApiErrors('WECOM_CALLBACK_NOT_FOUND', 'WECOM_SIGNATURE_INVALID', 'WECOM_TIMESTAMP_STALE', 'WECOM_PAYLOAD_INVALID', 'WECOM_SECRETS_UNREADABLE', 'PAYLOAD_TOO_LARGE')
  async receive(@Param('callbackId') id: string, @Query() q: CallbackQuery, @Body() body: unknown, @Res() res: HttpReply): Promise<void> {
    await this.wecom.receive(id, q, typeof body === 'string' ? body : '');
    res.type('text/plain').send('success');
  }
}

for (const name of CALLBACK_QUERY) {
  for (const method of ['verify', 'receive'] as const) {
    ApiQuery({ name, required: true })(WecomCallbackController.prototype, method, Object.getOwnPropertyDescriptor(WecomCallbackController.prototype, method)!);
  }
}
