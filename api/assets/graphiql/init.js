// Kakehashi's GraphiQL: every script, style and font comes from this server (see README.md in
// api/assets/graphiql). Queries go to /graphql over HTTP; subscriptions to the same URL over
// WebSocket (graphql-transport-ws), with the Headers tab sent as the connection_init payload,
// so `{"Authorization": "Bearer …"}` signs in both.
(function () {
  'use strict';
  var http = window.location.origin + '/graphql';
  var ws = http.replace(/^http/, 'ws');
  var fetcher = GraphiQL.createFetcher({ url: http, subscriptionUrl: ws });
  var defaultQuery = [
    '# Kakehashi (架け橋): sign in with `login`, then put',
    '#   {"Authorization": "Bearer <accessToken>"}',
    '# in the Headers tab below. The Docs panel (book icon) lists every type and field.',
    '',
    'mutation Login {',
    '  login(input: { email: "staff@himawari.example", password: "kakehashi-demo" }) {',
    '    accessToken',
    '  }',
    '}',
    '',
    'query Me {',
    '  me { role organization { name kind } staffMember { displayName } }',
    '}',
    ''
  ].join('\n');
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      shouldPersistHeaders: false
    })
  );
})();
