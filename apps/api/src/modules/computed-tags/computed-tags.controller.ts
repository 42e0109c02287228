import { Body, Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/openapi';
import { CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import { ComputedTagRuleDto, CreateComputedTagRuleDto } from './computed-tags.dto';
import { ComputedTagsService } from './computed-tags.service';

@ApiTags('computed-tags')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Roles('admin', 'ops')
@Controller('computed-tags')
export class ComputedTagsController {
  constructor(private readonly rules: ComputedTagsService) {}

  @Get()
  @ApiOkResponse({ type: [ComputedTagRuleDto] })
  list(@CurrentPrincipal() p: Principal): Promise<ComputedTagRuleDto[]> {
    return this.rules.list(p.tenantId);
  }

  @Post()
  @ApiOperation({ summary: 'Create a computed-tag rule and apply it to every contact now' })
  @ApiCreatedResponse({ type: ComputedTagRuleDto })
  @ApiErrors(['VALIDATION_FAILED', 422], 'GROUP_HAS_RULE')
  create(@CurrentPrincipal() p: Principal, @Body() dto: CreateComputedTagRuleDto): Promise<ComputedTagRuleDto> {
    return this.rules.save(p.tenantId, dto);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a rule and re-apply it to every contact' })
  @ApiOkResponse({ type: ComputedTagRuleDto })
  @ApiErrors('COMPUTED_TAG_RULE_NOT_FOUND', ['VALIDATION_FAILED', 422], 'GROUP_HAS_RULE')
  replace(@CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: CreateComputedTagRuleDto): Promise<ComputedTagRuleDto> {
    return this.rules.save(p.tenantId, dto, id);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors('COMPUTED_TAG_RULE_NOT_FOUND')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.rules.remove(p.tenantId, id);
  }
}
