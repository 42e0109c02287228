import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { registerDecorator, type ValidationOptions } from 'class-validator';
import { type ErrorDetail, validationFailed } from '@sop/domain';

/** Flattens class-validator's tree into one detail per problem, each with the field's full path. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): ErrorDetail[] {
  return errors.flatMap((e) => {
    const path = parent ? (/^\d+$/.test(e.property) ? `${parent}[${e.property}]` : `${parent}.${e.property}`) : e.property;
    const own = Object.values(e.constraints ?? {}).map((problem) => ({
      path,
      // class-validator words its messages as "<property> must …"; the path already names the field
      problem: problem.startsWith(`${e.property} `) ? problem.slice(e.property.length + 1) : problem,
    }));
    return [...own, ...flattenValidationErrors(e.children ?? [], path)];
  });
}

/** Rejects unknown fields, names each bad field with its path, and converts types declared in DTOs. */
export const validationPipe = () =>
  new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => validationFailed(flattenValidationErrors(errors)),
  });

const knownZones = new Map<string, boolean>();

/** An IANA zone name. Remembered once checked: building a formatter per request was a hot spot of the inbox. */
export function isTimeZone(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 64) return false;
  let known = knownZones.get(value);
  if (known === undefined) {
    try {
      known = Boolean(new Intl.DateTimeFormat('en', { timeZone: value }));
    } catch {
      known = false;
    }
    if (knownZones.size < 10_000) knownZones.set(value, known);
  }
  return known;
}

export function IsTimeZone(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimeZone', target: object.constructor, propertyName, options,
      validator: { validate: isTimeZone, defaultMessage: () => 'must be an IANA time zone such as Asia/Shanghai' },
    });
}

/**
 * A finite number with at most two decimal places (money). class-validator's `maxDecimalPlaces` reads the
 * number's text and throws on exponent notation (-5e-324 answered 500).
 */
export function isAmount(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value) && Number(value.toFixed(2)) === value;
}

export function IsAmount(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'isAmount', target: object.constructor, propertyName, options,
      validator: { validate: isAmount, defaultMessage: () => 'must be a number with at most 2 decimal places' },
    });
}
