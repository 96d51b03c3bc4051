// The GraphQL-over-HTTP conformance audit of graphql-http against a live
// envgraph: node audit.mjs URL [TOKEN]. Prints a JSON list of the audits that
// did not pass: {id, name, status, reason}.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
const fetchFn = (input, init = {}) => {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};
const results = await auditServer({ url, fetchFn });
const failed = results
  .filter((r) => r.status !== 'ok')
  .map((r) => ({ id: r.id, name: r.name, status: r.status, reason: r.reason }));
process.stdout.write(JSON.stringify(failed, null, 1));
