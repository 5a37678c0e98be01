// GraphQL Code Generator against the live URL (the schema comes from standard introspection),
// generating TypeScript types for the realistic operations in ./operations. Codegen validates the
// documents against the schema, so a union whose members disagree on a field's type fails here.
// Prints the generated type names and exits 0 when every operation got its types.
//
// usage: node codegen.mjs <graphql-url>
import { generate } from '@graphql-codegen/cli';

const [url] = process.argv.slice(2);
const out = await generate(
  {
    schema: url,
    documents: ['operations/*.graphql'],
    silent: true,
    errorsOnly: true,
    generates: {
      'kakehashi.generated.ts': { plugins: ['typescript', 'typescript-operations'] },
    },
  },
  false,
);
const content = out.map((o) => o.content).join('\n');
const wanted = [
  'MyClientsQuery',
  'RecordObservationMutation',
  'ClientHistoryQuery',
  'MyFeedSubscription',
  'CaseloadQuery',
  'HistoryKind',
];
const missing = wanted.filter((t) => !new RegExp(`export type ${t}\\b`).test(content));
console.log(JSON.stringify({ ok: missing.length === 0, missing, bytes: content.length }));
process.exit(missing.length === 0 ? 0 : 1);
