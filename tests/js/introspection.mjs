// Standard introspection as GraphiQL, codegen, Postman and Apollo send it: graphql-js's
// getIntrospectionQuery() with default options and with every option on, over POST and GET,
// signed out and signed in. Each answer must build a client schema identical to the committed
// schema.graphql. Prints one JSON line per check and exits 0 when all held.
//
// usage: node introspection.mjs <graphql-url> <access-token> <schema.graphql>
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  isInterfaceType,
  isLeafType,
  isListType,
  isNonNullType,
  isUnionType,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { readFileSync } from 'node:fs';

const [url, token, sdlPath] = process.argv.slice(2);
const committed = printSchema(lexicographicSortSchema(buildSchema(readFileSync(sdlPath, 'utf8'))));
// Without `specifiedByUrl` a client is not told a scalar's specification: that is all it misses.
const expectedFor = (opts) =>
  opts.specifiedByUrl ? committed : committed.replace(/ @specifiedBy\(url: "[^"]*"\)/g, '');
const options = {
  default: {},
  all: {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  },
};

async function run(method, query, auth) {
  const headers = { accept: 'application/graphql-response+json' };
  if (auth) headers.authorization = `Bearer ${token}`;
  let res;
  if (method === 'GET') {
    res = await fetch(`${url}?${new URLSearchParams({ query })}`, { headers });
  } else {
    headers['content-type'] = 'application/json';
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) });
  }
  return { status: res.status, body: await res.json() };
}

let ok = true;
const report = (o) => {
  ok &&= o.ok;
  console.log(JSON.stringify(o));
};

for (const [name, opts] of Object.entries(options)) {
  const query = getIntrospectionQuery(opts);
  for (const method of ['POST', 'GET']) {
    for (const auth of [false, true]) {
      const check = { options: name, method, signedIn: auth };
      const { status, body } = await run(method, query, auth);
      if (status !== 200 || body.errors) {
        report({ ...check, ok: false, status, errors: body.errors });
        continue;
      }
      const got = printSchema(lexicographicSortSchema(buildClientSchema(body.data)));
      const expected = expectedFor(opts);
      if (got !== expected) {
        const a = got.split('\n');
        const b = expected.split('\n');
        const i = a.findIndex((line, n) => line !== b[n]);
        report({ ...check, ok: false, firstDifference: { line: i, served: a[i], committed: b[i] } });
      } else {
        report({ ...check, ok: true });
      }
    }
  }
}

// The limits still protect: a deep __type { ofType … } chain is refused, naming its limit.
let bomb = 'name';
for (let i = 0; i < 30; i++) bomb = `ofType { ${bomb} }`;
const refused = await run('POST', `{ __type(name: "Query") { ${bomb} } }`, true);
const e = refused.body.errors?.[0];
report({
  check: 'introspection bomb',
  ok:
    e?.extensions?.code === 'QUERY_TOO_COMPLEX' &&
    e.extensions.limit === 'introspectionDepth' &&
    /introspectionDepth \d+ > \d+/.test(e.message),
  error: e,
});

// Members of a union or interface that share a field name share its response shape (graphql-js's
// SameResponseShape), unless one of the two is deprecated: otherwise a client selecting both in
// one selection set is refused by validation (OverlappingFieldsCanBeMerged).
function sameShape(a, b) {
  for (;;) {
    if (isNonNullType(a) || isNonNullType(b)) {
      if (!(isNonNullType(a) && isNonNullType(b))) return false;
      a = a.ofType;
      b = b.ofType;
    }
    if (isListType(a) || isListType(b)) {
      if (!(isListType(a) && isListType(b))) return false;
      a = a.ofType;
      b = b.ofType;
      continue;
    }
    return isLeafType(a) || isLeafType(b) ? a === b : true;
  }
}
const schema = buildSchema(readFileSync(sdlPath, 'utf8'));
const conflicts = [];
for (const t of Object.values(schema.getTypeMap())) {
  const members = isUnionType(t) ? t.getTypes() : isInterfaceType(t) ? schema.getPossibleTypes(t) : null;
  if (!members) continue;
  const byName = {};
  for (const m of members) {
    for (const f of Object.values(m.getFields())) {
      if (!f.deprecationReason) (byName[f.name] ??= []).push([m.name, f.type]);
    }
  }
  for (const [field, list] of Object.entries(byName)) {
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (!sameShape(list[i][1], list[j][1])) {
          conflicts.push(`${t.name}.${field}: ${list[i][0]} ${list[i][1]} vs ${list[j][0]} ${list[j][1]}`);
        }
      }
    }
  }
}
report({ check: 'abstract types select together', ok: conflicts.length === 0, conflicts });

process.exit(ok ? 0 : 1);
