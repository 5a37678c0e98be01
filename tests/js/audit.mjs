// Runs the graphql-http server audit against a running Kakehashi server and prints every
// result. Exits 1 when any audit fails or warns. Usage: node audit.mjs http://127.0.0.1:PORT/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <url>');
  process.exit(2);
}
const results = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  results.push({ id: audit.id, name: audit.name, ...(await audit.fn()) });
}
let bad = 0;
for (const r of results) {
  if (r.status !== 'ok') {
    bad++;
    console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}: ${r.reason ?? ''}`);
  }
}
console.log(`${results.length - bad} ok, ${bad} not ok`);
process.exit(bad === 0 ? 0 : 1);
