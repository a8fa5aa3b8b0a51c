// graphql-http's GraphQL over HTTP server audits, run against one URL.
//
//   node tests/http/graphql_http_audit/audit.mjs http://127.0.0.1:8000/graphql [npm folder]
//
// Prints every audit that is not ok (status, id, name and reason), then a
// summary line; exits 1 unless every audit is ok. The npm folder, where the
// pinned package.json of this folder is installed, defaults to tests/.npm
// (tests/http/test_graphql_http_audit.py installs it there).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const [url, folder = path.join(here, '..', '..', '.npm')] = process.argv.slice(2);
if (!url) {
  console.error('usage: node audit.mjs <GraphQL URL> [npm folder]');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(folder), 'package.json'));
const { auditServer } = require('graphql-http');
const { version } = require('graphql-http/package.json');

const results = await auditServer({ url });
const failed = results.filter((result) => result.status !== 'ok');
for (const result of failed) {
  console.log(`${result.status} ${result.id} ${result.name}: ${result.reason}`);
}
const counts = {};
for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
const summary = Object.entries(counts).map(([status, n]) => `${n} ${status}`).join(', ');
console.log(`graphql-http ${version}: ${results.length} audits, ${summary || 'none run'}`);
process.exit(results.length > 0 && failed.length === 0 ? 0 : 1);
