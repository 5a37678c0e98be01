// A real graphql-ws client for the integration tests. It runs one operation and prints one
// JSON line per thing that happens: {"next": payload}, {"error": ...}, {"complete": true},
// {"closed": code, "reason": "..."}, then exits.
//
// usage: node subscribe.mjs <ws-url> <token|-> <query> [variables-json] [stop-after-n-events]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, query, variablesJson, stopAfter] = process.argv.slice(2);
const variables = variablesJson ? JSON.parse(variablesJson) : {};
const limit = stopAfter ? Number(stopAfter) : Infinity;
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

let received = 0;
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  lazy: true,
  retryAttempts: 0,
  connectionParams: token === '-' ? {} : { authorization: `Bearer ${token}` },
  on: {
    connected: () => print({ connected: true }),
    closed: (e) => {
      print({ closed: e.code, reason: e.reason });
      process.exit(0);
    },
  },
});

client.subscribe(
  { query, variables },
  {
    next: (payload) => {
      print({ next: payload });
      received += 1;
      if (received >= limit) {
        client.dispose();
      }
    },
    error: (err) => {
      // Either GraphQL errors (an array) or the CloseEvent that ended the socket.
      if (Array.isArray(err)) print({ error: err });
      else print({ error: { closeCode: err.code, reason: err.reason } });
    },
    complete: () => print({ complete: true }),
  },
);
