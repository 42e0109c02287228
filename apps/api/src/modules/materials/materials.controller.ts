import { Body, Controller, Delete, Get, Headers, HttpCode, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth, ApiCreatedResponse, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../../common/openapi';
import { ANY_ROLE, CurrentPrincipal, Roles, type Principal } from '../../common/principal';
import { IdParam } from '../../common/tenant-scope';
import {
  CreateMaterialDto, MaterialDetailDto, MaterialDto, MaterialFolderDto, MaterialInputDto, MaterialPageDto, MaterialQuery, MaterialUpdatedDto,
  UpdateMaterialQuery,
} from './materials.dto';
import { MaterialsService } from './materials.service';

const DESIGNERS = ['admin', 'ops'] as const;

@ApiTags('materials')
@ApiBearerAuth()
@ApiSecurity('api-key')
@Controller('materials')
export class MaterialsController {
  constructor(private readonly materials: MaterialsService) {}

  @Post()
  @Roles(...DESIGNERS)
  @ApiOperation({ summary: 'Add a material to the library. 201 when made, 200 when this id or Idempotency-Key made one before (its first result)' })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Instead of an id in the body: a repeat answers the first material' })
  @ApiCreatedResponse({ type: MaterialDto, description: 'Made' })
  @ApiOkResponse({ type: MaterialDto, description: 'This id or Idempotency-Key made it before' })
  @ApiErrors(['VALIDATION_FAILED', 422], 'MATERIAL_ID_REUSED')
  async create(
    @CurrentPrincipal() p: Principal, @Body() dto: CreateMaterialDto, @Res({ passthrough: true }) res: Response,
    @Headers('idempotency-key') key?: string,
  ): Promise<MaterialDto> {
    const { created, material } = await this.materials.create(p, dto, key);
    res.status(created ? 201 : 200);
    return material;
  }

  @Get()
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'The library, newest first (keyset pages): search titles and summaries, by folder and kind; each with its use and opens' })
  @ApiOkResponse({ type: MaterialPageDto })
  @ApiErrors(['VALIDATION_FAILED', 400])
  list(@CurrentPrincipal() p: Principal, @Query() q: MaterialQuery): Promise<MaterialPageDto> {
    return this.materials.list(p.tenantId, q);
  }

  @Get('folders')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: "The library's folders with how many materials each holds" })
  @ApiOkResponse({ type: [MaterialFolderDto] })
  folders(@CurrentPrincipal() p: Principal): Promise<MaterialFolderDto[]> {
    return this.materials.folders(p.tenantId);
  }

  @Get(':id')
  @Roles(...ANY_ROLE)
  @ApiOperation({ summary: 'A material with where it is used (SOP, version, step) and how often its tracked links were opened' })
  @ApiOkResponse({ type: MaterialDetailDto })
  @ApiErrors(['MATERIAL_NOT_FOUND', 404])
  get(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<MaterialDetailDto> {
    return this.materials.get(p.tenantId, id);
  }

  @Put(':id')
  @Roles(...DESIGNERS)
  @ApiOperation({
    summary: 'Replace a material; ?republish=true also publishes a new version of each active or paused SOP that picks it',
    description: 'Published versions keep what they were published with. Without republish, SOPs take the new content at their next edit or activation.',
  })
  @ApiOkResponse({ type: MaterialUpdatedDto })
  @ApiErrors(['MATERIAL_NOT_FOUND', 404], ['VALIDATION_FAILED', 422], 'SOP_INVALID', 'TEMPORAL_UNAVAILABLE')
  update(
    @CurrentPrincipal() p: Principal, @IdParam() id: string, @Body() dto: MaterialInputDto, @Query() q: UpdateMaterialQuery,
  ): Promise<MaterialUpdatedDto> {
    return this.materials.update(p, id, dto, q.republish ?? false);
  }

  @Delete(':id')
  @Roles(...DESIGNERS)
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove from the library; refused while an SOP that is not archived picks it' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(['MATERIAL_NOT_FOUND', 404], 'MATERIAL_IN_USE')
  remove(@CurrentPrincipal() p: Principal, @IdParam() id: string): Promise<void> {
    return this.materials.remove(p.tenantId, id);
  }
}
