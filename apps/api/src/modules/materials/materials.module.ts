import { Module } from '@nestjs/common';
import { SopsModule } from '../sops/sops.module';
import { MaterialsController } from './materials.controller';
import { MaterialsService } from './materials.service';

@Module({ imports: [SopsModule], controllers: [MaterialsController], providers: [MaterialsService] })
export class MaterialsModule {}
