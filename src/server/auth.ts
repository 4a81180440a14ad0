// Optional bearer-token authentication. Both sides are hashed first so the comparison takes the
// same time whatever the length or content of what was sent (crypto.timingSafeEqual needs equal lengths).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export type Authenticator = (authorization: string | undefined) => boolean;

/** '' = no authentication. The token is kept only as its digest. */
export function bearerAuthenticator(token: string): Authenticator {
  if (token === '') return () => true;
  const want = digest(token);
  return (authorization) => {
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '');
    // Hash something even when the header is absent, so a missing header costs what a wrong one does.
    const ok = timingSafeEqual(digest(m?.[1] ?? ''), want);
    return ok && m !== null;
  };
}
