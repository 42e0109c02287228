import { ValidationPipe, type ValidationError } from '@nestjs/common';
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
