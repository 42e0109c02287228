import * as argon2 from 'argon2';

/** argon2id with the library's defaults (64 MiB, 3 passes): slow for attackers, ~50 ms for us. */
export const hashPassword = (plain: string): Promise<string> => argon2.hash(plain, { type: argon2.argon2id });

// Verifying against this when no user matches keeps "unknown email" as slow as "wrong password".
const decoy = hashPassword('decoy-password-for-timing');

export async function verifyPassword(hash: string | undefined, plain: string): Promise<boolean> {
  try {
    return await argon2.verify(hash ?? (await decoy), plain).then((ok) => ok && hash !== undefined);
  } catch {
    return false;
  }
}
