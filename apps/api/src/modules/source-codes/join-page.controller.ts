import { Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import { BodyAs, type HttpReply, type HttpRequest } from '../../common/http';
import { notFound } from '../../common/errors.catalog';
import { ApiErrors, ApiTextResponse } from '../../common/openapi';
import { Public } from '../../common/principal';
import { joinedPage, joinFormPage, type JoinFormState, normalizePhone, pageLang } from './join-page';
import { SourceCodesService } from './source-codes.service';

/** Nothing of the page is cached or framed, and it loads nothing from elsewhere. */
function send(res: HttpReply, html: string): void {
  void res.status(200)
    .headers({
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'Referrer-Policy': 'no-referrer',
    })
    .send(html);
}

const field = (body: unknown, name: string): string => {
  const v = (body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim().slice(0, 200) : '';
};

/**
 * `/j/{code id}`: the page a channel code's QR code opens. Public by nature, like tracked links: a customer
 * leaves a phone number and a name, agrees to be contacted, and arrives through the code (tags, owner).
 * An unknown id answers 404 SOURCE_CODE_NOT_FOUND, as an unknown tracked link does. Posts are limited per
 * client address.
 */
@ApiTags('source-codes')
@Public()
@Controller('j')
export class JoinPageController {
  constructor(private readonly codes: SourceCodesService) {}

  @Get(':id')
  @ApiOperation({ summary: 'A channel code\'s join page (its QR code opens it): an HTML form for a customer\'s phone number and name' })
  @ApiParam({ name: 'id', description: 'The code\'s id, from its joinUrl', schema: { type: 'string', format: 'uuid' } })
  @ApiTextResponse('text/html', 'The page, in Chinese unless the browser asks for English first')
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404])
  async page(@Param('id') id: string, @Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const code = await this.codes.joinPage(id);
    if (!code) throw notFound('source code', id);
    send(res, joinFormPage(pageLang(req), code.organization));
  }

  @Post(':id')
  @BodyAs('form') // the page's plain HTML form
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ default: true, address: true, signup: true })
  @ApiOperation({
    summary: 'A customer sends the join page\'s form: with a valid phone number and consent they arrive through the code ' +
      '(external id phone:<number>; repeatable) and a joined response is recorded; otherwise the form comes back saying what to fix',
  })
  @ApiParam({ name: 'id', description: 'The code\'s id, from its joinUrl', schema: { type: 'string', format: 'uuid' } })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        name: { type: 'string', maxLength: 200, example: '林小姐' },
        phone: { type: 'string', maxLength: 50, example: '138 0013 8000' },
        consent: { type: 'string', enum: ['yes'], description: 'The consent box, ticked' },
      },
      required: ['phone'],
    },
  })
  @ApiTextResponse('text/html', 'A thank-you page, or the form again with the customer\'s input and what to fix')
  // 400: a form field holding text Postgres cannot store (NUL, a lone surrogate), refused before the page (body-guards.ts)
  @ApiErrors(['SOURCE_CODE_NOT_FOUND', 404], 'RATE_LIMITED', ['VALIDATION_FAILED', 400])
  async submit(@Param('id') id: string, @Req() req: HttpRequest, @Res() res: HttpReply): Promise<void> {
    const lang = pageLang(req);
    const code = await this.codes.joinPage(id);
    if (!code) throw notFound('source code', id);
    const state: JoinFormState = { name: field(req.body, 'name'), phone: field(req.body, 'phone'), consent: field(req.body, 'consent') === 'yes', problems: [] };
    const phone = normalizePhone(state.phone ?? '');
    if (!phone) state.problems!.push('phoneInvalid');
    if (!state.consent) state.problems!.push('consentMissing');
    if (!phone || state.problems!.length) return send(res, joinFormPage(lang, code.organization, state));
    await this.codes.joinByPhone(id, phone, state.name);
    send(res, joinedPage(lang, code.organization));
  }
}
