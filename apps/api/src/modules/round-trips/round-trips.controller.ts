import { Body, Controller, Get, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import type { HttpReply } from '../../common/http';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { RoundTripDto, StartRoundTripDto } from './round-trips.dto';
import { RoundTripsService } from './round-trips.service';

@ApiTags('system')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('round-trips')
export class RoundTripsController {
  constructor(private readonly roundTrips: RoundTripsService) {}

  @Post()
  @ApiOperation({
    summary: 'Prove the whole stack works: starts a workflow whose activity writes to Postgres',
    description: '201 when started, 200 when this id was started before. Poll GET /api/round-trips/{id} until completed.',
  })
  @ApiCreatedResponse({ type: RoundTripDto, description: 'Started' })
  @ApiOkResponse({ type: RoundTripDto, description: 'This id was started before' })
  @ApiErrors('TEMPORAL_UNAVAILABLE')
  async start(
    @CurrentPrincipal() p: Principal,
    @Body() dto: StartRoundTripDto,
    @Res({ passthrough: true }) res: HttpReply,
  ): Promise<RoundTripDto> {
    const { created, roundTrip } = await this.roundTrips.start(p, dto.id);
    res.status(created ? 201 : 200);
    return roundTrip;
  }

  @Get(':id')
  @ApiOkResponse({ type: RoundTripDto })
  @ApiErrors('ROUND_TRIP_NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<RoundTripDto> {
    return this.roundTrips.get(p.tenantId, id);
  }
}
