import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { recurrenceProblems, sopInvalid, templateProblems } from '@sop/domain';
import { loadCalendar, planOccurrences, renderForContact } from '@sop/engine';
import { DataSource } from 'typeorm';
import { notFound } from '../../common/errors.catalog';
import type { PlannedScheduleDto, PreviewMessageDto, PreviewScheduleDto, RenderedMessageDto } from './sops.dto';

/** The designer's previews of a draft: its schedule and its messages, from the engine's own code. */
@Injectable()
export class SopPreviewService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async schedule(tenantId: string, dto: PreviewScheduleDto, now = new Date()): Promise<PlannedScheduleDto> {
    const after = dto.after ? new Date(dto.after) : now;
    const problems = recurrenceProblems(dto.rrule, dto.timezone, after);
    if (problems.length) throw sopInvalid(problems.map((problem) => ({ path: 'rrule', problem })));
    const calendar = await loadCalendar(this.db, tenantId);
    const occurrences = planOccurrences(dto.rrule, dto.timezone, { businessDaysOnly: dto.businessDaysOnly ?? true, calendar, after, count: dto.count ?? 10 });
    return { occurrences };
  }

  async message(tenantId: string, dto: PreviewMessageDto): Promise<RenderedMessageDto> {
    const problems = templateProblems(dto.template);
    if (problems.length) throw sopInvalid(problems.map((problem) => ({ path: 'template', problem })));
    let rendered;
    try {
      rendered = await renderForContact(this.db, tenantId, {
        template: dto.template, contactId: dto.contactId.toLowerCase(), sopName: dto.sopName ?? '', stepName: dto.stepName ?? '',
      });
    } catch (e) {
      throw sopInvalid([{ path: 'template', problem: `cannot be rendered for this contact: ${(e as Error).message}` }]);
    }
    if (!rendered) throw notFound('contact', dto.contactId);
    return rendered;
  }
}
