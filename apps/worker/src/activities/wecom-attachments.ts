import type { Queryable } from '@sop/engine';
import { WECOM_ATTACHMENT_LIMITS } from '@sop/domain';
import { fetchImage, type FetchedImage } from '@sop/notify';
import { fitBytes, WecomApiError, type WecomAnswer, type WecomClient } from '@sop/wecom';
import { createHash } from 'node:crypto';

/** What a task carries of a material (the step's copy): an image is a picked library material marked `kind: 'image'`. */
export interface TaskMaterial { materialId?: string; title: string; url: string; kind?: 'image'; coverUrl?: string }

export interface AttachmentDeps {
  /** the API's public address: links go out as `{appUrl}/r/w…` tracked links; without it, as the material's own URL */
  appUrl?: string;
  /** hosts an image may be read from although internal (local test servers), as for robots and webhooks */
  allowHosts?: readonly string[];
}

/** A template's attachments cannot be made (an image WeCom would refuse, or that cannot be read): its tasks go to the executor. */
export class AttachmentRefused extends Error {}

/** WeCom keeps an uploaded image this long (media/upload, media/upload_attachment: 3 days). */
const MEDIA_LIFETIME_MS = 3 * 86_400_000;
/** A kept media_id with less than this left is uploaded again: the employee may confirm the template hours later. */
const MEDIA_MARGIN_MS = 3_600_000;
const FETCH_TIMEOUT_MS = 10_000;

/** Images read in one pass, by URL: the templates of a pass read each once. */
export type ImageReads = Map<string, Promise<FetchedImage>>;

/**
 * The attachments of one template (or Moments task), in the step's order: images as `{ msgtype: 'image', image:
 * { media_id } }` (add_msg_template and add_moment_task take the same shape), uploaded once per tenant, material and
 * content (`wecom_media`, re-uploaded when less than an hour of WeCom's 3 days is left); links as the batch's
 * tracked link. The step's checks keep within WeCom's counts; the slice is a last guard.
 */
export async function attachmentsFor(
  m: Queryable, client: WecomClient, row: { id: string; tenant_id: string; kind: string; link_token: string | null },
  materials: TaskMaterial[], deps: AttachmentDeps, reads: ImageReads, now: Date,
): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const [index, material] of materials.slice(0, WECOM_ATTACHMENT_LIMITS.template).entries()) {
    if (material.kind === 'image' && material.materialId) {
      out.push({ msgtype: 'image', image: { media_id: await mediaIdFor(m, client, row, material, material.url, deps, reads, now) } });
      continue;
    }
    const url = deps.appUrl && row.link_token ? `${deps.appUrl.replace(/\/$/, '')}/r/w${row.id}-${index}-${row.link_token}` : material.url;
    if (row.kind !== 'moment') {
      out.push({ msgtype: 'link', link: { title: material.title.slice(0, 128), url } });
    } else {
      // a Moments link is posted with its cover (link.media_id, from upload_attachment) and a title of at most 64 bytes
      const cover = material.coverUrl && material.materialId ? await mediaIdFor(m, client, row, material, material.coverUrl, deps, reads, now) : undefined;
      out.push({ msgtype: 'link', link: { title: fitBytes(material.title, 64), url, ...(cover ? { media_id: cover } : {}) } });
    }
  }
  return out;
}

/** The media_id of the image at `imageUrl` (the material's own, or its cover), kept or uploaded now. */
async function mediaIdFor(
  m: Queryable, client: WecomClient, row: { tenant_id: string; kind: string }, material: TaskMaterial, imageUrl: string,
  deps: AttachmentDeps, reads: ImageReads, now: Date,
): Promise<string> {
  const image = await read(material, imageUrl, deps, reads);
  const sha256 = createHash('sha256').update(image.bytes).digest('hex');
  const purpose = row.kind === 'moment' ? 'moment' : 'template';
  const [kept] = await m.query(
    `SELECT media_id FROM wecom_media WHERE tenant_id = $1 AND material_id = $2 AND sha256 = $3 AND purpose = $4 AND expires_at > $5`,
    [row.tenant_id, material.materialId, sha256, purpose, new Date(now.getTime() + MEDIA_MARGIN_MS)]);
  if (kept) return kept.media_id;
  const file = { name: `${sha256.slice(0, 16)}.${image.type}`, contentType: image.type === 'png' ? 'image/png' : 'image/jpeg', bytes: image.bytes };
  let answer: WecomAnswer & { media_id?: string; created_at?: string | number };
  try {
    // Moments take only what media/upload_attachment gave (attachment_type 1: Moments); templates media/upload's
    answer = purpose === 'moment'
      ? await client.upload('/cgi-bin/media/upload_attachment', { media_type: 'image', attachment_type: '1' }, file)
      : await client.upload('/cgi-bin/media/upload', { type: 'image' }, file);
  } catch (err) {
    if (err instanceof WecomApiError && !err.retryable) throw new AttachmentRefused(`WeCom refused the image "${material.title}": ${err.message}`);
    throw err;
  }
  if (typeof answer.media_id !== 'string') throw new AttachmentRefused(`WeCom gave no media_id for the image "${material.title}"`);
  const uploadedAt = Number(answer.created_at) > 0 ? new Date(Number(answer.created_at) * 1000) : now;
  await m.query(
    `INSERT INTO wecom_media (tenant_id, material_id, sha256, purpose, media_id, uploaded_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (tenant_id, material_id, sha256, purpose) DO UPDATE SET media_id = EXCLUDED.media_id, uploaded_at = EXCLUDED.uploaded_at, expires_at = EXCLUDED.expires_at`,
    [row.tenant_id, material.materialId, sha256, purpose, answer.media_id, uploadedAt, new Date(uploadedAt.getTime() + MEDIA_LIFETIME_MS)]);
  return answer.media_id;
}

/** The image's bytes (at most 10 MB), as WeCom would take them; refused with the reason otherwise. */
async function read(material: TaskMaterial, imageUrl: string, deps: AttachmentDeps, reads: ImageReads): Promise<FetchedImage> {
  let pending = reads.get(imageUrl);
  if (!pending) {
    pending = fetchImage(imageUrl, {
      timeoutMs: FETCH_TIMEOUT_MS, maxBytes: WECOM_ATTACHMENT_LIMITS.imageBytes, publicOnly: { allowHosts: deps.allowHosts ?? [] },
    });
    reads.set(imageUrl, pending);
  }
  const image = await pending.catch((err: Error) => {
    throw new AttachmentRefused(`the image "${material.title}" could not be read: ${err.message}`);
  });
  if (image.tooLarge) throw new AttachmentRefused(`the image "${material.title}" is over WeCom's 10 MB`);
  if (image.type !== 'jpg' && image.type !== 'png') throw new AttachmentRefused(`WeCom takes jpg or png images; "${material.title}" is ${image.type}`);
  return image;
}
