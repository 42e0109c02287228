import { Controller, Headers, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { BodyAs, type HttpRequest } from '../../common/http';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { EventBatchDto, EventBatchResultDto } from './events.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Post()
  @BodyAs('raw') // the signature covers the exact bytes: parsed only once it checks out
  @HttpCode(200)
  @ApiHeader({ name: 'X-Sop-Timestamp', required: true, description: 'Unix time in seconds; more than 5 minutes off is refused (401)' })
  @ApiHeader({ name: 'X-Sop-Signature', required: true, description: 'v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>" under the key\'s signing secret>' })
  @ApiBody({ type: EventBatchDto })
  @ApiOperation({ summary: 'Events from other systems (API key and signature; 401 and nothing kept otherwise); answers per event: accepted, duplicate or rejected' })
  @ApiOkResponse({ type: EventBatchResultDto })
  @ApiErrors('API_KEY_REQUIRED', 'SIGNATURE_MISSING', 'SIGNATURE_STALE', 'SIGNATURE_INVALID', 'SIGNING_KEY_RETIRED', 'MALFORMED_JSON', ['VALIDATION_FAILED', 400], 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_ENCODING')
  ingest(
    @CurrentPrincipal() p: Principal, @Req() req: HttpRequest,
    @Headers('x-sop-timestamp') timestamp?: string, @Headers('x-sop-signature') signature?: string,
  ): Promise<EventBatchResultDto> {
    return this.events.ingest(p, { timestamp, signature, rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0) });
  }
}
