#!/usr/bin/env bash
# Regenerates the Node client's TypeScript, clients/node/src/gen/, from
# api/tagger/v1/*.proto (with google/rpc/status.proto, which they import) and
# clients/node/proto/google/rpc/error_details.proto (the error details the
# client decodes; not in tools/proto). Run by scripts/gen.sh; also runs alone.
#
# The plugin is protoc-gen-es, pinned in clients/node/package-lock.json and
# run through the pinned buf (tools/go.mod) with clients/node/buf.gen.yaml.
# The output is committed and must not change when regenerated (CI checks),
# so when node_modules is missing, or holds another protoc-gen-es than the
# lock file, `npm ci` installs the pinned one first.
set -euo pipefail
cd "$(dirname "$0")/.."
node_dir=clients/node
buf() { go tool -modfile=tools/go.mod buf "$@"; }

want=$(node -p 'require("./'"$node_dir"'/package-lock.json").packages["node_modules/@bufbuild/protoc-gen-es"].version')
have=$(node -p 'try { require("./'"$node_dir"'/node_modules/@bufbuild/protoc-gen-es/package.json").version } catch { "" }')
if [ "$have" != "$want" ] || [ ! -x "$node_dir/node_modules/.bin/protoc-gen-es" ]; then
  echo "gen-ts.sh: installing the pinned npm packages (npm ci in $node_dir)" >&2
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

out=$node_dir/src/gen
rm -rf "$out"
buf generate --template "$node_dir/buf.gen.yaml" --path api/tagger
buf generate --template "$node_dir/buf.gen.yaml" "$node_dir/proto"
