import { type ErrorDetail, jsonPath, type SopDefinition, WECOM_ATTACHMENT_LIMITS, WECOM_MASS_SEND_CHANNELS } from '@sop/domain';
import type { Queryable } from '@sop/engine';
import { fetchImage } from '@sop/notify';
import type { ImageFacts, SopsRepository } from './sops.repository';

/** A save waits this long for an image's address; one that does not answer is left to the hand-over to judge. */
const FETCH_TIMEOUT_MS = 5_000;

/**
 * What WeCom would refuse of the images a step hands to it (`wecomMassSend`): over 10 MB, or not jpg or png
 * (media/upload and media/upload_attachment refuse them). The library holds a material's address, not its bytes,
 * so the image is read from its URL, once per URL (what was learned is kept on the material); an address that does
 * not answer is not refused here: the hand-over reads the image again and leaves the tasks to the executor, saying
 * why, if it still cannot. Each problem names the material's path.
 */
export async function wecomImageProblems(
  sops: SopsRepository, db: Queryable, tenantId: string, def: SopDefinition, options: { allowHosts: readonly string[] },
): Promise<ErrorDetail[]> {
  const uses: { path: string; materialId: string }[] = [];
  def.steps.forEach((step, s) => {
    if (!step.wecomMassSend || !(WECOM_MASS_SEND_CHANNELS as readonly string[]).includes(step.channel)) return;
    step.content.materials.forEach((m, i) => {
      if (m.kind === 'image' && m.materialId) uses.push({ path: jsonPath(['steps', s, 'content', 'materials', i]), materialId: m.materialId });
    });
  });
  if (!uses.length) return [];
  const rows = await sops.imageFacts(db, tenantId, [...new Set(uses.map((u) => u.materialId))], false);
  const facts = new Map(await Promise.all(rows.map(async (r) => [r.id, await factsOf(sops, db, tenantId, r, options.allowHosts)] as const)));
  const problems: ErrorDetail[] = [];
  for (const use of uses) {
    const f = facts.get(use.materialId);
    if (!f) continue;
    if (f.bytes > WECOM_ATTACHMENT_LIMITS.imageBytes) {
      problems.push({ path: use.path, problem: 'the image is over WeCom\'s 10 MB for a mass-send attachment' });
    } else if (!(WECOM_ATTACHMENT_LIMITS.imageTypes as readonly string[]).includes(f.type)) {
      problems.push({ path: use.path, problem: `WeCom takes jpg or png images; this one is ${f.type === 'other' ? 'not an image WeCom knows' : f.type}` });
    }
  }
  return problems;
}

/**
 * Reads and keeps the size and type of the images a definition hands to WeCom, before the save's transaction opens:
 * the check inside it then finds them kept and holds no row lock while an image's address answers (up to 5 s).
 * Takes the definition as sent, valid or not: what it cannot read is left to the check.
 */
export async function readImagesAhead(sops: SopsRepository, db: Queryable, tenantId: string, input: unknown, options: { allowHosts: readonly string[] }): Promise<void> {
  const steps = (input as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return;
  const ids = steps.filter((s) => s?.wecomMassSend).flatMap((s) => (Array.isArray(s?.content?.materials) ? s.content.materials : []))
    .filter((m) => typeof m?.materialId === 'string' && UUID.test(m.materialId)).map((m) => m.materialId as string);
  if (!ids.length) return;
  const rows = await sops.imageFacts(db, tenantId, [...new Set(ids)], true);
  await Promise.all(rows.map((r) => factsOf(sops, db, tenantId, r, options.allowHosts)));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The image's size and type: kept ones while the URL is the same, else read now and kept. Undefined when unreadable. */
async function factsOf(sops: SopsRepository, db: Queryable, tenantId: string, r: ImageFacts, allowHosts: readonly string[]): Promise<{ bytes: number; type: string } | undefined> {
  if (r.image_checked_url === r.url && r.image_bytes !== null && r.image_type) return { bytes: r.image_bytes, type: r.image_type };
  const image = await fetchImage(r.url, { timeoutMs: FETCH_TIMEOUT_MS, maxBytes: WECOM_ATTACHMENT_LIMITS.imageBytes, publicOnly: { allowHosts } })
    .catch(() => undefined);
  if (!image) return undefined;
  const bytes = image.tooLarge ? WECOM_ATTACHMENT_LIMITS.imageBytes + 1 : image.bytes.length;
  await sops.keepImageFacts(db, tenantId, r.id, r.url, bytes, image.type);
  return { bytes, type: image.type };
}
