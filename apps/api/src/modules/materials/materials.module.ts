import { Module } from '@nestjs/common';
import { SopsModule } from '../sops/sops.module';
import { MaterialsController } from './materials.controller';
import { MaterialsRepository } from './materials.repository';
import { MaterialsService } from './materials.service';

@Module({ imports: [SopsModule], controllers: [MaterialsController], providers: [MaterialsService, MaterialsRepository] })
export class MaterialsModule {}
