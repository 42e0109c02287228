import { Body, Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { ResponseRuleDto, SaveResponseRuleDto } from './response-rules.dto';
import { ResponseRulesService } from './response-rules.service';

const READERS = ['admin', 'ops', 'manager'] as const;

@ApiTags('response-rules')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('response-rules')
export class ResponseRulesController {
  constructor(private readonly rules: ResponseRulesService) {}

  @Get()
  @Roles(...READERS)
  @ApiOperation({ summary: 'The tenant\'s response rules, oldest first (the order they apply in)' })
  @ApiOkResponse({ type: [ResponseRuleDto] })
  list(@CurrentPrincipal() p: Principal): Promise<ResponseRuleDto[]> {
    return this.rules.list(p.tenantId);
  }

  @Get(':id')
  @Roles(...READERS)
  @ApiOperation({ summary: 'One response rule' })
  @ApiOkResponse({ type: ResponseRuleDto })
  @ApiErrors('RESPONSE_RULE_NOT_FOUND')
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<ResponseRuleDto> {
    return this.rules.get(p.tenantId, id);
  }

  @Post()
  @ApiOperation({ summary: 'Create a rule that turns matching responses into tag changes (422 naming each bad field)' })
  @ApiCreatedResponse({ type: ResponseRuleDto })
  @ApiErrors('RESPONSE_RULE_INVALID', 'RESPONSE_RULE_NAME_TAKEN')
  create(@CurrentPrincipal() p: Principal, @Body() dto: SaveResponseRuleDto): Promise<ResponseRuleDto> {
    return this.rules.save(p.tenantId, dto);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a rule; responses recorded from now on follow it (earlier ones are not re-applied)' })
  @ApiOkResponse({ type: ResponseRuleDto })
  @ApiErrors('RESPONSE_RULE_NOT_FOUND', 'RESPONSE_RULE_INVALID', 'RESPONSE_RULE_NAME_TAKEN')
  replace(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: SaveResponseRuleDto): Promise<ResponseRuleDto> {
    return this.rules.save(p.tenantId, dto, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a rule; the tags it gave stay' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('RESPONSE_RULE_NOT_FOUND')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.rules.remove(p.tenantId, id);
  }
}
