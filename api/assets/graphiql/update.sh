#!/usr/bin/env bash
# Refreshes the vendored GraphiQL build from the npm registry (see README.md).
set -euo pipefail
graphiql="${1:?graphiql version, e.g. 4.1.2}"
react="${2:?react version, e.g. 18.3.1}"
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "graphiql@$graphiql" "react@$react" "react-dom@$react" >/dev/null
for t in *.tgz; do mkdir "${t%.tgz}"; tar xzf "$t" -C "${t%.tgz}"; done
cp "graphiql-$graphiql/package/graphiql.min.js" "graphiql-$graphiql/package/graphiql.min.css" "$here/"
cp "react-$react/package/umd/react.production.min.js" "$here/"
cp "react-dom-$react/package/umd/react-dom.production.min.js" "$here/"
cd "$here"
sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js > SHA256SUMS
echo "updated to graphiql@$graphiql, react@$react; now update README.md and the versions in init.js if needed"
