// The load generator of `bench peer`: autocannon against one GraphQL endpoint, in its own process.
//
// Usage: node load.js '{"url":…,"body":…,"headers":{…},"connections":10,"duration":15,"expectBody":…}'
// Prints one line of JSON: requests per second (mean over the seconds of the run), latency
// p50/p99 in ms, total responses, non-2xx responses, errors (connection errors and timeouts)
// and mismatches (responses whose body differs from `expectBody`, e.g. a GraphQL error).
"use strict";
const autocannon = require("autocannon");

const opts = JSON.parse(process.argv[2]);
autocannon(
  {
    url: opts.url,
    method: "POST",
    body: opts.body,
    headers: { "content-type": "application/json", ...(opts.headers || {}) },
    connections: opts.connections,
    duration: opts.duration,
    expectBody: opts.expectBody || undefined,
    timeout: 30,
  },
  (err, r) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    console.log(
      JSON.stringify({
        rps: r.requests.mean,
        p50: r.latency.p50,
        p99: r.latency.p99,
        total: r.requests.total,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        mismatches: r.mismatches,
      }),
    );
  },
);
