import { Body, Controller, Delete, Get, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { CalendarDayDto, CalendarRangeQuery, SetCalendarDayDto } from './calendar.dto';
import { CalendarService } from './calendar.service';

@ApiTags('calendar')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('calendar')
export class CalendarController {
  constructor(private readonly calendar: CalendarService) {}

  @Get('days')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'Working days, public holidays and make-up working days in a range (at most 366 days)' })
  @ApiOkResponse({ type: [CalendarDayDto] })
  days(@CurrentPrincipal() p: Principal, @Query() q: CalendarRangeQuery): Promise<CalendarDayDto[]> {
    return this.calendar.days(p.tenantId, q.from, q.to);
  }

  @Put('days/:date')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: "Set your own entry for a day (a closure, an extra working day); it wins over the shipped calendar" })
  @ApiOkResponse({ type: CalendarDayDto })
  set(@CurrentPrincipal() p: Principal, @Param('date') date: string, @Body() dto: SetCalendarDayDto): Promise<CalendarDayDto> {
    return this.calendar.set(p.tenantId, date, dto);
  }

  @Delete('days/:date')
  @Roles('admin', 'ops')
  @ApiOperation({ summary: 'Remove your entry for a day: the shipped calendar applies again' })
  @ApiOkResponse({ type: CalendarDayDto })
  @ApiErrors(['VALIDATION_FAILED', 400])
  unset(@CurrentPrincipal() p: Principal, @Param('date') date: string): Promise<CalendarDayDto> {
    return this.calendar.unset(p.tenantId, date);
  }
}
