// PostGraphile 4 as `bench peer` runs it: the library over plain node:http, configured as its
// documentation recommends for production (no query log, no GraphiQL, no watch mode). The
// timeline's `record_id` has no foreign key (it points at a record of any kind), so a smart
// tag declares the one to observations: PostGraphile then walks the timeline's index like
// Kakehashi does and joins each entry's observation, author and organization in one statement.
// The connection-filter plugin lets the query leave out what the viewer may not see (other
// organizations' internal records), which equality conditions cannot say.
//
// Usage: node server.js DATABASE_URL   (prints `PORT <n>` once it listens on 127.0.0.1)
"use strict";
const http = require("node:http");
const { postgraphile } = require("postgraphile");
const { makePgSmartTagsFromFilePlugin } = require("postgraphile/plugins");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");

const databaseUrl = process.argv[2];
if (!databaseUrl) {
  console.error("usage: node server.js DATABASE_URL");
  process.exit(2);
}
const middleware = postgraphile(databaseUrl, "public", {
  appendPlugins: [
    makePgSmartTagsFromFilePlugin(`${__dirname}/postgraphile.tags.json5`),
    ConnectionFilterPlugin,
  ],
  disableQueryLog: true,
  graphiql: false,
  watchPg: false,
  retryOnInitFail: false,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  extendedErrors: ["errcode"],
});
const server = http.createServer(middleware);
server.listen(0, "127.0.0.1", () => {
  console.log(`PORT ${server.address().port}`);
});
// The harness ends the process; a closed stdin (the harness died) ends it too.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
