import { definitionSchema } from '@sop/domain/sops/definition';
import type { FormInstance } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, call, type ErrorDetail } from '../../api/client';
import { namePath } from '../../lib/errors';
import { sopProblemText } from './problem-words';

/** zod's issue path as the API names it: `definition.steps[0].window`. */
const apiPath = (parts: readonly PropertyKey[]) =>
  parts.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : `${p}.${String(k)}`), 'definition');

/**
 * The draft's problems as the user types: first the shape, in the browser, with the same zod schema the API
 * checks with (instant); when the shape is right, everything a save checks (the tenant's segments, people,
 * tags, windows against quiet hours …) by asking the API without saving. Shown at their fields once touched, in the
 * viewer's words (the check says them in English).
 */
export function useLiveCheck(form: FormInstance, definition: unknown, sopId: string | undefined, showAll: boolean) {
  const { t } = useTranslation('sops'); // a new t when the language changes: the problems are worded again
  const [problems, setProblems] = useState<ErrorDetail[]>([]);
  const [checking, setChecking] = useState(false);
  const shown = useRef<string[]>([]);
  const key = JSON.stringify(definition);

  useEffect(() => {
    if (!definition) return undefined;
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      const shape = definitionSchema.safeParse(definition);
      if (!shape.success) {
        setChecking(false); // a check still asking for the draft before (aborted) did not clear it
        setProblems(shape.error.issues.map((i) => ({ path: apiPath(i.path), problem: i.message })));
        return;
      }
      setChecking(true);
      try {
        const answer = await call(api.POST('/api/sops/check', { body: { definition: definition as never, ...(sopId ? { sopId } : {}) }, signal: controller.signal }));
        if (!controller.signal.aborted) setProblems(answer.problems); // an answer for a draft edited since is stale
      } catch {
        // offline or refused: the save answers for itself
      } finally {
        if (!controller.signal.aborted) setChecking(false);
      }
    }, 400);
    return () => { clearTimeout(timer); controller.abort(); };
  }, [key, sopId]); // eslint-disable-line react-hooks/exhaustive-deps -- the key stands for the definition

  useEffect(() => {
    const known = new Set(form.getFieldsError().map((f) => JSON.stringify(f.name)));
    const byField = new Map<string, { name: (string | number)[]; errors: string[] }>();
    for (const p of problems) {
      const name = namePath(p.path);
      const k = JSON.stringify(name);
      if (!known.has(k) || !(showAll || form.isFieldTouched(name))) continue;
      const entry = byField.get(k) ?? { name, errors: [] };
      entry.errors.push(sopProblemText(t, p.problem));
      byField.set(k, entry);
    }
    // Clear what was shown before and is fixed now, then show what is wrong now.
    const cleared = shown.current.filter((k) => !byField.has(k)).map((k) => ({ name: JSON.parse(k) as (string | number)[], errors: [] }));
    form.setFields([...cleared, ...byField.values()]);
    shown.current = [...byField.keys()];
  }, [problems, showAll, form, t]);

  return { problems, checking };
}
