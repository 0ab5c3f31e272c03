// The graphql-http audit suite (GraphQL-over-HTTP specification) against a running orderwatch, with a bearer
// token on every request. Run by .ci/run; exits non-zero when any MUST fails.
import { auditServer } from 'graphql-http';
const token = process.env.TOKEN;
const url = process.env.URL || 'http://127.0.0.1:8080/graphql';
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
let must = { ok: 0, error: 0, warn: 0 }, should = { ok: 0, error: 0, warn: 0 }, may = { ok: 0, error: 0, warn: 0 };
for (const r of results) {
  const bucket = r.name.startsWith('MUST') ? must : r.name.startsWith('SHOULD') ? should : may;
  bucket[r.status]++;
  if (r.status !== 'ok') console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason}`);
}
console.log(`graphql-http audit: MUST ${must.ok} ok, ${must.error + must.warn} not; SHOULD ${should.ok} ok, ${should.error + should.warn} not; MAY ${may.ok} ok, ${may.error + may.warn} not`);
process.exit(must.error + must.warn > 0 ? 1 : 0);
