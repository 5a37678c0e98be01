// Every GraphQL block in README.md, as a front-end team would copy it: it must validate under
// graphql-js (every specified rule, as codegen and Apollo apply them, and no deprecated field)
// against the committed
// schema.graphql, and every query must run on a server with the demo data, signed in as the
// account the README's text has in mind, without errors. Mutations and subscriptions are
// validated only (running them would change the demo world under the next query).
// Prints one JSON line per operation and exits 0 when all held.
//
// usage: node readme.mjs <graphql-url> <README.md> <schema.graphql>
import { NoDeprecatedCustomRule, buildSchema, parse, specifiedRules, validate } from 'graphql';
import { readFileSync } from 'node:fs';

const [url, readmePath, sdlPath] = process.argv.slice(2);
const schema = buildSchema(readFileSync(sdlPath, 'utf8'));
const readme = readFileSync(readmePath, 'utf8');
const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
const PASSWORD = 'kakehashi-demo';

async function gql(query, variables = {}, token) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  return res.json();
}

const tokens = {};
async function tokenOf(email) {
  if (!tokens[email]) {
    const r = await gql(
      'mutation($i: LoginInput!) { login(input: $i) { accessToken } }',
      { i: { email, password: PASSWORD } },
    );
    if (!r.data?.login) throw new Error(`cannot sign in as ${email}: ${JSON.stringify(r)}`);
    tokens[email] = r.data.login.accessToken;
  }
  return tokens[email];
}

// Who runs each query: the README's text names the role; the rest follow the view they read.
const ACCOUNT = {
  Directory: 'manager@himawari.example',
  MyStaff: 'admin@himawari.example',
  Keys: 'admin@himawari.example',
  WebhookLog: 'admin@himawari.example',
  Draft: 'manager@himawari.example',
  FindClient: 'manager@himawari.example',
  AuditSummary: 'manager@himawari.example',
};
function accountFor(name, text) {
  if (ACCOUNT[name]) return ACCOUNT[name];
  if (/\bconsultation\b/.test(text) || /\b(Caseload|Meeting|History|Materials|Freshness|Alignment|Risks)\b/.test(name ?? '')) {
    return 'specialist@aozora.example';
  }
  return 'staff@himawari.example';
}

// The demo records behind the variables the README's operations declare.
const specialist = await tokenOf('specialist@aozora.example');
const caseload = await gql(
  '{ consultation { caseload(first: 50) { nodes { client { id displayName } } } } }',
  {},
  specialist,
);
const yamada = caseload.data.consultation.caseload.nodes.find((n) => n.client.displayName === '山田 太郎').client.id;
const managerMeetings = await gql(
  'query($c: ID!) { client(id: $c) { meetings { id meetingStatus } } }',
  { c: yamada },
  await tokenOf('manager@himawari.example'),
);
const upcoming = managerMeetings.data.client.meetings.find((m) => m.meetingStatus === 'SCHEDULED');
const VALUES = {
  c: yamada,
  client: yamada,
  m: upcoming?.id,
  after: null,
};

let ok = true;
let queries = 0;
const report = (o) => {
  ok &&= o.ok;
  console.log(JSON.stringify(o));
};

for (const block of blocks) {
  let doc;
  try {
    doc = parse(block);
  } catch (e) {
    report({ ok: false, block: block.slice(0, 80), parseError: String(e) });
    continue;
  }
  // Every specified rule, and no deprecated field: the README shows what to write today.
  const errors = validate(schema, doc, [...specifiedRules, NoDeprecatedCustomRule]);
  const names = doc.definitions
    .filter((d) => d.kind === 'OperationDefinition')
    .map((d) => d.name?.value ?? null);
  if (errors.length) {
    report({ ok: false, operations: names, validationErrors: errors.map((e) => e.message) });
    continue;
  }
  for (const def of doc.definitions) {
    if (def.kind !== 'OperationDefinition') continue;
    const name = def.name?.value ?? null;
    if (def.operation !== 'query') {
      report({ ok: true, operation: name, validated: true });
      continue;
    }
    const variables = {};
    const unknown = [];
    for (const v of def.variableDefinitions ?? []) {
      const key = v.variable.name.value;
      if (key in VALUES && VALUES[key] !== undefined) variables[key] = VALUES[key];
      else unknown.push(key);
    }
    if (unknown.length) {
      report({ ok: false, operation: name, message: `no demo value for $${unknown.join(', $')}: add it to VALUES` });
      continue;
    }
    const email = accountFor(name, block);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenOf(email)}` },
      body: JSON.stringify({ query: block, variables, operationName: name }),
    }).then((r) => r.json());
    queries += 1;
    report({ ok: !res.errors && res.data != null, operation: name, as: email, errors: res.errors });
  }
}
report({ ok: queries >= 10, check: 'queries run', queries });
process.exit(ok ? 0 : 1);
