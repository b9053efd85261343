#!/bin/sh
# Copies the web page's two libraries from the npm registry into bridge/static/vendor/
# (committed: nothing is fetched at run time, no CDN): markdown-it renders Markdown,
# DOMPurify sanitises the HTML it makes. Pinned versions; rerun after changing them.
#   scripts/vendor-web.sh
set -eu
MARKDOWN_IT=markdown-it@14.3.3
DOMPURIFY=dompurify@3.5.0
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/bridge/static/vendor"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "$MARKDOWN_IT" "$DOMPURIFY" >/dev/null
for archive in *.tgz; do
  mkdir "${archive%.tgz}"
  tar xzf "$archive" -C "${archive%.tgz}" --strip-components=1
done
mkdir -p "$out"
cp markdown-it-*/dist/markdown-it.min.js "$out/markdown-it.min.js"
cp markdown-it-*/LICENSE "$out/LICENSE.markdown-it"
cp dompurify-*/dist/purify.es.mjs "$out/purify.es.js"
cp dompurify-*/LICENSE "$out/LICENSE.dompurify"
sed -i "/sourceMappingURL/d" "$out/markdown-it.min.js" "$out/purify.es.js"
printf '%s\n%s\n' "$MARKDOWN_IT" "$DOMPURIFY" > "$out/VERSIONS"
echo "vendored $MARKDOWN_IT and $DOMPURIFY into $out"
